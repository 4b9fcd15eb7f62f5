"""Minority body shapes among 2xx answers, with no expectation given: found, marked as failures, idempotent;
and found black-box on a lab service that answers 200 with an empty table now and then.

The lab's stock_levels_race (Flask under gunicorn's threads, no flow, no expectation given) empties a
shared list while it re-reads its source, and threads that answer meanwhile serve it empty. Only the
URL goes in: the investigation must find the minority bodies itself, count them as failures, and rank
the race among the first three; its fixed twin, under the same investigation, must stay clean.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import numpy as np
import pyarrow as pa
import pytest

from tracehound import lab
from tracehound.agents.traffic import traffic_agent
from tracehound.analysis import synthetic
from tracehound.analysis.content import content_anomalies, request_kinds, wrong_rows
from tracehound.analysis.frame import Frame
from tracehound.expect import WRONG_BODY
from tracehound.lab import servers
from tracehound.probe import summarize
from tracehound.probe.meta import RUN_SCHEMA, RunMeta, write_meta
from tracehound.probe.run import Run, write_table
from tracehound.wrong_body import PREFIX, find_wrong_bodies, mark_wrong_bodies

FULL = '{"warehouse": "main", "levels": [{"sku": "A1", "on_hand": 3}, {"sku": "A2", "on_hand": 9}], "count": 2}'
EMPTY = '{"warehouse": "main", "levels": [], "count": 0}'


def _run(folder: Path, n: int, concurrency: int, wrong_every: int | None, kind: str = "sweep", role: str = "target",
         meta: dict | None = None, body_hash_varies: bool = False) -> Run:
    """A run folder: ``n`` answers 200, every ``wrong_every``-th an empty table (smaller too)."""
    i = np.arange(n)
    wrong = (i % wrong_every == 0) if wrong_every else np.zeros(n, bool)
    t = synthetic.table(n, concurrency=concurrency, inflight=np.full(n, concurrency),
                        body_sample=np.where(wrong, EMPTY, FULL), bytes_in=np.where(wrong, 180, 2900),
                        body_hash=(np.array([f"{k:016x}" for k in i]) if body_hash_varies
                                   else np.where(wrong, "00000000000000e1", "00000000000000f1")),
                        path="/stock", seed=concurrency)
    folder.mkdir(parents=True)
    write_table(folder, t)
    write_meta(folder, _meta(kind, role, concurrency, meta))
    return Run.load(folder)


def _meta(kind: str, role: str, concurrency: int, extra: dict | None = None) -> RunMeta:
    return RunMeta.model_validate({"schema": RUN_SCHEMA, "experiment": {"kind": kind, "role": role,
                                                                        "concurrency": concurrency}, **(extra or {})})


@pytest.fixture
def runs(tmp_path) -> list[Run]:
    return [_run(tmp_path / "01-baseline", 30, 1, None, kind="baseline"),
            _run(tmp_path / "02-sweep-c4", 400, 4, 40),
            _run(tmp_path / "03-sweep-c16", 800, 16, 12),
            _run(tmp_path / "04-canary", 50, 2, 3, kind="canary", role="canary")]


def test_minority_shapes_are_found_pooled_and_marked_as_failures(runs):
    before = [summarize(r.table, r.meta).failed for r in runs]
    assert before == [0, 0, 0, 0]
    found = mark_wrong_bodies(runs)
    assert found.count == 10 + 67
    assert found.by_run == {runs[1].path: 10, runs[2].path: 67}
    assert found.lines and "are {}".replace("{}", "") in found.lines[0] and "(size)" in found.lines[0]
    fresh = [Run.load(r.path) for r in runs]  # what any reader sees from now on
    assert [summarize(r.table, r.meta).failed for r in fresh] == [0, 10, 67, 0]
    rows = fresh[2].table.to_pylist()
    marked = [r for r in rows if r["error_kind"] == WRONG_BODY]
    assert len(marked) == 67 and all(r["status"] == 200 and r["error"].startswith(PREFIX) for r in marked)
    assert json.loads((runs[2].path / "run.json").read_text())["wrong_body"]["rows"] == 67
    assert fresh[3].meta.wrong_body is None  # the canary's answers are never judged


def test_marking_again_changes_nothing_and_unmarks_what_no_longer_departs(runs, tmp_path):
    mark_wrong_bodies(runs)
    stamp = (runs[2].path / "requests.parquet").stat().st_mtime_ns
    again = mark_wrong_bodies([Run.load(r.path) for r in runs])
    assert again.count == 77
    assert (runs[2].path / "requests.parquet").stat().st_mtime_ns == stamp  # nothing rewritten
    # Beside a run of empty tables only, the empty table is the majority: the marks move to the full ones.
    flood = _run(tmp_path / "05-flood", 3000, 16, 1)
    moved = mark_wrong_bodies([Run.load(runs[1].path), flood])
    assert moved.by_run == {runs[1].path: 390}
    rows = Run.load(runs[1].path).table.to_pylist()
    assert {r["body_sample"] for r in rows if r["error_kind"] == WRONG_BODY} == {FULL}
    assert Run.load(runs[1].path).meta.wrong_body.rows == 390


def test_analyze_counts_them_and_leaves_the_folder_as_it_was(tmp_path):
    from tracehound.inspection import analyze_folder

    r = _run(tmp_path / "probe", 600, 8, 20, kind="probe")
    stamp = (r.path / "requests.parquet").stat().st_mtime_ns
    res = analyze_folder(r.path)
    assert res.result.failures == 30
    assert (r.path / "requests.parquet").stat().st_mtime_ns == stamp and Run.load(r.path).meta.wrong_body is None


def test_a_run_judged_by_an_expectation_is_left_to_it(tmp_path):
    r = _run(tmp_path / "x", 400, 8, 10, meta={"expect": ["$.levels"]})
    assert find_wrong_bodies([r]).count == 0


def test_varied_healthy_bodies_mark_nothing(tmp_path):
    # Every body different in its hash (timestamps), sizes spread: nothing departs in shape or size.
    rng = np.random.default_rng(1)
    n = 600
    t = synthetic.table(n, body_sample=[f'{{"id": {k}, "at": "2026-01-01T00:00:{k % 60:02d}Z"}}' for k in range(n)],
                        bytes_in=rng.integers(100, 900, n), body_hash=[f"{k:016x}" for k in range(n)],
                        path=[f"/items/{k}" for k in range(n)])
    (tmp_path / "r").mkdir()
    write_table(tmp_path / "r", t)
    write_meta(tmp_path / "r", _meta("sweep", "target", 8))
    assert mark_wrong_bodies([Run.load(tmp_path / "r")]).count == 0


def test_a_hash_alone_is_not_a_wrong_body(tmp_path):
    # 97 % byte-identical, 3 % another body of the same shape and size: different, not wrong.
    n = 600
    same = np.arange(n) % 33 != 0
    t = synthetic.table(n, body_sample=FULL, bytes_in=2900,
                        body_hash=np.where(same, "00000000000000f1", "00000000000000f2"))
    (tmp_path / "r").mkdir()
    write_table(tmp_path / "r", t)
    write_meta(tmp_path / "r", _meta("sweep", "target", 8))
    assert mark_wrong_bodies([Run.load(tmp_path / "r")]).count == 0


def test_answers_that_say_they_failed_are_failures_even_when_most_say_it(tmp_path):
    from tracehound.agents.traffic import analyze
    from tracehound.expect import ERROR_BODY_PREFIX

    # A limiter answering 200 {"ok": false, …} to most requests under load, the same keys as a right answer.
    n = 400
    refused = np.arange(n) % 5 != 0
    right = '{"ok": true, "parcel": {"state": "sorted"}, "error": null}'
    said = '{"ok": false, "parcel": null, "error": "later"}'
    t = synthetic.table(n, concurrency=8, inflight=np.full(n, 8), body_sample=np.where(refused, said, right),
                        bytes_in=np.where(refused, 48, 58), path="/parcels/7",
                        body_hash=np.where(refused, "00000000000000a1", "00000000000000b1"))
    (tmp_path / "r").mkdir()
    write_table(tmp_path / "r", t)
    write_meta(tmp_path / "r", _meta("sweep", "target", 8))
    found = mark_wrong_bodies([Run.load(tmp_path / "r")])
    assert found.count == int(refused.sum()) and "says it failed" in found.lines[0]
    run = Run.load(tmp_path / "r")
    rows = run.table.to_pylist()
    assert all(r["error"].startswith(ERROR_BODY_PREFIX) for r in rows if r["error_kind"] == WRONG_BODY)
    # Read as the service reporting its own error, not as a wrong answer it believes right.
    names = {s.name for s in analyze([run]).signals}
    assert "failures_are_error_bodies" in names
    assert not {"failures_are_wrong_bodies", "ok_status_body_anomaly"} & names


def test_request_kinds_give_every_row_a_kind():
    # A plain target's rows beside an idle-gap run's named steps: none is left without a kind.
    n = 6
    t = synthetic.table(n, step=[None, None, None, "target (idle 1s)", "target (idle 3s)", None],
                        path=["/items/1", "/items/22", "/items/333", "/items/1", "/items/1", "/users/7"])
    f = Frame(t)
    codes, names = request_kinds(f.codes("step"), f.codes("method"), f.codes("path", 1 << 20), f.n)
    assert (codes >= 0).all()
    want = {("/items/1", None): "GET /items/N", ("/items/22", None): "GET /items/N",
            ("/items/333", None): "GET /items/N", ("/items/1", "target (idle 1s)"): "target (idle 1s)",
            ("/items/1", "target (idle 3s)"): "target (idle 3s)", ("/users/7", None): "GET /users/N"}
    rows = t.select(["path", "step"]).to_pylist()  # in the table's own order
    assert [names[c] for c in codes] == [want[(r["path"], r["step"])] for r in rows]
    assert len(names) == 4


def test_wrong_rows_leave_hash_only_departures_out():
    n = 300
    samples = pa.array([FULL] * (n - 12) + [EMPTY] * 6 + [FULL] * 6, pa.string())
    sizes = np.array([2900] * (n - 12) + [180] * 6 + [2900] * 6)
    found = content_anomalies(np.zeros(n, np.int32), ["all"], np.ones(n, bool), sizes, samples)
    rows = wrong_rows(found)
    assert rows.tolist() == list(range(n - 12, n - 6))


def test_the_traffic_agent_sees_them_follow_concurrency(runs):
    mark_wrong_bodies(runs)
    fresh = [Run.load(r.path) for r in runs]
    res = asyncio.run(traffic_agent(None, fresh))
    names = {s.name: s for s in res.signals}
    assert "ok_status_body_anomaly" in names
    assert "minority_body_shape_rises_with_concurrency" in names, [f.title for f in res.findings]
    assert "minority_body_shape_rises_with_concurrency" in res.tested
    assert "failures_rise_with_concurrency" in names  # the marked answers are failures like any other


def test_no_rise_when_the_minority_is_as_common_alone(tmp_path):
    runs = [_run(tmp_path / "a", 300, 1, 10, kind="baseline"), _run(tmp_path / "b", 300, 16, 10)]
    mark_wrong_bodies(runs)
    res = asyncio.run(traffic_agent(None, [Run.load(r.path) for r in runs]))
    assert "minority_body_shape_rises_with_concurrency" not in {s.name for s in res.signals}


# -- black box, on the lab --------------------------------------------------------------------

SCENARIO = "stock_levels_race"
#: Enough for the baseline and a sweep; short, so that the pair costs well under a minute and a half.
BUDGET = {"faulty": "30", "twin": "20"}


@dataclass
class Result:
    cli: CompletedProcess[str]
    out: Path
    #: The faulty version's report verified against this version.
    verify: CompletedProcess[str]

    @property
    def report(self) -> dict:
        return json.loads((self.out / "report.json").read_text())


def _investigate(cli, tmp: Path, fixed: bool, verify: Path | None = None) -> Result:
    sc = lab.get_scenario(SCENARIO)
    assert sc.target is not None
    version = "twin" if fixed else "faulty"
    with lab.up(sc, fixed=fixed, log_dir=tmp / f"logs-{version}") as inst:
        try:
            out = tmp / version
            r = cli("investigate", inst.url + sc.target.path, "--out", str(out), "--budget", BUDGET[version],
                    "--max-concurrency", "16", timeout=240)
            verify = verify or out  # the faulty version verifies its own report: still failing
            v = cli("verify", str(verify), inst.url + sc.target.path, "--out", str(tmp / "verify"), "--json-result",
                    timeout=240)
        finally:
            servers.guard()
    return Result(r, out, v)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, cli) -> Result:
    return _investigate(cli, tmp_path_factory.mktemp("wrong-body"), fixed=False)


@pytest.fixture(scope="module")
def twin(tmp_path_factory, cli, faulty) -> Result:
    return _investigate(cli, tmp_path_factory.mktemp("wrong-body-twin"), fixed=True, verify=faulty.out)


def test_the_empty_tables_are_counted_as_failures(faulty):
    assert faulty.cli.returncode == 0, faulty.cli.stderr
    rep = faulty.report
    assert rep["verdict"] == "reproduced"
    wrong = rep["wrong_bodies"]
    assert wrong and wrong["count"] >= 2 and rep["failures"] >= wrong["count"]
    assert "GET /stock" in wrong["lines"][0] and "2xx answers" in wrong["lines"][0]
    # Every reader counts them: the experiments, the records, the pages.
    assert sum(e["failures"] for e in rep["experiments"]) == rep["failures"]
    marked = 0
    for path in rep["runs"]:
        run = Run.load(path)
        rows = run.read(["status", "error_kind"]).to_pylist()
        marked += sum(1 for r in rows if r["error_kind"] == "wrong_body")
        assert all(r["status"] == 200 for r in rows if r["error_kind"] == "wrong_body")
    assert marked == wrong["count"]
    md = (faulty.out / "report.md").read_text()
    assert "**Wrong bodies**" in md and f"{wrong['count']} of the failures answered 2xx" in md
    assert "wrong_body" in faulty.cli.stderr + faulty.cli.stdout


def test_the_race_is_ranked_among_the_first_three(faulty):
    rep = faulty.report
    ids = [h["id"] for h in rep["hypotheses"]]
    assert "race_condition" in ids[:3], [(h["id"], h["confidence"]) for h in rep["hypotheses"][:5]]
    race = next(h for h in rep["hypotheses"] if h["id"] == "race_condition")
    seen = {e["signal"] for e in race["evidence_for"]}
    assert {"ok_status_body_anomaly", "failures_are_wrong_bodies"} <= seen, seen
    if rep["cannot_tell"]:
        assert rep["cannot_tell"]["line"].startswith("cannot tell ")


def test_the_twin_is_not_reproduced(twin):
    assert twin.cli.returncode == 0, twin.cli.stderr
    rep = twin.report
    assert rep["verdict"] == "not_reproduced" and rep["failures"] == 0, rep["experiments"]
    assert rep["wrong_bodies"] is None and rep["hypotheses"] == []


def test_verify_counts_wrong_bodies_after_as_before(twin, faulty):
    # The faulty report's failing experiments rerun: against the unfixed service its minority bodies
    # count again and the check fails; against the fix, none are left and it passes.
    again = json.loads(faulty.verify.stdout)
    assert faulty.verify.returncode == 1 and again["after"]["error_rate"] > 0, faulty.verify.stderr
    assert twin.verify.returncode == 0, twin.verify.stdout + twin.verify.stderr
    fixed = json.loads(twin.verify.stdout)
    assert fixed["before"]["error_rate"] > 0 and fixed["after"]["error_rate"] == 0 and fixed["after"]["requests"] > 100


def test_a_trace_of_minority_bodies_is_not_counted(tmp_path):
    # Three empty tables in 3,000 answers (0.1 %): the data changing under the run, not a wrong answer;
    # one in twenty (5 %) is.
    trace = _run(tmp_path / "trace", 3000, 8, 1000)
    assert mark_wrong_bodies([trace]).count == 0
    real = _run(tmp_path / "real", 3000, 8, 20)
    assert mark_wrong_bodies([real]).count == 150
