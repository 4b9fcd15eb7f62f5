"""Connection structure: drops on reused connections, and failures after idle gaps."""

from __future__ import annotations

import numpy as np

from tracehound.analysis.connections import connection_structure, gap_effect


def test_drops_on_reused_connections():
    rng = np.random.default_rng(0)
    n = 3000
    reused = (rng.random(n) < 0.8).astype(np.int8)
    dropped = (reused == 1) & (rng.random(n) < 0.05)
    cs = connection_structure(reused, dropped, np.ones(n, bool), dropped)
    assert cs.reset_on_reused and cs.reused_share_of_drops == 1.0
    assert cs.reset_strength > 0.8


def test_drops_spread_over_new_and_reused_are_not_about_reuse():
    rng = np.random.default_rng(1)
    n = 3000
    reused = (rng.random(n) < 0.5).astype(np.int8)
    dropped = rng.random(n) < 0.05
    cs = connection_structure(reused, dropped, np.ones(n, bool), dropped)
    assert not cs.reset_on_reused


def test_failures_after_quiet_time():
    rng = np.random.default_rng(2)
    n = 600
    quiet = np.where(rng.random(n) < 0.05, rng.uniform(1000, 4000, n), rng.uniform(0, 200, n))
    failed = (quiet >= 1000) & (rng.random(n) < 0.9)
    g = gap_effect(quiet, failed, np.ones(n, bool), "quiet")
    assert g.tested and g.significant and g.effect > 0.5
    assert g.steady[0] == 0


def test_a_handful_of_gaps_is_enough_when_steady_traffic_never_fails():
    quiet = np.r_[np.full(400, 20.0), [1500.0, 3000.0]]
    failed = np.r_[np.zeros(400, bool), [True, True]]
    g = gap_effect(quiet, failed, np.ones(402, bool), "quiet")
    assert g.significant and 0.3 < g.effect < 0.8


def test_failures_independent_of_idle_time():
    rng = np.random.default_rng(3)
    n = 2000
    quiet = np.where(rng.random(n) < 0.1, rng.uniform(1000, 4000, n), rng.uniform(0, 200, n))
    failed = rng.random(n) < 0.1
    g = gap_effect(quiet, failed, np.ones(n, bool), "quiet")
    assert g.tested and not g.significant


def test_no_gaps_no_test():
    g = gap_effect(np.full(100, 10.0), np.zeros(100, bool), np.ones(100, bool), "quiet")
    assert not g.tested


def test_a_long_idle_timeout_shows_past_the_short_line():
    # Failures only after 5 s or more of quiet (a 12 s idle timeout), among many short pauses that
    # never fail and some of 1-5 s that do not either: at a fixed 1 s line the long pauses are diluted.
    quiet = np.r_[np.full(12, 100.0), np.full(3, 600.0), np.full(10, 2500.0), np.full(7, 14000.0)]
    failed = np.r_[np.zeros(25, bool), [True, False, True, True, False, True, False]]
    fixed = gap_effect(quiet, failed, np.ones(len(quiet), bool), "quiet", gap_ms=1000.0)
    assert not fixed.significant
    g = gap_effect(quiet, failed, np.ones(len(quiet), bool), "quiet")
    assert g.significant and g.gap_ms == 5000.0 and g.after_gap == (4, 7) and g.steady == (0, 25)


def test_too_few_failures_to_show_an_idle_effect_leave_it_untested_not_absent():
    # One failure among forty requests after gaps: even had it come after a gap, one in forty
    # against none in steady traffic would prove nothing; the test is not run, so the cause it
    # points to is not marked down.
    quiet = np.r_[np.full(60, 20.0), np.full(40, 3000.0)]
    failed = np.zeros(100, bool)
    failed[5] = True
    g = gap_effect(quiet, failed, np.ones(100, bool), "quiet")
    assert not g.powered and not g.tested and not g.significant
    # Failures enough, spread alike over gaps and steady traffic: tested, and not significant.
    failed2 = np.zeros(100, bool)
    failed2[[1, 11, 21, 31, 41, 51, 61, 71, 81, 91]] = True
    g2 = gap_effect(quiet, failed2, np.ones(100, bool), "quiet")
    assert g2.powered and g2.tested and not g2.significant
