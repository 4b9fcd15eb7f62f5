"""Load dependence: failures and latency against requests in flight, the knee, sequential runs, throughput."""

from __future__ import annotations

import numpy as np
import pytest

from tracehound.analysis.load import load_dependence, sequential, throughput


def sweep(levels=(1, 2, 4, 8, 16, 32), per=400, fail=lambda c: 0.0, lat=lambda c: 20.0, seed=0):
    rng = np.random.default_rng(seed)
    inflight = np.repeat(levels, per)
    failed = rng.random(inflight.size) < np.array([fail(c) for c in inflight])
    latency = np.array([lat(c) for c in inflight]) * rng.lognormal(0, 0.1, inflight.size)
    counted = np.ones(inflight.size, bool)
    return inflight, failed, counted, ~failed, latency


def test_failures_above_a_knee():
    ld = load_dependence(*sweep(fail=lambda c: 0.0 if c <= 4 else 0.4))
    assert ld.failures_rise
    assert ld.knee == 5  # the first in-flight count of the bin holding 8
    assert ld.below[0] == 0 and ld.rise > 0.9
    assert [lv.label for lv in ld.levels] == ["1", "2", "3–4", "5–8", "9–16", "17–32"]


@pytest.mark.parametrize("seed", range(8))
def test_flat_failure_rate_is_not_load_dependent(seed):
    ld = load_dependence(*sweep(fail=lambda c: 0.1, seed=seed))
    assert ld.tested and not ld.failures_rise


def test_serialised_work_makes_latency_grow_with_concurrency():
    ld = load_dependence(*sweep(lat=lambda c: 50.0 * c))
    assert ld.latency_rises
    assert ld.latency_slope == pytest.approx(1.0, abs=0.1)
    assert ld.latency_ratio > 20


def test_parallel_work_keeps_latency_flat():
    ld = load_dependence(*sweep(lat=lambda c: 300.0))
    assert not ld.latency_rises
    assert abs(ld.latency_slope) < 0.05


def test_a_fast_service_saturating_the_cpu_is_no_finding():
    # From 1 ms to 12 ms: serialised, but by a handful of milliseconds only.
    ld = load_dependence(*sweep(lat=lambda c: 1.0 + c / 3))
    assert not ld.latency_rises


def test_unknown_inflight_is_left_out():
    inflight, failed, counted, ok, lat = sweep(fail=lambda c: 0.0 if c <= 4 else 0.4)
    inflight = np.where(inflight > 4, -1, inflight)
    ld = load_dependence(inflight, failed, counted, ok, lat)
    assert ld.tested and not ld.failures_rise
    assert sum(lv.requests for lv in ld.levels) == 1200


def test_sequential_absent_and_present():
    f = np.r_[np.zeros(30, bool), np.random.default_rng(0).random(300) < 0.3]
    alone = np.r_[np.ones(30, bool), np.zeros(300, bool)]
    sq = sequential(f, alone, ~alone)
    assert sq.absent and not sq.present and sq.absent_strength > 0.7
    # One stray failure alone among many (background noise) does not make failures "present".
    noisy = np.r_[np.zeros(1000, bool), np.random.default_rng(1).random(1000) < 0.3]
    noisy[500] = True
    alone2 = np.r_[np.ones(1000, bool), np.zeros(1000, bool)]
    sq = sequential(noisy, alone2, ~alone2)
    assert sq.absent and not sq.present
    f2 = f.copy()
    f2[:30:3] = True
    sq = sequential(f2, alone, ~alone)
    assert sq.present and not sq.absent
    few = np.r_[np.ones(5, bool), np.zeros(325, bool)]
    assert not sequential(f, few, ~few).tested


def test_throughput_flat_or_growing():
    flat = throughput(np.array([1, 4, 12, 32]), np.array([40, 44, 43, 41]), np.array([10.0, 10, 10, 10]),
                      np.full(4, 100))
    assert flat.tested and flat.gain < 1.2 and flat.flatness > 0.9
    grow = throughput(np.array([1, 4, 12, 32]), np.array([40, 160, 470, 1200]), np.array([10.0] * 4), np.full(4, 2000))
    assert grow.flatness < 0.1


def test_failures_that_fall_with_concurrency():
    # Nine in ten fail alone (a quiet service), one in ten with others in flight.
    rng = np.random.default_rng(3)
    f = np.r_[rng.random(30) < 0.9, rng.random(200) < 0.1]
    alone = np.r_[np.ones(30, bool), np.zeros(200, bool)]
    sq = sequential(f, alone, ~alone)
    assert sq.falls and sq.present and sq.falls_strength > 0.5
    # The same rate alone and together: present, but not falling.
    even = np.r_[rng.random(30) < 0.3, rng.random(200) < 0.3]
    assert not sequential(even, alone, ~alone).falls
    # A load failure (none alone) never falls.
    load = np.r_[np.zeros(30, bool), rng.random(200) < 0.3]
    assert not sequential(load, alone, ~alone).falls
