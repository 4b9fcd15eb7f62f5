"""What :func:`tracehound.instrument.instrument` installs on one app: metrics, pool hooks, loop monitor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracehound.instrument._loop import LoopMonitor
from tracehound.instrument._metrics import Metrics
from tracehound.instrument._pool import PoolWatch, pool_name
from tracehound.instrument._timing import queue_seconds

#: Requests without an ``X-Request-Start`` stamp after which it is no longer looked for.
QUEUE_PROBE = 200


class Instrumentation:
    """What :func:`instrument` installed on one app: its metrics, pool hooks and loop monitor."""

    def __init__(self, engines: Sequence[Any] = (), *, metrics_path: str | None = "/metrics",
                 server_timing: bool = True, loop: bool = True, loop_interval_s: float = 0.02, queue: bool = True,
                 requests: bool = False) -> None:
        if metrics_path is not None and not metrics_path.startswith("/"):
            raise ValueError("metrics_path must start with '/' (or be None for no endpoint)")
        if not 0.001 <= loop_interval_s <= 1.0:
            raise ValueError("loop_interval_s must be between 0.001 and 1 second")
        self.metrics = Metrics(requests=requests)
        self.metrics_path = metrics_path
        self.server_timing = server_timing
        self.queue = queue
        self._unstamped = 0
        taken: set[str] = set()
        self.pools = [PoolWatch(e, pool_name(e, taken), self.metrics) for e in engines]
        for w in self.pools:
            self.metrics.add_pool(w)
        self.has_db = bool(self.pools)
        self.loop_interval_s = loop_interval_s
        self._loop = loop
        self.monitor: LoopMonitor | None = None

    def for_asgi(self) -> Instrumentation:
        """Turn on the loop monitor (ASGI apps run on an event loop; WSGI apps do not)."""
        if self._loop and self.monitor is None:
            self.monitor = LoopMonitor(self.loop_interval_s)
            self.metrics.watch_loop(self.monitor)
        return self

    def queued(self, stamp: str | bytes | None) -> float | None:
        """Seconds since a gateway's ``X-Request-Start`` stamp; a gateway that sets none on the first
        :data:`QUEUE_PROBE` requests sets none at all, and the header is no longer looked for."""
        if stamp is None:
            self._unstamped += 1
            if self._unstamped >= QUEUE_PROBE:
                self.queue = False
            return None
        return queue_seconds(stamp)

    def metrics_text(self) -> bytes:
        return self.metrics.text()
