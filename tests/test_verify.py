"""`tracehound verify`: the SLO, reruns against a fixed and a faulty service, comparisons, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO_SECRETS, leaks

from tracehound import lab
from tracehound.lab import servers
from tracehound.probe.run import Run
from tracehound.verify import BadSlo, Slo, Stats


@pytest.mark.parametrize("text, expected", [
    ("error_rate<1%", [("error_rate", "<", 0.01)]),
    ("error_rate<=0.05, p95<500ms,p99<1s", [("error_rate", "<=", 0.05), ("p95", "<", 500.0), ("p99", "<", 1000.0)]),
    ("p50<0.25s", [("p50", "<", 250.0)]),
])
def test_slo_parses_k6_style_thresholds(text: str, expected: list) -> None:
    slo = Slo.parse(text)
    assert [(c.key, c.op, c.limit) for c in slo.criteria] == expected
    assert Slo.parse(slo.text()) == slo


@pytest.mark.parametrize("text", ["", "p95", "p95<fast", "error_rate<5ms", "p99<3%", "latency<1s",
                                  "error_rate<150%", "p95<1s,p95<2s", "p95>1s"])
def test_bad_slo_is_refused(text: str) -> None:
    with pytest.raises(BadSlo):
        Slo.parse(text)


def test_catalog_criteria_are_the_default() -> None:
    slo = Slo.from_catalog("db_pool_exhaustion")
    assert slo.criteria[0].key == "error_rate" and Slo.from_catalog(None).text() == "error_rate<1%"


def _verify(cli, *args: str, timeout: float = 240):
    return cli("verify", *args, "--json-result", timeout=timeout)


def test_rerun_passes_the_fixed_service_and_fails_the_faulty_one(cli, demo_investigation, tmp_path: Path):
    """The investigation's failing experiments, run again: against the twin the SLO holds, against the bug it
    does not."""
    assert demo_investigation.result.returncode == 0, demo_investigation.result.stderr
    report = json.loads((demo_investigation.out / "report.json").read_text())
    failing = [e for e in report["experiments"] if e["failures"]]
    sc = lab.get_scenario("demo")
    verdicts = {}
    for fixed in (True, False):
        with lab.up(sc, fixed=fixed, log_dir=tmp_path / f"logs-{fixed}") as inst:
            try:
                r = _verify(cli, str(demo_investigation.out), inst.url + demo_investigation.path,
                            *[a for h in demo_investigation.headers for a in ("-H", h)],
                            "--out", str(tmp_path / f"verify-{fixed}"))
            finally:
                servers.guard()
        assert r.returncode in (0, 1), r.stderr
        # The header given again holds a secret: no file of the rerun and nothing printed keeps it.
        assert not leaks(tmp_path / f"verify-{fixed}", DEMO_SECRETS.values())
        assert not [v for v in DEMO_SECRETS.values() if v in r.stdout + r.stderr]
        res = json.loads(r.stdout)
        assert res["mode"] == "rerun" and len(res["experiments"]) == len(failing)
        assert res["slo_from"].startswith("the catalog's criteria for")
        assert res["before"]["failures"] == sum(e["failures"] for e in failing)
        saved = json.loads((tmp_path / f"verify-{fixed}" / "verify.json").read_text())
        assert saved["passed"] == res["passed"]
        for e in res["experiments"]:
            assert Run.load(e["run"]).meta.experiment.kind in {x["kind"] for x in failing}
        verdicts[fixed] = (r.returncode, res)
    rc, res = verdicts[True]
    assert rc == 0 and res["passed"] and res["after"]["failures"] == 0, res
    rc, res = verdicts[False]
    assert rc == 1 and not res["passed"] and res["after"]["failures"] > 0, res
    assert not all(c["ok"] for c in res["checks"])


def test_compare_needs_no_load_and_reads_both_runs(cli, demo_investigation, tmp_path: Path) -> None:
    runs = sorted((demo_investigation.out / "runs").glob("*/run.json"))
    baseline = runs[0].parent
    r = _verify(cli, str(demo_investigation.out), "--candidate", str(baseline), "--slo", "error_rate<100%")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["mode"] == "compare" and res["after"] == Stats.of([Run.load(baseline)]).to_dict()
    assert res["before"]["failures"] > 0
    # A failing run held to a strict SLO: exit 1, and the criterion that broke says so.
    failing = next(e["run"] for e in json.loads((demo_investigation.out / "report.json").read_text())["experiments"]
                   if e["failures"])
    r = _verify(cli, str(baseline), "--candidate", failing, "--slo", "error_rate<0.1%")
    assert r.returncode == 1
    assert json.loads(r.stdout)["checks"][0]["ok"] is False


def test_a_request_with_secrets_is_not_replayed_blindly(cli, tmp_path: Path) -> None:
    sc = lab.get_scenario("demo")
    with lab.up(sc, fixed=True, log_dir=tmp_path / "logs") as inst:
        try:
            url = inst.url + sc.target.path
            p = cli("probe", url, "-n", "5", "-H", "Authorization: Bearer s3cr3t-token", "--out", str(tmp_path / "run"),
                    "--quiet")
            assert p.returncode == 0, p.stderr
            r = cli("verify", str(tmp_path / "run"))
            assert r.returncode == 2 and "give the target again" in r.stderr and "Traceback" not in r.stderr
            r = cli("verify", str(tmp_path / "run"), url, "-H", "Authorization: Bearer s3cr3t-token",
                    "--out", str(tmp_path / "again"))
        finally:
            servers.guard()
    assert r.returncode == 0, r.stderr + r.stdout
    assert "PASS" in r.stdout
    assert "s3cr3t-token" not in (tmp_path / "again" / "verify.json").read_text()


@pytest.mark.parametrize("args, message", [
    (["/no/such/folder"], "neither an investigation"),
    (["{run}", "--slo", "p95<soon"], "cannot read SLO criterion"),
    (["{run}", "--candidate", "/no/such/run"], "not a run folder"),
    (["{run}", "--candidate", "{run}", "http://127.0.0.1:9/"], "give no target"),
])
def test_bad_input_is_one_line(cli, demo_investigation, args: list[str], message: str) -> None:
    run = str(sorted((demo_investigation.out / "runs").glob("*/run.json"))[0].parent)
    r = cli("verify", *[a.replace("{run}", run) for a in args])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr
