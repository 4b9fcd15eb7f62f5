"""The canaries: a stalled service must not hide its stall (timeouts are slow samples, too few
samples leave a test untested), and a cheap path the service serves is found and used."""

from __future__ import annotations

import numpy as np
import pytest

from tracehound import lab
from tracehound.agents.traffic import analyze
from tracehound.agents.traffic.canary import fail_testable, slow_testable
from tracehound.analysis.synthetic import FakeRun, experiment, table
from tracehound.case import Case
from tracehound.diagnosis.catalog import load_catalog
from tracehound.diagnosis.scoring import score
from tracehound.experiments import Runner, baseline, sweep_level
from tracehound.lab import servers
from tracehound.plan.cheap import candidates, parent_path

SLOWS = "unrelated_endpoint_slows_under_load"
SEC = 10**9
STALL = "shipping_labels_sync_client"


def _canary(n, during, *, latency_ms, at_s, served=False, error_kind=None, status=404, path="/api/__c__", seed=0):
    t = table(n, concurrency=2, latency_ms=latency_ms, status=status, error_kind=error_kind, path=path, seed=seed,
              epoch_ns=1_700_000_000 * SEC + int(at_s * SEC))
    return FakeRun(t, experiment("canary", 12, role="canary", during=during, served=served),
                   f"{'served' if served else 'canary'}-{during}-{at_s}")


def _target(at_s: float, seed: int = 0) -> FakeRun:
    rng = np.random.default_rng(seed)
    t = table(120, concurrency=12, latency_ms=rng.normal(2000, 100, 120), seed=seed,
              epoch_ns=1_700_000_000 * SEC + int(at_s * SEC))
    return FakeRun(t, experiment("sweep", 12), "sweep-c12")


def _signals(res) -> dict[str, float]:
    return {s.name: s.strength for s in res.signals}


def test_the_minimum_sample_rule_asks_whether_the_test_could_reach_its_level():
    # Five answers under load against ten idle cannot reach p < 1e-3 even if all five are the slowest.
    assert not slow_testable(5, 10)
    assert slow_testable(20, 10)
    assert not fail_testable(1, 10) and fail_testable(20, 10)


def test_too_few_canary_samples_leave_the_slowdown_untested_never_absent():
    rng = np.random.default_rng(1)
    runs = [_canary(10, "idle", latency_ms=rng.normal(1.0, 0.1, 10), at_s=0),
            _target(3), _canary(5, "load", latency_ms=rng.normal(4000, 200, 5), at_s=3)]
    res = analyze(runs)
    assert SLOWS not in res.tested and SLOWS not in _signals(res)
    # So the blocked loop is not marked down for a slowdown the data could not show.
    catalog = list(load_catalog().values())
    loop = next(h for h in score(catalog, res.signals, res.tested) if h.id == "event_loop_blocking")
    assert SLOWS not in {e.signal for e in loop.evidence_against}


def test_canary_timeouts_count_as_slow_samples():
    rng = np.random.default_rng(2)
    n = 20
    timed_out = np.arange(n) >= 5  # five answered late, fifteen waited out the canary's timeout
    lat = np.where(timed_out, rng.normal(3005, 3, n), rng.normal(2500, 200, n))
    runs = [_canary(10, "idle", latency_ms=rng.normal(1.0, 0.1, 10), at_s=0), _target(3),
            _canary(n, "load", latency_ms=lat, at_s=3, status=np.where(timed_out, 0, 404),
                    error_kind=[("timeout" if x else None) for x in timed_out])]
    res = analyze(runs)
    assert SLOWS in res.tested
    assert _signals(res)[SLOWS] > 0.8
    finding = next(f for f in res.findings if f.title == "An unrelated request during the load")
    assert "15 of them timed out" in finding.detail


def test_a_stall_that_holds_some_canaries_is_a_slowdown_by_their_share():
    # A loop blocked now and then: 16 of 40 canaries under load wait about 200 ms, the rest pass
    # as fast as idle. Ranks over all of them move too little; the held share stands out.
    rng = np.random.default_rng(5)
    held = np.arange(40) % 5 < 2
    lat = np.where(held, rng.normal(200, 20, 40), rng.normal(1.0, 0.1, 40))
    runs = [_canary(30, "idle", latency_ms=rng.normal(1.0, 0.1, 30), at_s=0), _target(3),
            _canary(40, "load", latency_ms=lat, at_s=3)]
    res = analyze(runs)
    assert SLOWS in res.tested and _signals(res).get(SLOWS, 0) > 0.3, _signals(res)
    finding = next(f for f in res.findings if f.title == "An unrelated request during the load")
    assert "16 of 40 held past" in finding.detail
    # The same share held by a few milliseconds is contention on a shared machine, not a stall.
    mild = np.where(held, rng.normal(40, 5, 40), rng.normal(1.0, 0.1, 40))
    calm = analyze([_canary(30, "idle", latency_ms=rng.normal(1.0, 0.1, 30), at_s=0), _target(3),
                    _canary(40, "load", latency_ms=mild, at_s=3)])
    assert SLOWS in calm.tested and SLOWS not in _signals(calm)


def test_a_served_canary_shows_the_stall_a_gateway_answered_canary_hides():
    rng = np.random.default_rng(3)
    runs = [_canary(10, "idle", latency_ms=rng.normal(1.0, 0.1, 10), at_s=0),
            _canary(10, "idle", latency_ms=rng.normal(1.5, 0.1, 10), at_s=0, served=True, status=200, path="/health"),
            _target(3),
            # The gateway answers the unserved path itself: as fast under load as idle.
            _canary(30, "load", latency_ms=rng.normal(1.0, 0.1, 30), at_s=3),
            _canary(30, "load", latency_ms=rng.normal(2500, 300, 30), at_s=3, served=True, status=200, path="/health")]
    res = analyze(runs)
    assert _signals(res)[SLOWS] > 0.8
    detail = next(f for f in res.findings if f.title == "An unrelated request during the load").detail
    assert "the path nothing serves (/api/__c__)" in detail and "a cheap path the service serves (/health)" in detail
    # Without the served canary, the same load shows nothing: tested, not emitted.
    alone = analyze([r for r in runs if not r.meta.experiment.served])
    assert SLOWS in alone.tested and SLOWS not in _signals(alone)


def test_cheap_candidates_skip_the_target_and_add_its_parent():
    from tracehound.probe import Target

    case = Case(target=Target("http://127.0.0.1:9/api/shipments/42"))
    got = candidates(case)
    assert got[-1] == "/api/shipments" and "/health" in got and "/api/shipments/42" not in got
    assert "/health" not in candidates(Case(target=Target("http://127.0.0.1:9/health")))
    assert parent_path("/api/{tenant}/orders") is None and parent_path("/x") is None


def _case(inst: lab.Instance, sc: lab.Scenario, **kw) -> Case:
    cfg = sc.probe_config(inst.url)
    return Case(target=cfg.target, flow=cfg.flow, base_url=cfg.base_url, timeout_s=sc.timeout, **kw)


@pytest.mark.lab
@pytest.mark.parametrize("fixed", [False, True], ids=["faulty", "twin"])
def test_a_blocked_loop_slows_both_canaries_and_its_twin_slows_neither(fixed: bool, tmp_path):
    """Real runs: the canaries idle and beside twelve users, on the stall and on its fixed twin."""
    sc = lab.get_scenario(STALL)
    with lab.up(sc, fixed=fixed, log_dir=tmp_path / "logs") as inst:
        case = _case(inst, sc)
        r = Runner(case, tmp_path / "inv")
        try:
            r.run(baseline(case, seconds=2.0, requests=3))
            idle = r.canary_alone(2.0)
            loaded = r.run(sweep_level(case, 12, 5.0))
        finally:
            servers.guard()
    assert r.cheap_path == "/health", "the service's health check was found and is not the target"
    assert len(idle) == 2 and len(loaded.canaries) == 2
    assert {bool(c.meta.experiment.served) for c in loaded.canaries} == {False, True}
    res = analyze(r.runs)
    assert SLOWS in res.tested
    if fixed:
        assert SLOWS not in _signals(res)
    else:
        assert _signals(res)[SLOWS] > 0.5
        # Under load every canary request was still sent (the open model held nothing back).
        for c in loaded.canaries:
            assert (c.meta.counts.dropped or 0) == 0
            assert c.table.num_rows >= 20


@pytest.mark.lab
@pytest.mark.slow
def test_an_investigation_of_the_stall_sees_the_canaries_slow(tmp_path):
    # The twin's side is the recorded runs above: its canaries tested and not slowed.
    from tracehound.orchestrator import investigate

    fixed = False
    sc = lab.get_scenario(STALL)
    with lab.up(sc, fixed=fixed, log_dir=tmp_path / "logs") as inst:
        try:
            inv = investigate(_case(inst, sc, budget_s=60, symptom=sc.symptom), tmp_path / "inv")
        finally:
            servers.guard()
    traffic = next(a for a in inv.agents if a.name == "traffic")
    seen = {s.name for s in traffic.signals}
    assert SLOWS in traffic.tested and SLOWS in seen
    loop = next(h for h in inv.hypotheses if h.id == "event_loop_blocking")
    assert SLOWS in {e.signal for e in loop.evidence_for}
