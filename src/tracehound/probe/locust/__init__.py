"""Locust's side of ``probe --engine locust``: tracehound's users, load shape and request recorder.

Run only through :mod:`tracehound.locustfile` (``python -m tracehound.locustfile master|worker …``),
started by :mod:`tracehound.probe.distributed` or by ``tracehound locust-worker``. Importing any
module of this package imports Locust, which monkey-patches the standard library with gevent: it
never enters a process that runs asyncio, and ``tracehound.locustfile`` imports Locust before
anything that imports ``ssl``. This ``__init__`` imports nothing, so that naming the package does
not patch anything.

The master and its workers talk over Locust's message channel::

    worker → th_hello   {pid, host}                   master → th_spec {spec, index}
    master → th_go      {quota, share}                (users spawned: the worker's clock starts)
    worker → th_records {index, part, data, stats}    a Parquet shard, every FLUSH_S
    master → th_stop    {interrupted}                 (Ctrl-C, or the hard deadline)
    worker → th_done    {index, counts}               its quota or time used up, nothing in flight

The master writes each shard as ``<parts>/worker-<index>-<part>.parquet`` as it arrives (so a
worker that dies keeps what it flushed) and reports to its parent as JSON lines on stdout.

One module per noun: :mod:`.channel` (the JSON lines to the parent, the spec's shape),
:mod:`.connections` (which pooled socket carried a request), :mod:`.worker` (a worker's share:
admission, clock, recorder), :mod:`.users` (the Locust users and the stages shape),
:mod:`.master` (the master), :mod:`.main` (the two processes' entry points).
"""
