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
    """Seconds spent in each phase of one request so far."""

    start: float
    #: Waiting for (or opening) a pooled database connection.
    pool_s: float = 0.0
    #: Inside cursor executes.
    db_s: float = 0.0
    queries: int = 0
    #: Between a gateway's request-start stamp and the app seeing the request; None without a stamp.
    queue_s: float | None = None
    #: Event-loop lag seen while the request ran (None where there is no loop monitor).
    loop_s: float | None = None

    def header(self, app_s: float, with_db: bool) -> bytes:
        """``app;dur=…, pool;dur=…, db;dur=…, loop;dur=…, queue;dur=…`` (milliseconds)."""
        text = f"app;dur={app_s * 1000:.1f}"
        if with_db:
            text += f", pool;dur={self.pool_s * 1000:.1f}, db;dur={self.db_s * 1000:.1f}"
        if self.loop_s is not None:
            text += f", loop;dur={self.loop_s * 1000:.1f}"
        if self.queue_s is not None:
            text += f", queue;dur={self.queue_s * 1000:.1f}"
        return text.encode()


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
