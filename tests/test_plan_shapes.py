"""The experiments that split what the wire could not (tracehound.plan.shapes), each on a service that fails
that way and on one that fails otherwise (tests/servers/exp_app.py)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracehound.agents.traffic import SIGNALS as TRAFFIC_SIGNALS
from tracehound.agents.traffic import analyze
from tracehound.analysis.knee import knee
from tracehound.case import Case
from tracehound.diagnosis.catalog import load_catalog
from tracehound.diagnosis.signals import REGISTRY
from tracehound.errors import BadShape
from tracehound.experiments import Experiment, Runner, baseline, confirm, low_rate, sweep_level
from tracehound.plan.shapes import SIGNALS, bursts, fresh_connections, knee_levels, steady, timeout_varied
from tracehound.probe import LoadShape, Target
from tracehound.probe.meta import read_meta
from tracehound.probe.shapes import ArrivalSchedule

ROOT = Path(__file__).resolve().parent.parent
#: How long a server may take to start on a busy machine (a deadline, not a duration).
START_TIMEOUT_S = 60.0


@contextlib.contextmanager
def serving(*flags: str) -> Iterator[str]:
    """tests/servers/exp_app.py with ``flags``: its base URL, until the block ends."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.servers.exp_app", *flags], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("listening on "), f"exp_app did not start: {line!r}"
        yield "http://" + line.split()[-1]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _case(url: str, timeout_s: float = 5.0) -> Case:
    return Case(target=Target(url + "/x"), timeout_s=timeout_s)


def _level(case: Case, c: int, seconds: float) -> Experiment:
    exp = sweep_level(case, c, seconds)
    exp.with_canary = False  # the canary answers another question; these tests keep to the variant's
    return exp


def _signals(runner: Runner) -> tuple[dict[str, float], set[str]]:
    res = analyze(runner.runs)
    return {s.name: s.strength for s in res.signals}, set(res.tested)


# -- the table the planner reads -----------------------------------------------------------------------


def test_every_variant_signal_is_registered_emitted_and_weighed_by_the_catalog():
    catalog = load_catalog()
    for kind, names in SIGNALS.items():
        for name in names:
            assert name in REGISTRY and REGISTRY[name].source == "traffic", (kind, name)
            assert name in TRAFFIC_SIGNALS, (kind, name)
            weighed = [m.id for m in catalog.values() if name in m.signals]
            assert any(catalog[i].signals[name] > 0 for i in weighed), f"{name}: no mode predicts it"
            assert any(catalog[i].signals[name] < 0 for i in weighed), f"{name}: no mode predicts against it"


def test_variants_keep_the_condition_they_repeat_and_the_runner_honours_them(tmp_path: Path):
    case = _case("http://127.0.0.1:9", timeout_s=5.0)
    like = low_rate(case, seconds=3.0, rate=5.0, users=1)
    fresh = fresh_connections(case, like)
    assert (fresh.kind, fresh.like, fresh.keepalive, fresh.rate) == ("fresh_conn", "low_rate", False, 5.0)
    assert fresh.shape == like.shape and fresh.shape is not like.shape
    assert confirm(fresh, 2.0).keepalive is False  # confirming it confirms its condition
    longer = timeout_varied(case, like, 30.0)
    assert (longer.timeout_s, longer.keepalive, longer.like) == (30.0, True, "low_rate")
    assert longer.shape.max_duration >= 3.0 + 30.0  # its last requests may wait for the longer timeout
    runner = Runner(case, tmp_path)
    assert runner.config(fresh, "f").keepalive is False and runner.config(fresh, "f").timeout == 5.0
    assert runner.config(longer, "t").timeout == 30.0 and runner.config(like, "l").keepalive is True
    with pytest.raises(BadShape):
        timeout_varied(case, like, 0.0)
    with pytest.raises(BadShape):
        bursts(case, rate=10.0, seconds=2.0, burst_s=1.0, period_s=1.0)


# -- fresh connections ---------------------------------------------------------------------------------


def _fresh_against_reused(url: str, tmp_path: Path) -> tuple[Runner, Experiment, Experiment]:
    case = _case(url)
    r = Runner(case, tmp_path)
    reused = r.run(low_rate(case, seconds=4.0, rate=5.0, users=1))
    fresh = r.run(fresh_connections(case, reused))
    return r, reused, fresh


def test_fresh_connections_clear_a_keepalive_race(tmp_path: Path):
    with serving("--idle-reset-ms", "100") as url:
        r, reused, fresh = _fresh_against_reused(url, tmp_path)
    meta = fresh.run.meta
    assert meta.experiment.kind == "fresh_conn" and meta.experiment.keepalive is False
    assert meta.experiment.like == "low_rate" and meta.options.keepalive is False
    assert read_meta(reused.run.path).experiment.keepalive is None  # an ordinary run's block is as it was
    assert reused.failures >= 4 and fresh.failures == 0
    sigs, tested = _signals(r)
    assert "failures_need_reused_connection" in tested
    assert sigs.get("failures_need_reused_connection", 0) > 0.3
    assert "failures_persist_on_fresh_connections" not in sigs


def test_fresh_connections_keep_failing_when_the_server_fails_every_nth_request(tmp_path: Path):
    with serving("--fail-every", "3") as url:
        r, reused, fresh = _fresh_against_reused(url, tmp_path)
    assert reused.failures >= 4 and fresh.failures >= 4
    sigs, tested = _signals(r)
    assert "failures_need_reused_connection" in tested and "failures_need_reused_connection" not in sigs
    assert sigs.get("failures_persist_on_fresh_connections", 0) > 0.3


# -- the client timeout ------------------------------------------------------------------------------


def _two_timeouts(url: str, tmp_path: Path, short: float, long: float) -> dict[str, float]:
    case = _case(url, timeout_s=short)
    r = Runner(case, tmp_path)
    first = r.run(_level(case, 4, 3.0))
    assert first.failures >= 3, first.outcome
    again = r.run(timeout_varied(case, first, long))
    assert again.run.meta.options.timeout_s == long and again.run.meta.experiment.timeout_s == long
    sigs, tested = _signals(r)
    assert {"failures_follow_client_timeout", "slow_not_stuck", "failure_latency_fixed_by_server"} <= tested
    return sigs


VARIED = ("failures_follow_client_timeout", "slow_not_stuck", "failure_latency_fixed_by_server")


@pytest.mark.parametrize(("flags", "short", "long", "expected"), [
    (("--hang-every", "4"), 0.3, 1.0, "failures_follow_client_timeout"),
    (("--slow-every", "4", "--slow-ms", "700"), 0.3, 2.0, "slow_not_stuck"),
    (("--slow-every", "4", "--slow-ms", "5000", "--cut-ms", "400"), 1.0, 2.0, "failure_latency_fixed_by_server"),
], ids=["hangs", "slow", "gateway-cut"])
def test_another_client_timeout_tells_whose_time_the_failures_keep(tmp_path: Path, flags, short, long, expected):
    with serving(*flags) as url:
        sigs = _two_timeouts(url, tmp_path, short, long)
    assert sigs.get(expected, 0) > 0.3, sigs
    assert not {s for s in VARIED if s != expected} & set(sigs), sigs


# -- bursts --------------------------------------------------------------------------------------------


def test_a_burst_shape_sends_each_periods_arrivals_in_its_first_part():
    exp = bursts(_case("http://127.0.0.1:9"), rate=10.0, seconds=3.0, burst_s=0.1)
    sched = ArrivalSchedule(exp.shape)
    at = [sched.offset_ns(k) / 1e9 for k in range(int(sched.total))]
    assert len(at) == 30 and sched.offset_ns(30) == float("inf")
    assert all((t % 1.0) < 0.1 + 1e-9 for t in at), at  # nothing in the quiet part of a period
    assert [sum(1 for t in at if int(t) == p) for p in range(3)] == [10, 10, 10]


def _bursts_against_steady(url: str, tmp_path: Path) -> tuple[Runner, Experiment, Experiment]:
    case = _case(url)
    r = Runner(case, tmp_path)
    even = r.run(steady(case, 10.0, 3.0))
    burst = r.run(bursts(case, 10.0, 3.0, burst_s=0.1))
    return r, even, burst


def test_bursts_fail_where_steady_arrivals_at_the_same_rate_do_not_behind_a_window_limit(tmp_path: Path):
    with serving("--window-ms", "200", "--window-limit", "3") as url:
        r, even, burst = _bursts_against_steady(url, tmp_path)
    assert abs(even.requests - burst.requests) <= 3
    assert burst.run.meta.experiment.burst_s == 0.1 and burst.run.meta.experiment.kind == "burst"
    assert even.failures <= 1 and burst.failures >= 6, (even.outcome, burst.outcome)
    sigs, tested = _signals(r)
    assert sigs.get("failures_follow_bursts", 0) > 0.3


def test_bursts_change_nothing_for_a_fault_that_ignores_spacing(tmp_path: Path):
    with serving("--fail-every", "4") as url:
        r, even, burst = _bursts_against_steady(url, tmp_path)
    sigs, tested = _signals(r)
    assert "failures_follow_bursts" in tested and "failures_follow_bursts" not in sigs


# -- the knee --------------------------------------------------------------------------------------------


def _done(c: int, failures: int, requests: int = 100) -> Experiment:
    exp = Experiment("sweep", "", LoadShape(concurrency=c, duration=1.0), concurrency=c)
    exp.failures, exp.requests = failures, requests
    return exp


def test_knee_levels_split_the_interval_between_the_last_level_that_held_and_the_first_that_failed():
    case = _case("http://127.0.0.1:9")
    assert knee_levels(case, [_done(2, 0), _done(8, 30)]) == [4, 5, 6]
    assert knee_levels(case, [_done(2, 0), _done(8, 30)], most=1) == [5]
    assert knee_levels(case, [_done(2, 0), _done(4, 0), _done(5, 20), _done(8, 30)]) == []  # found to one level
    assert knee_levels(case, [_done(1, 5), _done(8, 30)]) == []  # nothing held
    assert knee_levels(case, [_done(2, 0), _done(8, 1, 500)]) == []  # a stray failure is not a failing level
    assert knee_levels(case, [_done(1, 0), _done(4, 0), _done(16, 40), _done(5, 0), _done(6, 0)]) == [8, 11, 14]
    k = knee([(1, 0, 50), (4, 0, 50), (5, 10, 50), (8, 20, 50)])
    assert k is not None and (k.held, k.failed, k.monotone) == (4, 5, True)


def test_the_knee_estimates_a_pool_size(tmp_path: Path):
    with serving("--pool", "4", "--hold-ms", "100", "--wait-ms", "20") as url:
        case = _case(url)
        r = Runner(case, tmp_path)
        run = [r.run(_level(case, 2, 2.0)), r.run(_level(case, 8, 2.0))]
        more = knee_levels(case, run)
        assert more == [4, 5, 6]
        run += [r.run(_level(case, c, 2.0)) for c in more]
    assert knee_levels(case, run) == []
    res = analyze(r.runs)
    found = [f for f in res.findings if f.title == "Where failures begin"]
    assert found and found[0].detail.startswith(
        "failures begin between 4 and 5 concurrent users: a limit of about 4 (pool or workers)"), found
    assert {s.name: s.strength for s in res.signals}.get("failures_begin_at_fixed_concurrency", 0) > 0.3


def test_no_knee_where_failures_do_not_wait_for_concurrency(tmp_path: Path):
    with serving("--fail-every", "5") as url:
        case = _case(url)
        r = Runner(case, tmp_path)
        run = [r.run(baseline(case, seconds=1.0, requests=20)), r.run(_level(case, 2, 1.5)),
               r.run(_level(case, 8, 1.5))]
    assert knee_levels(case, run) == []
    sigs, tested = _signals(r)
    assert "failures_begin_at_fixed_concurrency" in tested and "failures_begin_at_fixed_concurrency" not in sigs
