"""``tracehound mcp``: the specialists as tools for an AI assistant, over stdio (Model Context Protocol).

An assistant's orchestrator plays the part the seed cases' orchestrator played: it reads the
symptom, calls ``investigate`` (or ``probe`` and ``analyze_run`` by hand), reads the service's
``logs``, ``review``s its code, ``inspect_db``s its stores, ``explain``s a failure mode and
``verify``s the fix. Every tool answers with structured data and a short text summary.

The load an assistant can send is bounded by :class:`Limits`, fixed by whoever starts the
server and out of the assistant's reach: a cap on each probe's duration, requests,
concurrency and arrival rate, on an investigation's budget, and on the hosts load may go to
(this machine unless ``--allow-host`` widens it). Load-sending calls run one at a time, so
parallel calls cannot add up past the caps. Work runs in worker threads: the event loop keeps
answering while a probe runs.

The package holds one module per tool (``probe``, ``analyze``, ``investigate``, ``logs``,
``review``, ``inspect_db``, ``explain``, ``verify``), registered in :data:`server.TOOLS` order.
"""

from tracehound.mcp.limits import Limits
from tracehound.mcp.server import build_server, serve

__all__ = ["Limits", "build_server", "serve"]
