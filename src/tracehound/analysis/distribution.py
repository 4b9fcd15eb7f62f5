"""What happened: the status and error distribution, and latency for successes and failures apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracehound.analysis.frame import Frame
from tracehound.probe.records import ERROR_KINDS


@dataclass
class Percentiles:
    """Latency percentiles in milliseconds of one group of requests."""

    count: int
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    max: float | None = None
    mean: float | None = None

    @classmethod
    def of(cls, values_ms: ArrayLike) -> Percentiles:
        v = np.asarray(values_ms, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return cls(0)
        p50, p90, p99 = np.percentile(v, [50, 90, 99])
        return cls(int(v.size), float(p50), float(p90), float(p99), float(v.max()), float(v.mean()))

    def brief(self) -> str:
        if not self.count:
            return "none"
        return f"p50 {self.p50:.0f} ms, p90 {self.p90:.0f} ms, p99 {self.p99:.0f} ms (n={self.count})"


@dataclass
class Distribution:
    requests: int
    failed: int
    cancelled: int
    #: Failures never sent because an earlier step of the flow failed to capture a value.
    cascaded: int
    #: Failed / (requests − cancelled).
    failure_rate: float
    #: Every status seen (0 = no response), cancelled requests left out.
    statuses: dict[int, int] = field(default_factory=dict)
    #: Statuses of the failures that got a response.
    failure_statuses: dict[int, int] = field(default_factory=dict)
    #: Error kinds among the failures (no response, or a capture that found nothing).
    error_kinds: dict[str, int] = field(default_factory=dict)
    latency_ok: Percentiles = field(default_factory=lambda: Percentiles(0))
    latency_failed: Percentiles = field(default_factory=lambda: Percentiles(0))
    #: Failures on the wire: ``failed − cascaded``; the base of every share below.
    primary: int = 0

    def status_share(self, status: int) -> float:
        """Share of the primary failures that answered with ``status``."""
        return self.failure_statuses.get(status, 0) / self.primary if self.primary else 0.0

    def error_share(self, *kinds: str) -> float:
        return sum(self.error_kinds.get(k, 0) for k in kinds) / self.primary if self.primary else 0.0


def _counts(values: NDArray[np.integer[Any]], minlength: int = 0) -> dict[int, int]:
    if values.size == 0:
        return {}
    c = np.bincount(values, minlength=minlength)
    nz = np.flatnonzero(c)
    return {int(i): int(c[i]) for i in nz}


def distribution(frame: Frame, rows: NDArray[np.bool_] | None = None) -> Distribution:
    """Status and error counts and latency percentiles of a frame (or of the rows a mask selects)."""
    sel = np.ones(frame.n, bool) if rows is None else rows
    counted = sel & frame.counted
    failed = sel & frame.failed
    primary = failed & ~frame.cascaded
    status = np.clip(frame.status, 0, 999)
    err = frame.error
    kinds = _counts(err[primary & (err >= 0)].astype(np.int64), len(ERROR_KINDS))
    n_counted = int(counted.sum())
    n_failed = int(failed.sum())
    return Distribution(
        requests=int(sel.sum()),
        failed=n_failed,
        cancelled=int((sel & frame.cancelled).sum()),
        cascaded=int((failed & frame.cascaded).sum()),
        failure_rate=n_failed / n_counted if n_counted else 0.0,
        statuses=_counts(status[counted]),
        failure_statuses=_counts(status[primary & (status > 0)]),
        error_kinds={ERROR_KINDS[k]: v for k, v in kinds.items()},
        latency_ok=Percentiles.of(frame.latency_ms[sel & frame.ok]),
        latency_failed=Percentiles.of(frame.latency_ms[primary]),
        primary=int(primary.sum()),
    )


__all__ = ["Distribution", "Percentiles", "distribution"]
