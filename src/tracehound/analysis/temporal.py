"""Time structure of failures: bursts or an even spread, an onset after a while, a rising trend.

All three look at the failure indicator in the order requests were sent, within one run (or
within segments the caller names: runs of different load must not be mixed, or load would pass
for time).

- **Dispersion**: failures counted in windows of ``m`` consecutive requests. Independent
  failures give binomial counts (index of dispersion ≈ 1); bursts give far more variance
  (index ≫ 1). The expected count of each window comes from a coarse block around it, and each
  run's most dispersed block is left out, so a failure rate that changes once (an onset) or
  slowly (a trend) does not pass for bursts. Several window sizes are tried, Bonferroni-corrected.
- **Onset**: the single change point of the failure rate (the split maximising the binomial
  likelihood); an onset is "none (or almost none) before T, most after", significant after
  correcting for having searched every split.
- **Trend**: the Cochran–Armitage test over equal-count bins of time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracehound.analysis.stats import (
    chi2_sf,
    norm_sf,
    rate_gap,
    relative_rise,
    trend_test,
)

SCALES = (5, 10, 20, 50, 100, 200, 500, 1000, 5000)
#: Candidate change points an onset search evaluates at most.
MAX_SPLITS = 20_000
#: Coarse blocks hold this many windows: the local rate a window is compared with.
BLOCK_WINDOWS = 10


@dataclass
class Scale:
    window: int
    windows: int
    index: float
    p_over: float
    p_under: float


@dataclass
class Dispersion:
    """How failures spread over consecutive requests."""

    failures: int
    requests: int
    scales: list[Scale] = field(default_factory=list)
    alpha: float = 0.001
    #: Each segment's (run's) own scales, keyed by the segment's value.
    by_segment: dict[int, list[Scale]] = field(default_factory=dict)

    def index_of(self, segment: int) -> float:
        """The largest index of dispersion of one segment (1 when it had none to measure)."""
        sc = self.by_segment.get(segment)
        return max(1.0, *(s.index for s in sc)) if sc else 1.0

    @property
    def tested(self) -> bool:
        return bool(self.scales) and self.failures >= 5

    @property
    def worst(self) -> Scale | None:
        """The window size with the most significant over-dispersion."""
        return min(self.scales, key=lambda s: (s.p_over, -s.index)) if self.scales else None

    @property
    def bursty(self) -> bool:
        w = self.worst
        return self.tested and w is not None and w.index >= 1.5 and w.p_over * len(self.scales) < self.alpha

    @property
    def uniform(self) -> bool:
        """Enough failures, and no window size shows bursts (even a weak sign of them)."""
        if not self.tested or self.failures < 10:
            return False
        return all(s.index < 1.5 or s.p_over * len(self.scales) >= 0.05 for s in self.scales)


def _segments(segment: NDArray[Any]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """For a sorted-by-segment array: each row's position in its segment, segment starts and lengths."""
    n = segment.size
    brk = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    lengths = np.diff(np.r_[brk, n])
    seg_ix = np.cumsum(np.r_[True, segment[1:] != segment[:-1]]) - 1
    pos = np.arange(n) - brk[seg_ix]
    return pos, seg_ix, lengths


def dispersion(failed: ArrayLike, segment: ArrayLike | None = None, scales: tuple[int, ...] = SCALES,
               min_windows: int = 10) -> Dispersion:
    """Index of dispersion of failures over windows of consecutive requests, per window size.

    ``failed`` must be in send order; ``segment`` (same order, grouped) keeps windows inside runs.
    The pooled result is in ``scales``; each segment's own in ``by_segment`` (keyed by its value).
    Every window size must be a multiple of the first: windows are sums of the first size's windows.
    """
    f = np.asarray(failed, dtype=np.float64)
    n = f.size
    seg = np.zeros(n, np.int64) if segment is None else np.asarray(segment)
    out = Dispersion(int(f.sum()), n)
    if n == 0 or out.failures == 0 or not scales:
        return out
    pos, seg_ix, lengths = _segments(seg)
    seg_values = seg[np.r_[0, np.cumsum(lengths)[:-1]]]
    n_seg = lengths.size
    base = scales[0]
    base_full = lengths // base
    if base_full.sum() == 0:
        return out
    bvalid = (pos // base) < base_full[seg_ix]
    base_off = np.r_[0, np.cumsum(base_full)[:-1]]
    base_k = np.bincount((base_off[seg_ix] + pos // base)[bvalid], weights=f[bvalid], minlength=int(base_full.sum()))
    base_seg = np.repeat(np.arange(n_seg), base_full)
    base_in_seg = np.arange(base_k.size) - base_off[base_seg]
    for m in scales:
        j = m // base
        full = base_full // j
        # A run too short for three blocks at this window size cannot tell bursts from one change.
        full = np.where(full >= 3 * BLOCK_WINDOWS, full, 0)
        if full.sum() < min_windows:
            continue
        valid = base_in_seg < (full * j)[base_seg]
        win_off = np.r_[0, np.cumsum(full)[:-1]]
        k = np.bincount((win_off[base_seg] + base_in_seg // j)[valid], weights=base_k[valid], minlength=int(full.sum()))
        # Expected rate: the block of BLOCK_WINDOWS windows each window belongs to.
        blocks_per_seg = (full + BLOCK_WINDOWS - 1) // BLOCK_WINDOWS
        blk_off = np.r_[0, np.cumsum(blocks_per_seg)[:-1]]
        win_seg = np.repeat(np.arange(n_seg), full)
        win_in_seg = np.arange(k.size) - win_off[win_seg]
        blk = blk_off[win_seg] + win_in_seg // BLOCK_WINDOWS
        bk = np.bincount(blk, weights=k)
        bn = np.bincount(blk) * m
        p = bk[blk] / bn[blk]
        var = m * p * (1 - p)
        use = var > 0
        if use.sum() < min_windows:
            continue
        contrib = np.zeros(k.size)
        contrib[use] = (k - m * p)[use] ** 2 / var[use]
        xb = np.bincount(blk, weights=contrib, minlength=bk.size)
        wb = np.bincount(blk, weights=use, minlength=bk.size)
        # One change of rate (an onset) lands in one block of its run: drop each run's worst block, so
        # that only failures that cluster again and again count as bursts.
        blk_seg = np.repeat(np.arange(n_seg), blocks_per_seg)
        keep = wb > 1
        order = np.lexsort((xb, blk_seg))
        last = np.flatnonzero(np.r_[blk_seg[order][1:] != blk_seg[order][:-1], True])
        keep[order[last]] = False
        x_seg = np.bincount(blk_seg[keep], weights=xb[keep], minlength=n_seg)
        df_seg = np.bincount(blk_seg[keep], weights=(wb - 1)[keep], minlength=n_seg)
        w_seg = np.bincount(win_seg[use], minlength=n_seg)
        for i in np.flatnonzero(df_seg >= 5):
            po = float(chi2_sf(x_seg[i], df_seg[i]))
            out.by_segment.setdefault(int(seg_values[i]), []).append(
                Scale(window=m, windows=int(w_seg[i]), index=float(x_seg[i] / df_seg[i]), p_over=po, p_under=1 - po))
        x, df = float(x_seg.sum()), int(df_seg.sum())
        if df < 5:
            continue
        p_over = float(chi2_sf(x, df))
        out.scales.append(Scale(window=m, windows=int(use.sum()), index=x / df, p_over=p_over,
                                p_under=float(1 - p_over)))
    return out


@dataclass
class Onset:
    """The change point of the failure rate over a clock (seconds)."""

    at_s: float
    before: tuple[int, int]  # (failures, requests) before the change
    after: tuple[int, int]
    #: Bonferroni-corrected p of the split (over every candidate split).
    p: float

    @property
    def rate_before(self) -> float:
        return self.before[0] / self.before[1] if self.before[1] else 0.0

    @property
    def rate_after(self) -> float:
        return self.after[0] / self.after[1] if self.after[1] else 0.0

    @property
    def effect(self) -> float:
        """Cautious rise of the rate at the change: lower bound after − upper bound before."""
        return max(0.0, rate_gap(self.after[0], self.after[1], self.before[0], self.before[1]))

    @property
    def is_onset(self) -> bool:
        """None (or almost none) before, most after, significantly, with room to see the quiet part."""
        kb, nb = self.before
        ka = self.after[0]
        return (self.p < 1e-3 and ka >= 5 and nb >= 10 and self.at_s >= 0.5
                and kb <= 0.1 * (ka + kb) and self.rate_before <= 0.25 * self.rate_after and self.rate_after >= 0.1)


def _loglik(k: ArrayLike, n: ArrayLike) -> NDArray[np.float64]:
    hits = np.asarray(k, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(total > 0, hits / np.maximum(total, 1), 0.0)
        a = np.where(hits > 0, hits * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(total - hits > 0, (total - hits) * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    loglik: NDArray[np.float64] = a + b
    return loglik


def onset(t_s: ArrayLike, failed: ArrayLike, overdispersion: float = 1.0) -> Onset | None:
    """The most likely single change of the failure rate along ``t_s`` (one run; any order).

    ``overdispersion`` (the index of :func:`dispersion`, ≥ 1) deflates the test statistic as
    quasi-likelihood does: bursty failures carry less information than independent ones.
    """
    t = np.asarray(t_s, dtype=np.float64)
    keep = np.isfinite(t)
    t, f = t[keep], np.asarray(failed)[keep]
    n = t.size
    if n < 4 or not f.any():
        return None
    o = np.argsort(t, kind="stable")
    t, f = t[o], f[o].astype(np.int64)
    cum = np.cumsum(f)
    K = int(cum[-1])
    i = np.flatnonzero(t[1:] > t[:-1]) + 1  # split before row i
    if i.size == 0:
        return None
    if i.size > MAX_SPLITS:
        # Past a few thousand candidates the best split moves by a fraction of a per cent: thin them.
        i = i[np.linspace(0, i.size - 1, MAX_SPLITS).round().astype(np.int64)]
    k1, n1 = cum[i - 1], i
    gain = _loglik(k1, n1) + _loglik(K - k1, n - n1) - _loglik(K, n)
    best = int(np.argmax(gain))
    j = int(i[best])
    g = 2.0 * float(gain[best]) / max(overdispersion, 1.0)
    p = min(1.0, float(chi2_sf(g, 1)) * i.size)
    return Onset(at_s=float((t[j - 1] + t[j]) / 2), before=(int(k1[best]), j), after=(K - int(k1[best]), n - j), p=p)


@dataclass
class Trend:
    """The failure rate over equal-count bins of a clock, and its Cochran–Armitage test."""

    rates: list[float]
    z: float
    p: float
    first: tuple[int, int]  # (failures, requests) in the first third
    last: tuple[int, int]

    @property
    def effect(self) -> float:
        return max(0.0, rate_gap(self.last[0], self.last[1], self.first[0], self.first[1]))

    @property
    def rising(self) -> bool:
        return self.p < 1e-3 and self.effect > 0


def trend(t_s: ArrayLike, failed: ArrayLike, bins: int = 10, overdispersion: float = 1.0) -> Trend | None:
    """Failure rate against time (one run): rising, and by how much from the first to the last third.

    ``overdispersion`` deflates z as in :func:`onset`.
    """
    t = np.asarray(t_s, dtype=np.float64)
    keep = np.isfinite(t)
    t, f = t[keep], np.asarray(failed)[keep].astype(np.int64)
    n = t.size
    if n < 3 * bins or not f.any():
        return None
    o = np.argsort(t, kind="stable")
    f = f[o]
    b = (np.arange(n) * bins) // n
    k = np.bincount(b, weights=f, minlength=bins)
    m = np.bincount(b, minlength=bins)
    z, p = trend_test(k, m, np.arange(bins))
    if overdispersion > 1.0:
        z /= math.sqrt(overdispersion)
        p = float(norm_sf(z))
    third = n // 3
    return Trend(rates=[float(x) for x in k / np.maximum(m, 1)], z=z, p=p,
                 first=(int(f[:third].sum()), third), last=(int(f[n - third:].sum()), third))


@dataclass
class Window:
    """The stretch of time buckets where the failure rate stands out most: ``[start, end)``."""

    start: int
    end: int
    inside: tuple[int, int]  # (failures, requests)
    outside: tuple[int, int]
    #: Bonferroni-corrected p (over every candidate window).
    p: float
    buckets: int

    @property
    def rate_inside(self) -> float:
        return self.inside[0] / self.inside[1] if self.inside[1] else 0.0

    @property
    def rate_outside(self) -> float:
        return self.outside[0] / self.outside[1] if self.outside[1] else 0.0

    @property
    def share(self) -> float:
        """Share of all failures inside the window."""
        k = self.inside[0] + self.outside[0]
        return self.inside[0] / k if k else 0.0

    @property
    def effect(self) -> float:
        """Cautious rise of the rate inside over outside, as a share of the rate inside."""
        return relative_rise(self.inside[0], self.inside[1], self.outside[0], self.outside[1])

    @property
    def at_end(self) -> bool:
        return self.end >= self.buckets

    @property
    def significant(self) -> bool:
        """A clear stretch: most failures inside, several times the rate outside, not by chance."""
        return (self.p < 1e-3 and self.inside[0] >= 5 and self.share >= 0.3
                and self.rate_inside >= 3 * self.rate_outside and self.end - self.start < self.buckets)


def failure_window(k: ArrayLike, n: ArrayLike, max_buckets: int = 4000) -> Window | None:
    """The window of consecutive time buckets (failures ``k`` of ``n`` requests each) whose failure rate
    departs most from the rest: two change points, by binomial likelihood, as :func:`onset` has one."""
    hits = np.asarray(k, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    b = hits.size
    if b < 3 or b > max_buckets or hits.sum() == 0:
        return None
    ck = np.r_[0.0, np.cumsum(hits)]
    cn = np.r_[0.0, np.cumsum(total)]
    K, N = ck[-1], cn[-1]
    base = float(_loglik(K, N))
    best = (-1.0, 0, 0)
    for i in range(b):  # one vector per start bucket: b ≤ a few thousand buckets, never rows
        ends = np.arange(i + 1, b + 1)
        ki, ni = ck[ends] - ck[i], cn[ends] - cn[i]
        ko, no = K - ki, N - ni
        gain = _loglik(ki, ni) + _loglik(ko, no) - base
        higher = ki * np.maximum(no, 1) > ko * np.maximum(ni, 1)
        gain = np.where(higher & (ni > 0), gain, -1.0)
        t = int(np.argmax(gain))
        if gain[t] > best[0]:
            best = (float(gain[t]), i, int(ends[t]))
    g, start, end = best
    if g <= 0:
        return None
    k_in, n_in = int(ck[end] - ck[start]), int(cn[end] - cn[start])
    p = min(1.0, float(chi2_sf(2.0 * g, 2)) * b * (b + 1) / 2)
    return Window(start, end, (k_in, n_in), (int(K) - k_in, int(N) - n_in), p, b)


def bucket_dispersion(k: ArrayLike, n: ArrayLike) -> tuple[float, float]:
    """Index of dispersion of failures over time buckets against one constant rate, and its p."""
    hits = np.asarray(k, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    use = total > 0
    hits, total = hits[use], total[use]
    if hits.size < 3 or hits.sum() == 0 or hits.sum() == total.sum():
        return 1.0, 1.0
    p = hits.sum() / total.sum()
    x = float((((hits - total * p) ** 2) / (total * p * (1 - p))).sum())
    df = hits.size - 1
    return x / df, float(chi2_sf(x, df))


__all__ = ["Dispersion", "Onset", "Scale", "Trend", "Window", "bucket_dispersion", "dispersion", "failure_window",
           "onset", "trend"]
