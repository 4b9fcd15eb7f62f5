"""Small statistical tests over NumPy arrays: tails, proportions, ranks, multiple comparisons.

Written against NumPy alone so that analysis needs no SciPy at import time. Accuracy is what a
decision needs (p-values to a few significant digits, exact Fisher tails for small counts),
not what a statistics library promises.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: z of the two-sided 80 % interval: effect sizes are reported at their lower 80 % bound, so a
#: handful of observations gives a modest strength and hundreds give nearly the point estimate.
Z_EFFECT = 1.2816


def norm_sf(z: ArrayLike) -> NDArray[np.float64]:
    """Upper tail of the standard normal, P(Z > z), vectorised (erfc, relative error < 1.2e-7)."""
    x = np.asarray(z, dtype=np.float64) / math.sqrt(2.0)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    tail: NDArray[np.float64] = np.where(x >= 0, 0.5 * erfc, 1.0 - 0.5 * erfc)
    return tail


def chi2_sf(x: ArrayLike, df: ArrayLike) -> NDArray[np.float64]:
    """Upper tail of the chi-square distribution (exact for df=1, Wilson–Hilferty otherwise)."""
    xs = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    dfs = np.maximum(np.asarray(df, dtype=np.float64), 1e-9)
    one = norm_sf(np.sqrt(xs)) * 2.0
    c = 2.0 / (9.0 * dfs)
    z = (np.cbrt(xs / dfs) - (1.0 - c)) / np.sqrt(c)
    tail: NDArray[np.float64] = np.where(dfs == 1.0, one, norm_sf(z))
    return tail


_LOG_FACT = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, 4097, dtype=np.float64)))))


def log_factorial(n: ArrayLike) -> NDArray[np.float64]:
    """ln(n!) for non-negative integers (table below 4097, Stirling's series above)."""
    x = np.asarray(n, dtype=np.float64)
    small = x < _LOG_FACT.size
    m = np.maximum(x, 1.0)
    big = m * np.log(m) - m + 0.5 * np.log(2 * math.pi * m) + 1 / (12 * m) - 1 / (360 * m**3)
    out: NDArray[np.float64] = np.where(small, _LOG_FACT[np.clip(x, 0, _LOG_FACT.size - 1).astype(np.int64)], big)
    return out


def fisher_greater(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided Fisher exact p: is the rate k1/n1 higher than k2/n2? (Normal approximation past 10^5.)"""
    k1, n1, k2, n2 = int(k1), int(n1), int(k2), int(n2)
    if n1 <= 0 or n2 <= 0:
        return 1.0
    k = k1 + k2
    n = n1 + n2
    hi = min(k, n1)
    if hi - k1 > 100_000:
        return float(prop_greater(k1, n1, k2, n2))
    x = np.arange(k1, hi + 1, dtype=np.float64)
    logp = (log_factorial(n1) - log_factorial(x) - log_factorial(n1 - x)
            + log_factorial(n2) - log_factorial(k - x) - log_factorial(n2 - k + x)
            - (log_factorial(n) - log_factorial(k) - log_factorial(n - k)))
    return float(min(1.0, np.exp(logp).sum()))


def prop_greater(k1: ArrayLike, n1: ArrayLike, k2: ArrayLike, n2: ArrayLike) -> NDArray[np.float64]:
    """One-sided pooled two-proportion z-test p (vectorised): rate 1 above rate 2."""
    a, na, b, nb = (np.asarray(v, dtype=np.float64) for v in (k1, n1, k2, n2))
    p = (a + b) / np.maximum(na + nb, 1)
    se = np.sqrt(np.maximum(p * (1 - p) * (1 / np.maximum(na, 1) + 1 / np.maximum(nb, 1)), 1e-300))
    z = (a / np.maximum(na, 1) - b / np.maximum(nb, 1)) / se
    out = norm_sf(z)
    tail: NDArray[np.float64] = np.where((na > 0) & (nb > 0) & (p > 0) & (p < 1), out, 1.0)
    return tail


def binom_greater(k: ArrayLike, n: ArrayLike, rate: ArrayLike, terms: int = 256) -> NDArray[np.float64]:
    """P(X >= k) for X ~ Binomial(n, rate), vectorised: meant for k above the mean (over-represented counts).

    Exact (the first ``terms`` terms of the tail, which past the mean fall off at least geometrically)
    where the variance is small; the normal approximation with continuity correction where it is
    large. 1 where k <= 0.
    """
    kb, nb, rb = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (k, n, rate)))
    shape = kb.shape
    k, n, r = kb.ravel(), nb.ravel(), np.clip(rb.ravel(), 1e-12, 1 - 1e-12)
    out = np.ones(k.shape)
    var = n * r * (1 - r)
    big = (k > 0) & (var > 400)
    out[big] = norm_sf((k[big] - 0.5 - n[big] * r[big]) / np.sqrt(var[big]))
    small = np.flatnonzero((k > 0) & ~big)
    small = small[np.argsort(n[small] - k[small], kind="stable")]  # chunks of alike tail lengths
    for lo in range(0, small.size, 4096):
        i = small[lo: lo + 4096]
        width = int(min(terms, max(0.0, float((n[i] - k[i]).max())) + 1))
        x = k[i, None] + np.arange(width)[None, :]
        nn, rr = n[i, None], r[i, None]
        ok = x <= nn
        xs = np.where(ok, x, nn)
        # Only the first term needs factorials; the next ones follow by the ratio of neighbours.
        first = (log_factorial(n[i]) - log_factorial(k[i]) - log_factorial(n[i] - k[i])
                 + k[i] * np.log(r[i]) + (n[i] - k[i]) * np.log1p(-r[i]))
        step = np.log(np.maximum(nn - xs, 1e-300)) - np.log(xs + 1) + np.log(rr) - np.log1p(-rr)
        logp = first[:, None] + np.concatenate([np.zeros((i.size, 1)), np.cumsum(step[:, :-1], axis=1)], axis=1)
        out[i] = np.minimum(1.0, np.where(ok, np.exp(logp), 0.0).sum(axis=1))
    return out.reshape(shape)


def rate_greater(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided p that k1/n1 exceeds k2/n2: Fisher when any expected count is small, z-test otherwise."""
    k, n = k1 + k2, n1 + n2
    if n == 0:
        return 1.0
    expected = min(n1, n2) * min(k, n - k) / n
    if expected < 20 or n < 2000:
        return fisher_greater(k1, n1, k2, n2)
    return float(prop_greater(k1, n1, k2, n2))


def wilson(k: ArrayLike, n: ArrayLike, z: float = Z_EFFECT) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval of a proportion k/n (vectorised); (0, 1) where n == 0."""
    hits = np.asarray(k, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    safe = np.maximum(total, 1.0)
    p = hits / safe
    den = 1 + z * z / safe
    mid = (p + z * z / (2 * safe)) / den
    half = z * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe)) / den
    lo: NDArray[np.float64] = np.where(total > 0, np.clip(mid - half, 0, 1), 0.0)
    hi: NDArray[np.float64] = np.where(total > 0, np.clip(mid + half, 0, 1), 1.0)
    return lo, hi


def rate_gap(k1: int, n1: int, k2: int, n2: int, z: float = Z_EFFECT) -> float:
    """A cautious difference of two rates: the lower bound of rate 1 minus the upper bound of rate 2."""
    lo1, _ = wilson(k1, n1, z)
    _, hi2 = wilson(k2, n2, z)
    return float(lo1 - hi2)


def relative_rise(k_hi: int, n_hi: int, k_lo: int, n_lo: int, z: float = Z_EFFECT) -> float:
    """How much of the higher rate the lower one leaves unexplained, cautiously: 1 − hi(lo) / lo(hi)."""
    lo_hi, _ = wilson(k_hi, n_hi, z)
    _, hi_lo = wilson(k_lo, n_lo, z)
    if lo_hi <= 0:
        return 0.0
    return float(np.clip(1 - hi_lo / lo_hi, 0.0, 1.0))


def bh(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    ps = np.asarray(p, dtype=np.float64)
    m = ps.size
    if m == 0:
        return ps
    order = np.argsort(ps)
    ranked = ps[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def ranks(x: ArrayLike) -> NDArray[np.float64]:
    """Average ranks (1-based), ties sharing the mean of their positions."""
    _, inverse, counts = np.unique(np.asarray(x), return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    avg = ends - (counts - 1) / 2.0
    out: NDArray[np.float64] = avg[inverse]
    return out


def mann_whitney_greater(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """P(X > Y) (the common-language effect size, ties half) and the one-sided p (normal approx)."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    n1, n2 = xs.size, ys.size
    if n1 == 0 or n2 == 0:
        return 0.5, 1.0
    r = ranks(np.concatenate([xs, ys]))
    u = r[:n1].sum() - n1 * (n1 + 1) / 2.0
    auc = u / (n1 * n2)
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0)
    p = float(norm_sf((u - n1 * n2 / 2.0 - 0.5) / sd)) if sd > 0 else 1.0
    return float(auc), p


def spearman(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Spearman's rho and its one-sided p for rho > 0 (normal approximation)."""
    n = np.asarray(x).size
    if n < 4:
        return 0.0, 1.0
    rx, ry = ranks(x), ranks(y)
    rx = rx - rx.mean()
    ry = ry - ry.mean()
    den = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    if den == 0:
        return 0.0, 1.0
    rho = float((rx * ry).sum() / den)
    return rho, float(norm_sf(rho * math.sqrt(n - 1)))


def trend_test(k: ArrayLike, n: ArrayLike, scores: ArrayLike) -> tuple[float, float]:
    """Cochran–Armitage test for a rate rising with ``scores``: its z and one-sided p."""
    hits = np.asarray(k, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    N, K = total.sum(), hits.sum()
    if N <= 0 or K <= 0 or K >= N:
        return 0.0, 1.0
    p = K / N
    t = float((s * (hits - total * p)).sum())
    var = p * (1 - p) * float((total * s * s).sum() - (total * s).sum() ** 2 / N)
    if var <= 0:
        return 0.0, 1.0
    z = t / math.sqrt(var)
    return z, float(norm_sf(z))


def saturate(count: float, half: float = 2.0) -> float:
    """count / (count + half): how much a finding rests on enough cases (2 → 0.5, 20 → 0.9)."""
    return float(count) / (float(count) + half) if count > 0 else 0.0


__all__ = [
    "Z_EFFECT",
    "bh",
    "binom_greater",
    "chi2_sf",
    "fisher_greater",
    "log_factorial",
    "mann_whitney_greater",
    "norm_sf",
    "prop_greater",
    "ranks",
    "rate_gap",
    "rate_greater",
    "relative_rise",
    "saturate",
    "spearman",
    "trend_test",
    "wilson",
]
