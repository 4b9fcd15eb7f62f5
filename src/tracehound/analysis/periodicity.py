"""Periodic failures: every k-th request fails, as behind a round-robin balancer with one bad backend.

The failure indicator, ordered by sending time within each run (and, separately, within each
virtual user and each connection), is centred on the failure rate of its own step and path, so
that a flow whose third step always fails is not taken for a period of three. Its
autocorrelation at lag ``k`` is then ≈ N(0, 1/pairs) for independent failures; a period ``k``
shows as a strongly positive ``r_k`` that the shorter lags do not share (bursts instead make
``r_1`` the largest). Concurrency blurs the order a little, so the test needs a clear but not a
perfect correlation.

Concurrency shuffles neighbours, which blurs ``r_k`` quickly, but not the *regularity* of the
failures: behind round robin, any window of a few dozen requests holds almost exactly its share
of failures, far less variance than independent failures would give. So a second route accepts
a period when the window counts are strongly under-dispersed, the failure rate is 1/k, and the
lags that are multiples of k still correlate more than the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tracehound.analysis.stats import norm_sf

MAX_LAG = 12
#: Window sizes for the regularity test: multiples of every period up to 6.
REGULARITY_WINDOWS = (12, 30, 60, 120)


@dataclass
class Periodicity:
    """The best period found, over the orders tried."""

    #: The period in requests (0 when none).
    period: int
    #: Autocorrelation at the period's lag, and at lag 1.
    r: float
    r1: float
    #: Bonferroni-corrected one-sided p (over lags and orders).
    p: float
    #: The order it shows in: "send" (all requests), "vu", "connection".
    order: str
    #: Autocorrelation by lag (1..MAX_LAG) in that order.
    acf: list[float] = field(default_factory=list)
    pairs: int = 0
    #: Variance of failures per window over what independent failures would give (1 = random, 0 = clockwork).
    regularity: float = 1.0
    #: "lag" (the autocorrelation at the period stands out) or "regular" (the window counts are even).
    route: str = ""

    @property
    def periodic(self) -> bool:
        if self.period < 2 or self.p >= 1e-3:
            return False
        if self.route == "regular":
            return self.regularity <= 0.35
        # Bursts correlate neighbours; a period of k ≥ 2 makes neighbours differ.
        return self.r >= 0.2 and self.r1 <= min(0.1, self.r / 2)

    @property
    def strength(self) -> float:
        """How clearly periodic: r_k by the lag route, 1 − regularity by the window route."""
        if not self.periodic:
            return 0.0
        return float(min(1.0, max(self.r, 0.0) if self.route == "lag" else 1.0 - self.regularity))


def _residual(failed: ArrayLike, group: ArrayLike | None) -> NDArray[np.float64]:
    f = np.asarray(failed, dtype=np.float64)
    if group is None or f.size == 0:
        return f - f.mean() if f.size else f
    g = np.asarray(group, dtype=np.int64)
    g = g - g.min()
    k = np.bincount(g, weights=f)
    n = np.bincount(g)
    resid: NDArray[np.float64] = f - (k / np.maximum(n, 1))[g]
    return resid


def regularity(resid: NDArray[np.float64], var: NDArray[np.float64], sequence: NDArray[Any],
               window: int) -> tuple[float, int]:
    """Variance of the windowed sums of ``resid`` over its expectation ``Σ var``; windows stay in a sequence."""
    n = resid.size
    if n < window:
        return 1.0, 0
    brk = np.flatnonzero(np.r_[True, sequence[1:] != sequence[:-1]])
    seg = np.cumsum(np.r_[True, sequence[1:] != sequence[:-1]]) - 1
    pos = np.arange(n) - brk[seg]
    lengths = np.diff(np.r_[brk, n])
    full = lengths // window
    wid = pos // window
    keep = wid < full[seg]
    if not keep.any():
        return 1.0, 0
    off = np.r_[0, np.cumsum(full)[:-1]]
    w = (off[seg] + wid)[keep]
    sums = np.bincount(w, weights=resid[keep])
    expected = float(var[keep].sum())
    if expected <= 0:
        return 1.0, 0
    return float((sums * sums).sum() / expected), int(sums.size)


def acf(resid: NDArray[np.float64], sequence: NDArray[Any], max_lag: int = MAX_LAG,
        informative: ArrayLike | None = None) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Autocorrelation of ``resid`` (already in order) at lags 1..max_lag, pairs never crossing ``sequence``.

    Only ``informative`` rows (those whose kind of request can both fail and succeed) count as
    pairs: a run that never fails adds zeros, not evidence. Returns r_k and the pairs per lag.
    """
    info = np.ones(resid.size, bool) if informative is None else np.asarray(informative, bool)
    n_info = int(info.sum())
    den = float((resid * resid)[info].sum())
    r = np.zeros(max_lag)
    pairs = np.zeros(max_lag, np.int64)
    if den <= 0 or n_info < 2:
        return r, pairs
    n = resid.size
    for k in range(1, min(max_lag, n - 1) + 1):
        same = (sequence[k:] == sequence[:-k]) & info[k:] & info[:-k]
        pairs[k - 1] = int(same.sum())
        if pairs[k - 1]:
            r[k - 1] = float((resid[k:] * resid[:-k])[same].sum()) / pairs[k - 1] / (den / n_info)
    return r, pairs


def rhythm_lags(kinds: NDArray[Any], sequence: NDArray[Any], informative: NDArray[np.bool_], max_lag: int = MAX_LAG
                ) -> set[int]:
    """The lags at which a multi-step flow meets itself: nearly every informative pair is one kind of request.

    In a virtual user's order, a flow of S steps puts the same step S requests apart. When only
    some steps can fail, the pairs at those lags compare one iteration with the next: a
    correlation there says that consecutive iterations fail alike (a phase, a user's state), not
    that every S-th request fails. With a single kind of request nothing is skipped.
    """
    k_info = kinds[informative]
    out: set[int] = set()
    if k_info.size == 0 or np.unique(kinds).size < 2:
        return out
    for k in range(1, min(max_lag, kinds.size - 1) + 1):
        both = (sequence[k:] == sequence[:-k]) & informative[k:] & informative[:-k]
        n = int(both.sum())
        if n and float((kinds[k:] == kinds[:-k])[both].mean()) >= 0.9:
            out.add(k)
    return out


def periodicity(failed: NDArray[Any], orders: dict[str, tuple[NDArray[np.integer[Any]], NDArray[Any]]],
                group: ArrayLike | None = None, max_lag: int = MAX_LAG, kinds: ArrayLike | None = None
                ) -> Periodicity:
    """The clearest period of ``failed`` in any of ``orders``.

    ``orders`` maps a name to ``(rows, sequence)``: the row indices in that order and, for each,
    the sequence it belongs to (run, run × VU, run × connection); lags never cross sequences.
    ``group`` (step × run codes, say) removes what each kind of request fails anyway, and how
    much each run fails. ``kinds`` (the step or path code of each row) marks the lags at which a
    multi-step flow meets itself (:func:`rhythm_lags`), which are not tried.
    """
    resid_all = _residual(failed, group)
    p_group = np.asarray(failed, dtype=np.float64) - resid_all
    var_all = p_group * (1 - p_group)
    rate = float(np.mean(failed)) if len(failed) else 0.0
    k0 = round(1 / rate) if rate > 0 else 0
    best = Periodicity(0, 0.0, 0.0, 1.0, "")
    tests = max(1, (max_lag - 1) * len(orders))
    for name, (rows, seq) in orders.items():
        if rows.size < 4 * max_lag:
            continue
        r, pairs = acf(resid_all[rows], seq, max_lag, var_all[rows] > 0)
        skip = rhythm_lags(np.asarray(kinds)[rows], seq, var_all[rows] > 0, max_lag) if kinds is not None else set()
        # The window route: even counts, a rate of 1/k, and the lags that are multiples of k correlating
        # more, on average, than those that are not.
        if 2 <= k0 <= max_lag and abs(k0 * rate - 1) <= 0.15 and k0 not in skip:
            multiples = [r[j - 1] for j in range(k0, max_lag + 1, k0)]
            others = [r[j - 1] for j in range(2, max_lag + 1) if j % k0]
            if np.mean(multiples) > np.mean(others or [-1.0]) and r[0] < 0:
                ratios = [regularity(resid_all[rows], var_all[rows], seq, m) for m in REGULARITY_WINDOWS]
                ratios = [(x, w) for x, w in ratios if w >= 10]
                if ratios:
                    scored = [(float(norm_sf((1 - x) * math.sqrt(w / 2))), x) for x, w in ratios]
                    p, x = min(scored)
                    p = min(1.0, p * len(REGULARITY_WINDOWS) * len(orders))
                    cand = Periodicity(k0, float(r[k0 - 1]), float(r[0]), p, name, [float(v) for v in r],
                                       int(pairs[k0 - 1]), regularity=x, route="regular")
                    if cand.periodic and cand.strength > best.strength:
                        best = cand
        for k in range(2, max_lag + 1):
            rk, npairs = r[k - 1], pairs[k - 1]
            if npairs < 2 * max_lag or k in skip:
                continue
            p = min(1.0, float(norm_sf(rk * math.sqrt(npairs))) * tests)
            # A multiple of a shorter period correlates too: keep the shortest clear one.
            shorter = [d for d in range(2, k) if k % d == 0 and r[d - 1] >= 0.8 * rk]
            if shorter:
                continue
            period = k
            if 2 <= k0 < k and k % k0 == 0 and abs(k0 * rate - 1) <= 0.15:
                period = k0  # the multiple of a period that the jitter blurred less: report the period itself
            cand = Periodicity(period, float(rk), float(r[0]), p, name, [float(x) for x in r], int(npairs), route="lag")
            # Keep the strongest period; until one is found, the most significant candidate (for the report).
            if (cand.periodic and cand.strength > best.strength) or (not best.periodic and p < best.p):
                best = cand
    return best


__all__ = ["MAX_LAG", "Periodicity", "acf", "periodicity", "regularity", "rhythm_lags"]
