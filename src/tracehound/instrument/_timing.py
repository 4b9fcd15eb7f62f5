"""The phases of one request, collected while it runs and written as a ``Server-Timing`` header.

The middleware puts a :class:`RequestTimings` in a context variable when a request begins; the
pool hooks and the statement hooks add to it from wherever the request's work runs. Context
variables follow the work into Starlette's thread pool and SQLAlchemy's greenlets as a *copy*
of the context, so the object is mutated, never replaced: the copy points at the same one.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

#: A request-start stamp further than this from now is clock skew, not queueing.
MAX_QUEUE_S = 3600.0


@dataclass(slots=True)
class RequestTimings:
    """Seconds one request has spent so far in the phases the pool and statement hooks measure."""

    start: float
    #: Waiting for (or opening) a pooled database connection.
    pool_s: float = 0.0
    #: Inside cursor executes.
    db_s: float = 0.0
    queries: int = 0



def server_timing(app_s: float, loop_s: float | None, queue_s: float | None, db: RequestTimings | None) -> bytes:
    """``app;dur=…, pool;dur=…, db;dur=…, loop;dur=…, queue;dur=…`` in milliseconds, the phases
    known; formatted straight to bytes, since it runs for every response."""
    if db is None and queue_s is None and loop_s is not None:  # an ASGI app without an engine
        return b"app;dur=%.1f, loop;dur=%.1f" % (app_s * 1000.0, loop_s * 1000.0)
    out = b"app;dur=%.1f" % (app_s * 1000.0)
    if db is not None:
        out += b", pool;dur=%.1f, db;dur=%.1f" % (db.pool_s * 1000.0, db.db_s * 1000.0)
    if loop_s is not None:
        out += b", loop;dur=%.1f" % (loop_s * 1000.0)
    if queue_s is not None:
        out += b", queue;dur=%.1f" % (queue_s * 1000.0)
    return out


CURRENT: ContextVar[RequestTimings | None] = ContextVar("tracehound_request_timings", default=None)


def queue_seconds(stamp: str | bytes | None, now: float | None = None) -> float | None:
    """Seconds since a gateway's ``X-Request-Start`` stamp, or None when absent or implausible.

    Gateways write it as ``t=<seconds>`` (nginx's ``t=${msec}``), or as milliseconds or
    microseconds since the epoch; the magnitude tells which.
    """
    if not stamp:
        return None
    text = stamp.decode("latin-1") if isinstance(stamp, bytes) else stamp
    text = text.strip()
    if text.startswith("t="):
        text = text[2:]
    try:
        value = float(text)
    except ValueError:
        return None
    if value > 1e14:
        value /= 1e6
    elif value > 1e11:
        value /= 1e3
    waited = (time.time() if now is None else now) - value
    return waited if 0 <= waited <= MAX_QUEUE_S else None
