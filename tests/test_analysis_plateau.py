"""Failure-latency plateaus: failures piling up at one duration, and none where there is none."""

from __future__ import annotations

import numpy as np
import pytest

from tracehound.analysis.plateau import plateaus

rng = np.random.default_rng(0)


def mix(n_ok, fail_latencies):
    ok = rng.lognormal(np.log(80), 0.5, n_ok)
    lat = np.r_[ok, fail_latencies]
    failed = np.r_[np.zeros(n_ok, bool), np.ones(len(fail_latencies), bool)]
    return lat, failed, ~failed


@pytest.mark.parametrize("seconds", [0.05, 1.0, 2.0, 30.0])
def test_a_timeout_shows_as_a_plateau_at_its_duration(seconds):
    ms = seconds * 1000
    fails = np.r_[ms + rng.exponential(0.004 * ms + 0.5, 60), rng.lognormal(np.log(80), 0.5, 10)]
    lat, failed, ok = mix(2000, fails)
    found = plateaus(lat, failed, ok)
    assert found, "no plateau"
    assert found[0].seconds == pytest.approx(seconds, rel=0.03)
    assert 0.8 < found[0].share <= 60 / 70 + 1e-9
    assert found[0].ok_share < 0.05


def test_two_timeouts_two_plateaus():
    fails = np.r_[1000 + rng.exponential(3, 40), 5000 + rng.exponential(10, 30)]
    lat, failed, ok = mix(1000, fails)
    found = plateaus(lat, failed, ok)
    assert [round(p.seconds) for p in found] == [1, 5]


def test_failures_spread_like_successes_are_no_plateau():
    fails = rng.lognormal(np.log(300), 0.8, 200)
    lat, failed, ok = mix(2000, fails)
    assert plateaus(lat, failed, ok) == []


def test_fast_errors_where_successes_are_are_no_plateau():
    # 500s answered at the service's usual speed: tight, but no timeout.
    lat = rng.normal(100, 1.5, 3000)
    failed = rng.random(3000) < 0.1
    assert plateaus(lat, failed, ~failed) == []


def test_too_few_failures_are_no_plateau():
    lat, failed, ok = mix(500, np.full(4, 1000.0))
    assert plateaus(lat, failed, ok) == []
