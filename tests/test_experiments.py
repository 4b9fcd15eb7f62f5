"""Each experiment against real lab services: it records what it is for, and shows what it should."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from tracehound import lab
from tracehound.case import Case
from tracehound.errors import BadTarget
from tracehound.experiments import Runner, baseline, canary_path, flow_delay, idle_gap, low_rate, sweep_level
from tracehound.flow import Flow
from tracehound.lab import servers
from tracehound.probe import Target


def _case(inst: lab.Instance, sc: lab.Scenario, **kw) -> Case:
    cfg = sc.probe_config(inst.url)
    return Case(target=cfg.target, flow=cfg.flow, base_url=cfg.base_url, timeout_s=sc.timeout, **kw)


def _failed(run) -> int:  # noqa: ANN001
    t = run.table
    st = pc.fill_null(t.column("status"), 0)
    bad = pc.or_(pc.greater_equal(st, 400), pc.is_valid(t.column("error_kind")))
    return int(pc.sum(pc.cast(bad, "int64")).as_py() or 0)


def test_case_refuses_what_cannot_be_investigated():
    with pytest.raises(BadTarget):
        Case()
    with pytest.raises(BadTarget):
        Case(target=Target("http://127.0.0.1:9/x"), budget_s=3)
    with pytest.raises(BadTarget):
        Case(flow=Flow.from_dict({"steps": [{"name": "a", "path": "/a"}]}))  # no base URL


def test_sweep_shows_the_pool_giving_out_and_the_canary_runs_beside_it(tmp_path: Path):
    sc = lab.get_scenario("demo")
    with lab.up(sc, log_dir=tmp_path / "logs") as inst:
        case = _case(inst, sc)
        r = Runner(case, tmp_path / "inv")
        try:
            base = r.run(baseline(case, seconds=2.0, requests=12))
            high = r.run(sweep_level(case, 32, 3.0))
        finally:
            servers.guard()
    assert base.failures == 0 and base.requests == 12
    assert high.failure_rate > 0.2
    meta = high.run.meta.experiment
    assert meta is not None and meta.kind == "sweep" and meta.concurrency == 32 and meta.role == "target"
    assert meta.purpose
    assert high.canary is not None, "the canary ran beside the sweep level"
    cmeta = high.canary.meta.experiment
    assert cmeta is not None and cmeta.role == "canary" and cmeta.during == "load"
    paths = set(high.canary.table.column("path").to_pylist())
    assert paths == {canary_path(case)} == {"/orders/__tracehound__canary"}
    assert {run.path for run in r.runs} == {base.run.path, high.run.path, high.canary.path}


def test_idle_gap_probe_finds_the_connection_killed_while_idle(tmp_path: Path):
    sc = lab.get_scenario("billing_stale_connection")
    with lab.up(sc, log_dir=tmp_path / "logs") as inst:
        case = _case(inst, sc)
        r = Runner(case, tmp_path / "inv")
        try:
            back_to_back = r.run(baseline(case, seconds=2.0, requests=10))
            gaps = r.run(idle_gap(case, [0.2, 2.0, 3.0]))
        finally:
            servers.guard()
    t = gaps.run.table.to_pylist()
    assert gaps.run.meta.experiment.kind == "idle_gap" and gaps.run.meta.experiment.gap_s == 3.0
    steps = [row["step"] for row in t]
    assert any("idle 3s" in s for s in steps) and any("idle 2s" in s for s in steps)
    after_long = [row for row in t if "idle 2s" in row["step"] or "idle 3s" in row["step"]]
    failed_after_long = [row for row in after_long if (row["status"] or 0) >= 400 or row["error_kind"]]
    assert failed_after_long, "a request after seconds of idle time meets a connection the database has closed"
    assert back_to_back.failures == 0


def test_low_rate_probe_outlives_the_token(tmp_path: Path):
    sc = lab.get_scenario("modules_token_expiry")
    with lab.up(sc, log_dir=tmp_path / "logs") as inst:
        case = _case(inst, sc)
        r = Runner(case, tmp_path / "inv")
        try:
            e = r.run(low_rate(case, seconds=9.0, rate=3.0, users=2))
        finally:
            servers.guard()
    rows = sorted(e.run.table.to_pylist(), key=lambda x: x["start_ns"])
    t0 = rows[0]["start_ns"]
    early = [x for x in rows if x["start_ns"] - t0 < 3e9]
    late = [x for x in rows if x["start_ns"] - t0 > 7e9]
    assert early and all(x["status"] < 400 for x in early)
    assert late and all(x["status"] == 401 or x["error_kind"] == "capture" for x in late)
    assert any(x["status"] == 401 for x in late)  # the create is refused; the read that needs its id is never sent


def test_flow_delay_gives_the_replica_time(tmp_path: Path):
    sc = lab.get_scenario("modules_replica_lag")
    with lab.up(sc, log_dir=tmp_path / "logs") as inst:
        case = _case(inst, sc)
        r = Runner(case, tmp_path / "inv")
        try:
            hurried = r.run(flow_delay(case, 4, 0.0, 4.0))
            patient = r.run(flow_delay(case, 4, 1.0, 4.0))
        finally:
            servers.guard()
    assert hurried.failures > 0
    assert patient.failures == 0 and patient.requests > 0
    assert patient.run.meta.experiment.delay_s == 1.0


def test_a_target_with_braces_in_its_body_survives_the_idle_probe(tmp_path: Path):
    sc = lab.get_scenario("healthy_slow")
    with lab.up(sc, log_dir=tmp_path / "logs") as inst:
        case = Case(target=Target(inst.url + "/quote?country=DE&net_cents=1000&x={literal}", "POST",
                                  (("Content-Type", "application/json"),), b'{"a": {"b": 1}}'))
        r = Runner(case, tmp_path / "inv")
        try:
            e = r.run(idle_gap(case, [0.1]))
        finally:
            servers.guard()
    rows = e.run.table.to_pylist()
    assert len(rows) == 2 and all(x["error_kind"] is None for x in rows)
    assert rows[0]["path"].endswith("x={literal}") or "%7Bliteral%7D" in rows[0]["path"]
