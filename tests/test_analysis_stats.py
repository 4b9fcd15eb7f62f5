"""The statistical helpers against known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tracehound.analysis import stats


def test_tails_match_tables():
    assert stats.norm_sf(1.959964) == pytest.approx(0.025, abs=1e-6)
    assert stats.norm_sf(-1.0) == pytest.approx(0.841345, abs=1e-6)
    assert stats.chi2_sf(3.841459, 1) == pytest.approx(0.05, abs=1e-5)
    assert stats.chi2_sf(18.307, 10) == pytest.approx(0.05, abs=1e-3)
    assert stats.chi2_sf(124.342, 100) == pytest.approx(0.05, abs=1e-3)


def test_fisher_exact_small_tables():
    # [[3, 0], [0, 3]]: 1 / C(6, 3)
    assert stats.fisher_greater(3, 3, 0, 3) == pytest.approx(1 / 20)
    assert stats.fisher_greater(0, 3, 3, 3) == pytest.approx(1.0)
    assert stats.log_factorial(10) == pytest.approx(math.log(math.factorial(10)))
    assert stats.log_factorial(5000) == pytest.approx(sum(math.log(i) for i in range(1, 5001)), rel=1e-12)


def test_wilson_and_cautious_effects():
    lo, hi = stats.wilson(0, 30)
    assert lo == 0 and 0.04 < hi < 0.06
    assert stats.rate_gap(50, 100, 0, 100) > 0.35
    assert stats.rate_gap(1, 2, 0, 2) < 0
    assert stats.relative_rise(50, 100, 0, 1000) > 0.95
    assert stats.relative_rise(30, 100, 20, 100) < 0.2


def test_benjamini_hochberg():
    q = stats.bh(np.array([0.01, 0.04, 0.03, 0.5]))
    assert q.tolist() == pytest.approx([0.04, 0.0533333, 0.0533333, 0.5], abs=1e-6)


def test_rank_tests():
    auc, p = stats.mann_whitney_greater(np.arange(20) + 10, np.arange(20))
    assert auc > 0.7 and p < 0.01
    auc, p = stats.mann_whitney_greater(np.arange(20), np.arange(20))
    assert auc == pytest.approx(0.5) and p > 0.4
    rho, p = stats.spearman(np.arange(50), np.arange(50) ** 3)
    assert rho == pytest.approx(1.0) and p < 1e-6
    z, p = stats.trend_test(np.array([0, 5, 10]), np.array([20, 20, 20]), np.arange(3))
    assert z > 3 and p < 1e-3
    z, p = stats.trend_test(np.array([5, 5, 5]), np.array([20, 20, 20]), np.arange(3))
    assert abs(z) < 1e-9
