"""Small statistical tests over NumPy arrays: tails, proportions, ranks, multiple comparisons.

Written against NumPy alone so that analysis needs no SciPy at import time. Accuracy is what a
decision needs (p-values to a few significant digits, exact Fisher tails for small counts),
not what a statistics library promises.
"""

from __future__ import annotations

import math

import numpy as np

#: z of the two-sided 80 % interval: effect sizes are reported at their lower 80 % bound, so a
#: handful of observations gives a modest strength and hundreds give nearly the point estimate.
Z_EFFECT = 1.2816


def norm_sf(z: np.ndarray | float) -> np.ndarray:
    """Upper tail of the standard normal, P(Z > z), vectorised (erfc, relative error < 1.2e-7)."""
    x = np.asarray(z, dtype=np.float64) / math.sqrt(2.0)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 0.5 * erfc, 1.0 - 0.5 * erfc)


def chi2_sf(x: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    """Upper tail of the chi-square distribution (exact for df=1, Wilson–Hilferty otherwise)."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    df = np.maximum(np.asarray(df, dtype=np.float64), 1e-9)
    one = norm_sf(np.sqrt(x)) * 2.0
    c = 2.0 / (9.0 * df)
    z = (np.cbrt(x / df) - (1.0 - c)) / np.sqrt(c)
    return np.where(df == 1.0, one, norm_sf(z))


_LOG_FACT = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, 4097, dtype=np.float64)))))


def log_factorial(n: np.ndarray | int) -> np.ndarray:
    """ln(n!) for non-negative integers (table below 4097, Stirling's series above)."""
    n = np.asarray(n, dtype=np.float64)
    small = n < _LOG_FACT.size
    m = np.maximum(n, 1.0)
    big = m * np.log(m) - m + 0.5 * np.log(2 * math.pi * m) + 1 / (12 * m) - 1 / (360 * m**3)
    return np.where(small, _LOG_FACT[np.clip(n, 0, _LOG_FACT.size - 1).astype(np.int64)], big)


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


def prop_greater(k1, n1, k2, n2) -> np.ndarray:
    """One-sided pooled two-proportion z-test p (vectorised): rate 1 above rate 2."""
    k1, n1, k2, n2 = (np.asarray(v, dtype=np.float64) for v in (k1, n1, k2, n2))
    p = (k1 + k2) / np.maximum(n1 + n2, 1)
    se = np.sqrt(np.maximum(p * (1 - p) * (1 / np.maximum(n1, 1) + 1 / np.maximum(n2, 1)), 1e-300))
    z = (k1 / np.maximum(n1, 1) - k2 / np.maximum(n2, 1)) / se
    out = norm_sf(z)
    return np.where((n1 > 0) & (n2 > 0) & (p > 0) & (p < 1), out, 1.0)


def rate_greater(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided p that k1/n1 exceeds k2/n2: Fisher when any expected count is small, z-test otherwise."""
    k, n = k1 + k2, n1 + n2
    if n == 0:
        return 1.0
    expected = min(n1, n2) * min(k, n - k) / n
    if expected < 20 or n < 2000:
        return fisher_greater(k1, n1, k2, n2)
    return float(prop_greater(k1, n1, k2, n2))


def wilson(k, n, z: float = Z_EFFECT) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion k/n (vectorised); (0, 1) where n == 0."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    safe = np.maximum(n, 1.0)
    p = k / safe
    den = 1 + z * z / safe
    mid = (p + z * z / (2 * safe)) / den
    half = z * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe)) / den
    lo = np.where(n > 0, np.clip(mid - half, 0, 1), 0.0)
    hi = np.where(n > 0, np.clip(mid + half, 0, 1), 1.0)
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


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input order."""
    p = np.asarray(p, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (1-based), ties sharing the mean of their positions."""
    x = np.asarray(x)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    avg = ends - (counts - 1) / 2.0
    return avg[inverse]


def mann_whitney_greater(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """P(X > Y) (the common-language effect size, ties half) and the one-sided p (normal approx)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n1, n2 = x.size, y.size
    if n1 == 0 or n2 == 0:
        return 0.5, 1.0
    r = ranks(np.concatenate([x, y]))
    u = r[:n1].sum() - n1 * (n1 + 1) / 2.0
    auc = u / (n1 * n2)
    sd = math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0)
    p = float(norm_sf((u - n1 * n2 / 2.0 - 0.5) / sd)) if sd > 0 else 1.0
    return float(auc), p


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
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


def trend_test(k: np.ndarray, n: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Cochran–Armitage test for a rate rising with ``scores``: its z and one-sided p."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    N, K = n.sum(), k.sum()
    if N <= 0 or K <= 0 or K >= N:
        return 0.0, 1.0
    p = K / N
    t = float((s * (k - n * p)).sum())
    var = p * (1 - p) * float((n * s * s).sum() - (n * s).sum() ** 2 / N)
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
