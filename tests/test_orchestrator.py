"""`tracehound investigate` end to end: the report contract, and bad input."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from conftest import DEMO_SECRETS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_target_is_one_line_and_no_diagnosis(cli, tmp_path: Path):
    port = _free_port()
    r = cli("investigate", f"http://127.0.0.1:{port}/x", "--out", str(tmp_path / "inv"), "--budget", "30")
    assert r.returncode == 3, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("tracehound: error:")]
    assert len(lines) == 1 and "unreachable" in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "inv" / "report.json").exists()


def test_bad_input_is_refused_before_any_load(cli, tmp_path: Path):
    r = cli("investigate", "http://127.0.0.1:9/x", "--budget", "3")
    assert r.returncode == 2 and "budget" in r.stderr and "Traceback" not in r.stderr
    r = cli("investigate", "--flow", str(tmp_path / "missing.yaml"), "http://127.0.0.1:9")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cli("investigate", "http://127.0.0.1:9/x", "--logs", str(tmp_path / "nope.log"))
    assert r.returncode == 2 and "nope.log" in r.stderr
    r = cli("investigate", "not a url")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_investigate_ranks_the_pool_for_the_demo_and_writes_the_report(demo_investigation):
    r, out = demo_investigation.result, demo_investigation.out
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "report.json").read_text())
    assert rep["schema"] == "tracehound.report/1" and rep["verdict"] == "reproduced"
    assert 0 < rep["failure_rate"] < 1 and rep["requests"] > 100
    ids = [h["id"] for h in rep["hypotheses"]]
    assert "db_pool_exhaustion" in ids[:3]
    top = rep["hypotheses"][0]
    assert top["evidence_for"] and all({"signal", "points", "why"} <= set(e) for e in top["evidence_for"])
    assert sum(h["confidence"] for h in rep["hypotheses"]) > 0.99
    kinds = [e["kind"] for e in rep["experiments"]]
    assert (kinds[0] == "baseline" and "sweep" in kinds
            and all(e["purpose"] and e["outcome"] for e in rep["experiments"]))
    agents = {a["name"]: a for a in rep["agents"]}
    assert agents["traffic"]["status"] == "ok"
    # The service's log was given: the log analyst read it and saw the pool run dry.
    assert agents["logs"]["status"] == "ok", agents["logs"]
    log_signals = {s["name"] for f in agents["logs"]["findings"] for s in f["signals"]}
    assert any(n.startswith("log:") for n in log_signals), log_signals
    # Bad sources cost only their own agent, each with one line saying why.
    for name in ("postgres", "redis"):
        assert agents[name]["status"] == "failed" and agents[name]["detail"], agents[name]
        assert "\n" not in agents[name]["detail"] and "Traceback" not in agents[name]["detail"]
    assert DEMO_SECRETS["dsn"] not in agents["postgres"]["detail"]  # the password stays out of the report
    assert agents["code"]["status"] == "ok" and "half_written.py" in json.dumps(agents["code"]), agents["code"]
    assert "core.bin" in agents["logs"]["detail"] and "empty.log" in agents["logs"]["detail"], agents["logs"]["detail"]
    assert agents["metrics"]["status"] == "skipped" and agents["metrics"]["detail"] == "no --metrics given"
    assert all(Path(p).is_dir() for p in rep["runs"])
    assert "db_pool_exhaustion" in r.stdout and "Report:" in r.stdout
    assert (out / "report.html").is_file() and (out / "report.md").is_file()


def test_a_malformed_har_fails_its_agent_alone(tmp_path: Path):
    """--har joins the agents; a truncated export costs that agent only, in one line."""
    import asyncio

    from tracehound.agents.run import run_agents
    from tracehound.case import Case, Sources
    from tracehound.probe import Target

    bad = tmp_path / "session.har"
    bad.write_text('{"log": {"entries": [')
    case = Case(target=Target("http://127.0.0.1:9/x"), sources=Sources(har=[bad]))
    agents = {a.name: a for a in asyncio.run(run_agents(case, []))}
    assert agents["har"].status == "failed" and "session.har" in agents["har"].detail
    assert "\n" not in agents["har"].detail and "Traceback" not in agents["har"].detail
    assert agents["browser"].status == "skipped" and agents["logs"].status == "skipped"
