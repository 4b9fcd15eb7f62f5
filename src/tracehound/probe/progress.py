"""Live progress of a probe: snapshots every half second, read from the record buffer's new tail."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from tracehound.probe.records import ERROR_KINDS, I_KIND, I_STATUS, RecordBuffer


@dataclass
class Progress:
    """A live snapshot, every half second or so."""

    elapsed_s: float
    planned_s: float | None
    issued: int
    completed: int
    inflight: int
    rps: float
    failed: int
    failures: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None
    window_ms: list[float] | None = field(default=None, repr=False)


class ProgressTracker:
    """Cumulative failure counts and windowed latency, read from the buffer's new tail."""

    def __init__(self, buf: RecordBuffer) -> None:
        self.buf = buf
        self.pos = 0
        self.failures: dict[str, int] = {}
        self.failed = 0
        self.last_t = time.perf_counter()

    def snapshot(self, issued: int | None, inflight: int, planned: float | None, t0: float) -> Progress:
        """Progress since the last snapshot; ``issued`` None counts the records instead."""
        b = self.buf
        n = len(b)
        lo = self.pos
        self.pos = n
        now = time.perf_counter()
        dt = max(now - self.last_t, 1e-6)
        self.last_t = now
        p50 = p99 = None
        window: list[float] | None = None
        if n > lo:
            rows = b.rows(lo, n)
            ts = b.timestamps(lo, n)
            status = rows[:, I_STATUS]
            kinds = rows[:, I_KIND]
            total = (ts[:, 2] - ts[:, 0]) / 1e6
            for k, c in zip(*np.unique(kinds[kinds >= 0], return_counts=True), strict=True):
                name = ERROR_KINDS[int(k)]
                if name != "cancelled":
                    self.failures[name] = self.failures.get(name, 0) + int(c)
                    self.failed += int(c)
            http = status[(kinds < 0) & (status >= 400)]
            for s_, c in zip(*np.unique(http, return_counts=True), strict=True):
                key = f"http_{int(s_)}"
                self.failures[key] = self.failures.get(key, 0) + int(c)
                self.failed += int(c)
            p50, p99 = (float(x) for x in np.percentile(total, [50, 99]))
            window = total[:: max(1, total.size // 2000)].tolist()
        return Progress(
            elapsed_s=time.perf_counter() - t0,
            planned_s=planned,
            issued=issued if issued is not None else n,
            completed=n,
            inflight=inflight,
            rps=(n - lo) / dt,
            failed=self.failed,
            failures=dict(self.failures),
            p50_ms=p50,
            p99_ms=p99,
            window_ms=window,
        )


def combine(parts: list[Progress], elapsed: float) -> Progress:
    """One snapshot of several workers' latest ones."""
    failures: dict[str, int] = {}
    for p in parts:
        for k, v in p.failures.items():
            failures[k] = failures.get(k, 0) + v
    window = [x for p in parts for x in (p.window_ms or [])]
    p50 = p99 = None
    if window:
        p50, p99 = (float(x) for x in np.percentile(window, [50, 99]))
    return Progress(
        elapsed_s=elapsed,
        planned_s=parts[0].planned_s if parts else None,
        issued=sum(p.issued for p in parts),
        completed=sum(p.completed for p in parts),
        inflight=sum(p.inflight for p in parts),
        rps=sum(p.rps for p in parts),
        failed=sum(p.failed for p in parts),
        failures=failures,
        p50_ms=p50,
        p99_ms=p99,
    )
