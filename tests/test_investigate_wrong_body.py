"""A wrong 200 found black-box: `investigate` on a service that answers 200 with an empty table now and then.

The lab's stock_levels_race (Flask under gunicorn's threads, no flow, no expectation given) empties a
shared list while it re-reads its source, and threads that answer meanwhile serve it empty. Only the
URL goes in: the investigation must find the minority bodies itself, count them as failures, and rank
the race among the first three; its fixed twin, under the same investigation, must stay clean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tracehound import lab
from tracehound.lab import servers
from tracehound.probe.run import Run

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
