"""Time structure: bursts or an even spread, an onset, a rising trend; and none of them on controls."""

from __future__ import annotations

import numpy as np
import pytest

from tracehound.analysis.temporal import dispersion, onset, trend


def bursts(n=3000, k=20, length=15, seed=0):
    rng = np.random.default_rng(seed)
    f = np.zeros(n, bool)
    for s in rng.choice(n - length, k, replace=False):
        f[s : s + length] = True
    return f


def test_bursts_are_over_dispersed():
    d = dispersion(bursts())
    assert d.bursty and not d.uniform
    assert d.worst.index > 3


@pytest.mark.parametrize("seed", range(10))
def test_independent_failures_are_uniform_not_bursty(seed):
    rng = np.random.default_rng(seed)
    d = dispersion(rng.random(3000) < 0.05)
    assert not d.bursty
    assert d.uniform


def test_one_change_of_rate_is_not_a_burst():
    f = np.r_[np.zeros(1500, bool), np.random.default_rng(1).random(1500) < 0.6]
    assert not dispersion(f).bursty


def test_a_slow_trend_is_not_a_burst():
    rng = np.random.default_rng(2)
    f = rng.random(4000) < np.linspace(0.0, 0.5, 4000)
    assert not dispersion(f).bursty


def test_windows_never_span_runs():
    # Two runs, one failing throughout and one never: no window mixes them, so no bursts.
    rng = np.random.default_rng(3)
    f = np.r_[rng.random(2000) < 0.3, np.zeros(2000, bool)]
    seg = np.r_[np.zeros(2000, int), np.ones(2000, int)]
    assert not dispersion(f, seg).bursty


def test_onset_found_at_its_time():
    rng = np.random.default_rng(4)
    t = np.sort(rng.uniform(0, 15, 600))
    f = (t > 5.0) & (rng.random(600) < 0.8)
    on = onset(t, f)
    assert on.is_onset
    assert on.at_s == pytest.approx(5.0, abs=0.15)
    assert on.before[0] == 0 and on.rate_after > 0.7
    assert on.effect > 0.7


@pytest.mark.parametrize("seed", range(10))
def test_no_onset_in_uniform_failures(seed):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 15, 600))
    on = onset(t, rng.random(600) < 0.1)
    assert on is None or not on.is_onset


def test_an_onset_needs_a_quiet_start():
    # Failures from the first second: nothing to see before.
    rng = np.random.default_rng(5)
    t = np.sort(rng.uniform(0, 10, 400))
    f = (t > 0.2) & (rng.random(400) < 0.5)
    on = onset(t, f)
    assert on is None or not on.is_onset


def test_rising_trend():
    rng = np.random.default_rng(6)
    t = np.linspace(0, 20, 2000)
    tr = trend(t, rng.random(2000) < t / 40)
    assert tr.rising and tr.effect > 0.25


@pytest.mark.parametrize("seed", range(10))
def test_no_trend_in_a_steady_rate(seed):
    rng = np.random.default_rng(seed)
    tr = trend(np.linspace(0, 20, 2000), rng.random(2000) < 0.1)
    assert not tr.rising


def test_overdispersion_deflates_the_trend():
    # Bursts that happen to sit late look like a trend to a test that assumes independence.
    f = np.zeros(1000, bool)
    for s in (300, 620, 700, 820, 900):
        f[s : s + 12] = True
    t = np.arange(1000) / 50.0
    assert trend(t, f).rising
    assert not trend(t, f, overdispersion=dispersion(f).worst.index).rising
