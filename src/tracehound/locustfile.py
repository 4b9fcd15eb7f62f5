"""The entry point of ``probe --engine locust``'s processes: ``python -m tracehound.locustfile master|worker …``.

Started by :mod:`tracehound.probe.distributed` or by ``tracehound locust-worker``; the work is done
in :mod:`tracehound.probe.locust`. Importing Locust monkey-patches the standard library with
gevent, so this module never enters a process that runs asyncio, and it imports Locust first,
before anything that imports ``ssl`` (``tracehound.probe`` does): that is why it lives outside
:mod:`tracehound.probe`.
"""

from __future__ import annotations

import importlib
import sys

#: What :mod:`tracehound.probe.locust` needs, Locust first: importing it monkey-patches the standard
#: library with gevent. Any of them missing is the same one error line to the parent.
_LOCUST_MODULES = ("locust", "locust.env", "locust.exception", "locust.runners", "gevent.event", "gevent.pool")

try:
    for _name in _LOCUST_MODULES:
        importlib.import_module(_name)
except ImportError as _e:  # pragma: no cover - exercised through a subprocess
    import json as _json

    print(_json.dumps({"event": "error", "kind": "missing",
                       "line": f"the locust engine needs Locust, which cannot be imported ({_e})"}), flush=True)
    raise SystemExit(3) from None

from tracehound.probe.locust.main import main, worker_main  # noqa: E402 - only once Locust has patched ssl
from tracehound.probe.locust.master import master_main  # noqa: E402 - see above

__all__ = ["main", "master_main", "worker_main"]

if __name__ == "__main__":
    sys.exit(main())
