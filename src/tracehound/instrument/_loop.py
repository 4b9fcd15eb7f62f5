"""Event-loop lag: how late a task that only sleeps wakes up.

A task sleeps ``interval_s`` again and again; whatever it oversleeps is time the loop's thread
spent on something that did not yield (a bcrypt hash, ``time.sleep``, a sync driver). The
monitor keeps the running total of that lag, so that a request can be charged the lag that
happened while it ran, plus the stall that had just ended (or was still going on) when it began:
a cheap request queued behind a blocking one does nothing slow itself, it only starts late.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

#: How far back the "largest recent lag" gauge looks.
RECENT_S = 1.0


class LoopMonitor:
    """Measures the lag of one event loop; start it from inside the loop."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        #: Called with each tick's lag (a histogram's ``observe``), when set.
        self.observe: Callable[[float], None] | None = None
        self.total_s = 0.0
        #: When the current sleep should end (perf_counter), while the monitor runs.
        self._due: float | None = None
        self._last_end = 0.0
        self._last_lag = 0.0
        self._recent: deque[tuple[float, float]] = deque(maxlen=max(8, int(4 * RECENT_S / interval_s)))
        self._task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Begin watching the running loop (again, if the loop changed); a no-op when already watching it."""
        loop = asyncio.get_running_loop()
        if self.loop is loop and self._task is not None and not self._task.done():
            return
        self.loop = loop
        self._task = loop.create_task(self._run(), name="tracehound-loop-lag")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._due = None
        self.loop = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        try:
            while True:
                self._due = time.perf_counter() + self.interval_s
                await asyncio.sleep(self.interval_s)
                end = time.perf_counter()
                lag = max(0.0, end - self._due)
                self.total_s += lag
                self._last_end, self._last_lag = end, lag
                self._recent.append((end, lag))
                if self.observe is not None:
                    self.observe(lag)
        finally:  # cancelled, or its loop closed: the next request on a live loop starts it again
            if self._task is None or self._task is asyncio.current_task():
                self._due = None
                self.loop = None
                self._task = None

    # -- what a request asks --------------------------------------------------------------------
    def overdue(self, now: float) -> float:
        """How late the monitor is right now: a stall still going on, or just ended and not yet seen."""
        return max(0.0, now - self._due) if self._due is not None else 0.0

    def lag_since(self, start: float, total0: float, now: float) -> float:
        """The lag a request saw from ``start`` (when :attr:`total_s` was ``total0``) to ``now``.

        That is the lag counted since it began (a tick that ends after ``start`` counts its whole
        stall, also the part before), the stall still in progress, and the stall of the tick that
        had ended just before it began: what delayed its start.
        """
        due = self._due
        lag = self.total_s - total0
        if due is not None and now > due:
            lag += now - due
        if self._last_end <= start:  # the usual case: no tick since the request began
            before = self._last_lag if start - self._last_end <= 2 * self.interval_s else 0.0
            return lag + before
        for end, tick in reversed(self._recent):
            if end <= start:
                return lag + (tick if start - end <= 2 * self.interval_s else 0.0)
        return lag

    def recent_max(self, now: float | None = None) -> float:
        """The largest lag of the last :data:`RECENT_S` seconds, the stall in progress included."""
        now = time.perf_counter() if now is None else now
        worst = max((lag for end, lag in self._recent if now - end <= RECENT_S), default=0.0)
        return max(worst, self.overdue(now))
