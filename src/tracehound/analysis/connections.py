"""Connection structure: failures on reused against new connections, and after idle time.

Two clocks of idleness are measured: how long the request's own keep-alive connection sat idle
(``conn_idle_ms``: a server or proxy that closes idle connections earlier than the client
expects), and how long the whole traffic had been quiet before it (the service's pooled
resources — database connections, upstream keep-alives — go stale when nothing uses them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracehound.analysis.stats import rate_gap, rate_greater, relative_rise, saturate

GAP_MS = 1000.0
STEADY_MS = 250.0
#: Idle thresholds tried when none is given: the shortest against steady traffic, the longer ones
#: against every request after a shorter gap.
GAP_THRESHOLDS_MS = (GAP_MS, 5000.0, 15000.0)
BUCKETS_MS = (0.0, STEADY_MS, GAP_MS, 5000.0, np.inf)
#: The p-value under which failures after gaps count as more frequent than in steady traffic.
SIGNIFICANT_P = 0.01


@dataclass
class Bucket:
    lo_ms: float
    hi_ms: float
    failures: int
    requests: int

    @property
    def label(self) -> str:
        hi = "∞" if not np.isfinite(self.hi_ms) else f"{self.hi_ms / 1000:g}"
        return f"{self.lo_ms / 1000:g}–{hi} s"


@dataclass
class GapEffect:
    """Failures after an idle gap of at least ``gap_ms`` against failures in steady traffic."""

    measure: str
    gap_ms: float
    after_gap: tuple[int, int]  # (failures, requests)
    steady: tuple[int, int]
    p: float
    buckets: list[Bucket] = field(default_factory=list)
    rows: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp), repr=False)
    #: Whether the failures seen could have shown the effect: with every one of them after a gap,
    #: the test would have been significant. Too few failures to decide leave it untested.
    powered: bool = True

    @property
    def tested(self) -> bool:
        return self.after_gap[1] >= 2 and self.steady[1] >= 10 and self.powered

    @property
    def significant(self) -> bool:
        return self.tested and self.after_gap[0] >= 2 and self.p < SIGNIFICANT_P and self.effect > 0

    @property
    def effect(self) -> float:
        """Cautious rate difference: after gaps against steady traffic."""
        return max(0.0, rate_gap(*self.after_gap, *self.steady))


def gap_effect(idle_ms: ArrayLike, failed: NDArray[np.bool_], counted: NDArray[np.bool_], measure: str,
               gap_ms: float | None = None, steady_ms: float = STEADY_MS) -> GapEffect:
    """Failure rate after idle gaps against the rest (NaN idle is left out).

    With ``gap_ms`` given: after ``idle_ms ≥ gap_ms`` against ``idle_ms < steady_ms``. Without it,
    each of :data:`GAP_THRESHOLDS_MS` is tried against every request after a shorter gap, and the
    threshold that separates best is kept, its p-value multiplied by the thresholds tried
    (Bonferroni): a timeout of 12 s shows as failures after 5 s or more, which a fixed 1 s line
    dilutes with the many short pauses that never fail.
    """
    idle = np.asarray(idle_ms, dtype=np.float64)
    known = counted & np.isfinite(idle)
    f = np.asarray(failed)
    b = np.searchsorted(BUCKETS_MS, idle[known], side="right") - 1
    nb = np.bincount(b, minlength=len(BUCKETS_MS) - 1)
    kb = np.bincount(b, weights=f[known], minlength=len(BUCKETS_MS) - 1).astype(np.int64)
    buckets = [Bucket(BUCKETS_MS[i], BUCKETS_MS[i + 1], int(kb[i]), int(nb[i])) for i in range(len(BUCKETS_MS) - 1)]
    if gap_ms is not None:
        return _effect(idle, f, known, measure, gap_ms, known & (idle < steady_ms), buckets, 1)
    tried = [t for t in GAP_THRESHOLDS_MS if int((known & (idle >= t)).sum()) >= 2] or [GAP_THRESHOLDS_MS[0]]
    effects = [_effect(idle, f, known, measure, t, known & (idle < (steady_ms if t == GAP_MS else t)), buckets,
                       len(tried)) for t in tried]
    return min(effects, key=lambda g: (g.p, -g.gap_ms))


def _effect(idle: NDArray[np.float64], f: NDArray[np.bool_], known: NDArray[np.bool_], measure: str, gap_ms: float,
            reference: NDArray[np.bool_], buckets: list[Bucket], tests: int) -> GapEffect:
    gap = known & (idle >= gap_ms)
    kg, ng = int((f & gap).sum()), int(gap.sum())
    ks, ns = int((f & reference).sum()), int(reference.sum())
    p = min(1.0, rate_greater(kg, ng, ks, ns) * tests) if ng and ns else 1.0
    k = kg + ks
    best = min(k, ng)
    powered = bool(ng and ns) and rate_greater(best, ng, k - best, ns) * tests < SIGNIFICANT_P
    return GapEffect(measure, gap_ms, (kg, ng), (ks, ns), p, buckets, np.flatnonzero(f & gap), powered)


@dataclass
class ConnectionStructure:
    reused: tuple[int, int]  # (failures, requests) on reused connections
    new: tuple[int, int]
    #: Dropped connections (reset, closed before the answer) on reused and on new connections.
    dropped_reused: tuple[int, int]
    dropped_new: tuple[int, int]
    p_dropped: float
    quiet: GapEffect | None = None
    idle: GapEffect | None = None

    @property
    def drops(self) -> int:
        return self.dropped_reused[0] + self.dropped_new[0]

    @property
    def reused_share_of_drops(self) -> float:
        return self.dropped_reused[0] / self.drops if self.drops else 0.0

    @property
    def reset_on_reused(self) -> bool:
        """Drops hit reused connections: at least two, nearly all on reused ones, and more often than on new ones."""
        (kr, nr), (kn, nn) = self.dropped_reused, self.dropped_new
        more = kr / nr > (kn / nn if nn else 0.0) if nr else False
        return kr >= 2 and self.reused_share_of_drops >= 0.8 and more and (self.p_dropped < 0.05 or nn < 10)

    @property
    def reset_strength(self) -> float:
        if not self.reset_on_reused:
            return 0.0
        (kr, nr), (kn, nn) = self.dropped_reused, self.dropped_new
        contrast = relative_rise(kr, nr, kn, nn) if nn >= 10 else 0.5
        return float(self.reused_share_of_drops * saturate(kr) * max(contrast, 0.5))


def connection_structure(conn_reused: NDArray[np.integer[Any]], failed: NDArray[np.bool_], counted: NDArray[np.bool_],
                         dropped: NDArray[np.bool_], conn_idle_ms: NDArray[np.floating[Any]] | None = None,
                         quiet_ms: NDArray[np.floating[Any]] | None = None) -> ConnectionStructure:
    """Failures and connection drops by connection reuse, and the effect of idle gaps.

    ``conn_reused`` is 1 / 0 / -1 (unknown); ``dropped`` marks connection-level errors that a closed
    keep-alive connection produces (reset, closed before the answer).
    """
    cr = np.asarray(conn_reused)
    f = np.asarray(failed)
    d = np.asarray(dropped)
    re = counted & (cr == 1)
    nw = counted & (cr == 0)
    kr, nr = int((d & re).sum()), int(re.sum())
    kn, nn = int((d & nw).sum()), int(nw.sum())
    out = ConnectionStructure(
        reused=(int((f & re).sum()), nr), new=(int((f & nw).sum()), nn),
        dropped_reused=(kr, nr), dropped_new=(kn, nn),
        p_dropped=rate_greater(kr, nr, kn, nn) if nr and nn else 1.0,
    )
    if quiet_ms is not None:
        out.quiet = gap_effect(quiet_ms, f, counted, "quiet time of the traffic")
    if conn_idle_ms is not None:
        out.idle = gap_effect(np.where(cr == 1, conn_idle_ms, np.nan), f, counted, "idle time of the connection")
    return out


__all__ = ["Bucket", "ConnectionStructure", "GapEffect", "connection_structure", "gap_effect"]
