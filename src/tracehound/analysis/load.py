"""Load dependence: failures and latency against the number of requests in flight, and the knee.

Requests are binned by in-flight count on a log₂ scale (1, 2, 3–4, 5–8, …): a concurrency sweep
puts each level in its own bin, an open-model run spreads over several. The failure rate's rise
over the bins is tested with Cochran–Armitage; the knee is the bin boundary that best splits a
lower rate below from a higher one above (binomial likelihood). Latency of the successes is
fitted as ``p50 ∝ inflight^β``: β ≈ 1 means the work is serialised somewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracehound.analysis.stats import (
    fisher_greater,
    mann_whitney_greater,
    relative_rise,
    trend_test,
)

MIN_BIN = 5
_MW_SAMPLE = 20_000


@dataclass
class Level:
    """One in-flight bin."""

    lo: int
    hi: int
    requests: int
    failures: int
    ok: int
    ok_p50_ms: float | None
    #: The geometric mean of the bin's in-flight counts.
    typical: float = 0.0

    @property
    def rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def label(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}–{self.hi}"


@dataclass
class LoadDependence:
    levels: list[Level] = field(default_factory=list)
    #: Cochran–Armitage z and one-sided p of the failure rate rising with log₂(in flight).
    z: float = 0.0
    p: float = 1.0
    #: The in-flight count from which failures are more common (None: no split helps).
    knee: int | None = None
    below: tuple[int, int] = (0, 0)  # (failures, requests) below the knee
    above: tuple[int, int] = (0, 0)
    #: β of ok p50 ∝ inflight^β, the ratio of the highest level's p50 to the lowest's, and its p.
    latency_slope: float | None = None
    latency_ratio: float | None = None
    latency_delta_ms: float | None = None
    latency_p: float = 1.0

    @property
    def tested(self) -> bool:
        """At least two in-flight levels with enough requests each."""
        return len(self.levels) >= 2

    @property
    def rise(self) -> float:
        """How much of the failure rate above the knee disappears below it, cautiously (0–1)."""
        return relative_rise(self.above[0], self.above[1], self.below[0], self.below[1])

    @property
    def failures_rise(self) -> bool:
        return self.tested and self.knee is not None and self.p < 1e-3 and self.above[0] >= 3 and self.rise > 0.2

    @property
    def latency_rises(self) -> bool:
        return (self.latency_slope is not None and self.latency_ratio is not None and self.latency_delta_ms is not None
                and self.latency_slope >= 0.3 and self.latency_ratio >= 2 and self.latency_delta_ms >= 25
                and self.latency_p < 1e-3)


_LEVELS = np.ceil(np.log2(np.maximum(np.arange(1 << 16), 1))).astype(np.int8)


def level_of(inflight: ArrayLike) -> NDArray[np.int64]:
    """The log₂ bin of an in-flight count: 1 → 0, 2 → 1, 3–4 → 2, 5–8 → 3 … (a table look-up)."""
    x = np.asarray(inflight)
    if x.size and x.max() < _LEVELS.size:
        looked_up: NDArray[np.int64] = _LEVELS[np.maximum(x, 1)].astype(np.int64)
        return looked_up
    return np.ceil(np.log2(np.maximum(x.astype(np.float64), 1.0))).astype(np.int64)


def load_dependence(inflight: NDArray[np.integer[Any]], failed: NDArray[np.bool_], counted: NDArray[np.bool_],
                    ok: NDArray[np.bool_], latency_ms: NDArray[np.floating[Any]]) -> LoadDependence:
    """Failure rate and success latency by in-flight bin; rows with an unknown in-flight (-1) are left out."""
    inflight = np.asarray(inflight)
    use = counted & (inflight > 0)
    out = LoadDependence()
    if use.sum() < 2 * MIN_BIN:
        return out
    b = level_of(inflight[use])
    f = np.asarray(failed)[use]
    o = np.asarray(ok)[use]
    lat = np.asarray(latency_ms)[use]
    nb = int(b.max()) + 1
    n = np.bincount(b, minlength=nb)
    k = np.bincount(b, weights=f, minlength=nb).astype(np.int64)
    geo = np.exp(np.bincount(b, weights=np.log(np.maximum(inflight[use], 1)), minlength=nb) / np.maximum(n, 1))
    nok = np.bincount(b, weights=o, minlength=nb).astype(np.int64)
    present = np.flatnonzero(n >= MIN_BIN)
    if present.size < 2:
        return out
    ok_sorted_bins: dict[int, NDArray[np.floating[Any]]] = {}
    lat_ok_b = b[o & np.isfinite(lat)]
    lat_ok = lat[o & np.isfinite(lat)]
    if lat_ok.size:
        oo = np.argsort(lat_ok_b.astype(np.int16), kind="stable")
        lat_ok_b, lat_ok = lat_ok_b[oo], lat_ok[oo]
        starts = np.searchsorted(lat_ok_b, present, "left")
        ends = np.searchsorted(lat_ok_b, present, "right")
        for j, s, e in zip(present, starts, ends, strict=True):
            ok_sorted_bins[int(j)] = lat_ok[s:e]
    for j in present:
        vals = ok_sorted_bins.get(int(j), np.zeros(0))
        lo = 1 if j == 0 else 2 ** (j - 1) + 1
        out.levels.append(Level(lo=int(lo), hi=int(2**j), requests=int(n[j]), failures=int(k[j]), ok=int(nok[j]),
                                ok_p50_ms=float(np.median(vals)) if vals.size else None, typical=float(geo[j])))
    kk, nn = k[present], n[present]
    out.z, out.p = trend_test(kk, nn, present.astype(np.float64))
    _knee(out, kk, nn)
    _latency(out, [ok_sorted_bins.get(int(j), np.zeros(0)) for j in present])
    return out


def _knee(out: LoadDependence, k: NDArray[np.integer[Any]], n: NDArray[np.integer[Any]]) -> None:
    K, N = int(k.sum()), int(n.sum())
    best, best_gain = None, 0.0
    ck, cn = np.cumsum(k), np.cumsum(n)
    for j in range(1, k.size):
        kb, nb = int(ck[j - 1]), int(cn[j - 1])
        ka, na = K - kb, N - nb
        if ka / na <= kb / nb:
            continue
        gain = _ll(kb, nb) + _ll(ka, na) - _ll(K, N)
        if gain > best_gain:
            best, best_gain = j, gain
    if best is None:
        return
    kb, nb = int(ck[best - 1]), int(cn[best - 1])
    if fisher_greater(K - kb, N - nb, kb, nb) > 1e-3:
        return
    out.knee = out.levels[best].lo
    out.below = (kb, nb)
    out.above = (K - kb, N - nb)


def _ll(k: int, n: int) -> float:
    if n == 0 or k == 0 or k == n:
        return 0.0
    p = k / n
    return k * math.log(p) + (n - k) * math.log(1 - p)


def _latency(out: LoadDependence, ok_lat: list[NDArray[np.floating[Any]]]) -> None:
    pts = [(lv.typical, p50, v) for lv, v in zip(out.levels, ok_lat, strict=False)
           if v.size >= MIN_BIN and (p50 := lv.ok_p50_ms) is not None and p50 > 0]
    if len(pts) < 2:
        return
    x = np.log([typical for typical, _, _ in pts])
    y = np.log([p50 for _, p50, _ in pts])
    w = np.log1p([v.size for _, _, v in pts])
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    sxx = float((w * (x - xm) ** 2).sum())
    out.latency_slope = float((w * (x - xm) * (y - ym)).sum() / sxx) if sxx > 0 else None
    (_, lo_p50, lo_v), (_, hi_p50, hi_v) = pts[0], pts[-1]
    out.latency_ratio = hi_p50 / lo_p50
    out.latency_delta_ms = hi_p50 - lo_p50
    rng = np.random.default_rng(0)
    a = hi_v if hi_v.size <= _MW_SAMPLE else rng.choice(hi_v, _MW_SAMPLE, replace=False)
    b = lo_v if lo_v.size <= _MW_SAMPLE else rng.choice(lo_v, _MW_SAMPLE, replace=False)
    out.latency_p = mann_whitney_greater(a, b)[1]


@dataclass
class Sequential:
    """Requests sent one at a time against requests sent concurrently."""

    alone: tuple[int, int]  # (failures, requests)
    together: tuple[int, int]

    @property
    def tested(self) -> bool:
        return self.alone[1] >= 10

    @property
    def absent(self) -> bool:
        """(Almost) no failure alone: a tenth of the rate together at most, significantly fewer."""
        (ka, na), (kt, nt) = self.alone, self.together
        return (self.tested and kt >= 3 and ka / na <= 0.1 * kt / nt and fisher_greater(kt, nt, ka, na) < 0.01)

    @property
    def present(self) -> bool:
        return self.tested and self.alone[0] >= 2 and not self.absent

    @property
    def absent_strength(self) -> float:
        return relative_rise(self.together[0], self.together[1], self.alone[0], self.alone[1]) if self.absent else 0.0

    @property
    def falls(self) -> bool:
        """Failures mostly alone: at least twice the rate together, significantly more (a quiet service fails)."""
        (ka, na), (kt, nt) = self.alone, self.together
        return (self.tested and ka >= 3 and nt >= 10 and ka / na >= 2 * kt / nt
                and fisher_greater(ka, na, kt, nt) < 0.01)

    @property
    def falls_strength(self) -> float:
        return relative_rise(self.alone[0], self.alone[1], self.together[0], self.together[1]) if self.falls else 0.0


def sequential(failed: NDArray[np.bool_], alone: NDArray[np.bool_], together: NDArray[np.bool_]) -> Sequential:
    """Failure counts of two masks of requests: sent one at a time, and sent with others in flight."""
    f = np.asarray(failed)
    return Sequential(alone=(int((f & alone).sum()), int(alone.sum())),
                      together=(int((f & together).sum()), int(together.sum())))


@dataclass
class ThroughputPoint:
    concurrency: int
    ok_per_s: float
    requests: int


@dataclass
class Throughput:
    points: list[ThroughputPoint] = field(default_factory=list)

    @property
    def tested(self) -> bool:
        return len(self.points) >= 2 and self.concurrency_ratio >= 3

    @property
    def concurrency_ratio(self) -> float:
        if len(self.points) < 2:
            return 1.0
        return self.points[-1].concurrency / self.points[0].concurrency

    @property
    def gain(self) -> float:
        """Goodput at the highest concurrency over the best goodput at the lowest."""
        if len(self.points) < 2 or self.points[0].ok_per_s <= 0:
            return 1.0
        return max(p.ok_per_s for p in self.points[1:]) / self.points[0].ok_per_s

    @property
    def flatness(self) -> float:
        """1 when concurrency brought no more successes per second, 0 when they grew in proportion."""
        if not self.tested:
            return 0.0
        return float(np.clip(1 - math.log(max(self.gain, 1e-9)) / math.log(self.concurrency_ratio), 0, 1))


def throughput(concurrency: ArrayLike, ok: ArrayLike, seconds: ArrayLike, requests: ArrayLike) -> Throughput:
    """Successes per second by concurrency level, from per-run totals (one entry per run)."""
    c = np.asarray(concurrency, dtype=np.int64)
    out = Throughput()
    for lv in np.unique(c[c > 0]):
        m = c == lv
        secs = float(np.asarray(seconds)[m].sum())
        if secs <= 0:
            continue
        out.points.append(ThroughputPoint(int(lv), float(np.asarray(ok)[m].sum()) / secs,
                                          int(np.asarray(requests)[m].sum())))
    return out


__all__ = ["Level", "LoadDependence", "Sequential", "Throughput", "ThroughputPoint", "level_of", "load_dependence",
           "sequential", "throughput"]
