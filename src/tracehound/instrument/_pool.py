"""SQLAlchemy hooks: how long requests wait for a pooled connection, and how full the pool is.

The pool has events for a connection handed out (``checkout``), given back (``checkin``),
opened (``connect``) and discarded as broken (``invalidate``), but none for "a caller began to
wait". So the pool's ``connect`` (what the engine calls for every checkout) is wrapped on the
instance: its duration is the wait, including opening a new connection when the pool grows, and
a ``sqlalchemy.exc.TimeoutError`` out of it is a checkout that gave up. Statement time comes
from ``before_cursor_execute``/``after_cursor_execute``. Both are charged to the request in
progress (:data:`~tracehound.instrument._timing.CURRENT`).

An :class:`~sqlalchemy.ext.asyncio.AsyncEngine` is hooked through its ``sync_engine``; after
``engine.dispose()`` the new pool is wrapped again (pool events carry over by themselves).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from tracehound.instrument._timing import CURRENT

_T0 = "tracehound_t0"


@dataclass
class PoolState:
    """The pool as a scrape sees it."""

    checked_out: int
    size: int | None
    max: int | None
    overflow: int | None
    waiting: int


class PoolWatch:
    """The hooks on one engine, and the counts they keep."""

    def __init__(self, engine: Any, name: str, metrics: Any) -> None:
        from sqlalchemy import event

        self.engine = getattr(engine, "sync_engine", engine)
        self.name = name
        self._m = metrics
        self._lock = threading.Lock()
        self._waiting = 0
        self._checked_out = 0
        for ev, fn in (("checkout", self._on_checkout), ("checkin", self._on_checkin), ("connect", self._on_connect),
                       ("invalidate", self._on_invalidate), ("before_cursor_execute", self._before_execute),
                       ("after_cursor_execute", self._after_execute), ("handle_error", self._on_error),
                       ("engine_disposed", self._on_disposed)):
            event.listen(self.engine, ev, fn)
        self._wrap(self.engine.pool)

    # -- the wait for a connection ----------------------------------------------------------------
    def _wrap(self, pool: Any) -> None:
        if getattr(pool, "_tracehound_wrapped", False):
            return
        from sqlalchemy.exc import TimeoutError as PoolTimeout

        original = pool.connect
        wait = self._m.pool_wait.labels(self.name)
        timeouts = self._m.pool_timeouts.labels(self.name)

        def connect() -> Any:
            t0 = time.perf_counter()
            with self._lock:
                self._waiting += 1
            try:
                return original()
            except PoolTimeout:
                timeouts.inc()
                raise
            finally:
                dt = time.perf_counter() - t0
                with self._lock:
                    self._waiting -= 1
                wait.observe(dt)
                req = CURRENT.get()
                if req is not None:
                    req.pool_s += dt

        pool.connect = connect
        pool._tracehound_wrapped = True

    def _on_disposed(self, engine: Any) -> None:
        self._wrap(engine.pool)

    # -- pool events ---------------------------------------------------------------------------
    def _on_checkout(self, *_: Any) -> None:
        with self._lock:
            self._checked_out += 1

    def _on_checkin(self, *_: Any) -> None:
        with self._lock:
            self._checked_out = max(0, self._checked_out - 1)

    def _on_connect(self, *_: Any) -> None:
        self._m.pool_connects.labels(self.name).inc()

    def _on_invalidate(self, *_: Any) -> None:
        self._m.pool_invalidations.labels(self.name).inc()

    # -- statements ----------------------------------------------------------------------------
    def _before_execute(self, conn: Any, *_: Any) -> None:
        conn.info[_T0] = time.perf_counter()

    def _after_execute(self, conn: Any, *_: Any) -> None:
        self._statement_done(conn)

    def _on_error(self, ctx: Any) -> None:
        conn = getattr(ctx, "connection", None)
        if conn is None:
            return
        with contextlib.suppress(Exception):  # an invalidated connection may no longer give its info
            self._statement_done(conn)

    def _statement_done(self, conn: Any) -> None:
        t0 = conn.info.pop(_T0, None)
        if t0 is None:
            return
        dt = time.perf_counter() - t0
        self._m.db_seconds.labels(self.name).observe(dt)
        req = CURRENT.get()
        if req is not None:
            req.db_s += dt
            req.queries += 1

    # -- what a scrape reads ----------------------------------------------------------------------
    def state(self) -> PoolState:
        """Read from the pool where it can tell (QueuePool and its async twin), else from the events."""
        pool = self.engine.pool
        checked_out = _call(pool, "checkedout")
        size = _call(pool, "size")
        overflow = _call(pool, "overflow")
        max_overflow = getattr(pool, "_max_overflow", None)
        most = None
        if isinstance(size, int) and isinstance(max_overflow, int):
            most = None if max_overflow < 0 else size + max_overflow
        with self._lock:
            waiting = self._waiting
            counted = self._checked_out
        return PoolState(checked_out if isinstance(checked_out, int) else counted, size,
                         most, max(0, overflow) if isinstance(overflow, int) else None, waiting)


def _call(obj: Any, name: str) -> Any:
    fn = getattr(obj, name, None)
    if fn is None:
        return None
    try:
        return fn()
    except Exception:  # noqa: BLE001 - a pool without the figure just does not report it
        return None


def pool_name(engine: Any, taken: set[str]) -> str:
    """A short label for an engine's pool: its database's name (no host, no credentials)."""
    url = getattr(getattr(engine, "sync_engine", engine), "url", None)
    base = "db"
    if url is not None:
        db = (url.database or "").replace("\\", "/").rstrip("/").split("/")[-1]
        base = db or url.get_backend_name() or "db"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    taken.add(name)
    return name
