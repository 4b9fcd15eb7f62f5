"""`tracehound gen-test`: the generated tests fail against each faulty lab service and pass against
its fixed twin; flows, idle gaps, pauses and secrets are written out as a person would; bad input
is one line.

The generated tests run in a pytest subprocess from their own folder, as a user's repository
would run them: only the installed plugin (the ``pytest11`` entry point) supplies the fixture.
The demo's test comes from a full investigation (the session's ``demo_investigation``); to keep
CI time down, the open-model and flow scenarios get a minimal report around one probe of their
declared load, written the way an investigation writes it.
"""

from __future__ import annotations

import json
import os
import py_compile
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DEMO_SECRETS

from tracehound import lab
from tracehound.case import Case
from tracehound.flow import Flow
from tracehound.gentest import generate
from tracehound.lab import servers
from tracehound.probe import LoadShape, ProbeConfig, Run, Target, parse_stages, probe
from tracehound.probe.meta import ExperimentMeta, ShapeMeta, write_meta
from tracehound.probe.summary import summarize_run
from tracehound.verify import Stats


def _pytest(test_file: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run one generated test file as its owner would: ``pytest FILE`` in its folder."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRACEHOUND_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", test_file.name],
                          cwd=test_file.parent, env={**clean, **env}, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _report(folder: Path, case: Case, runs: list[tuple[str, Run]], top: str | None = None) -> Path:
    """A report.json as ``investigate`` writes it, around runs already made."""
    stats = [Stats.of([r]) for _, r in runs]
    total = Stats.of([r for _, r in runs])
    report: dict[str, Any] = {
        "schema": "tracehound.report/1",
        "verdict": "reproduced" if total.failures else "not_reproduced",
        "case": {**case.describe(), "symptom": case.symptom},
        "started_at": "2026-03-01T14:23:00.000Z",
        "requests": total.requests, "failures": total.failures, "failure_rate": round(total.error_rate, 5),
        "hypotheses": [{"id": top, "title": top, "confidence": 0.9}] if top else [],
        "experiments": [{"kind": r.meta.experiment.kind if r.meta.experiment else "probe", "name": name,
                         "shape": r.meta.dump()["shape"], "requests": s.requests, "failures": s.failures,
                         "run": str(r.path)} for (name, r), s in zip(runs, stats, strict=False)],
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2))
    return folder


def _annotate(run: Run, **experiment: Any) -> Run:
    """Mark a run as made by an experiment (as the investigation's runner does)."""
    run.meta.experiment = ExperimentMeta.model_validate({"kind": "probe", **experiment})
    write_meta(run.path, run.meta)
    return Run.load(run.path)


# -- generated from a real investigation and from lab probes: fail on the bug, pass on the twin --


@pytest.mark.lab
def test_demo_investigation_gives_a_test_that_fails_on_the_bug_and_passes_on_the_twin(
        cli, demo_investigation, tmp_path: Path) -> None:
    assert demo_investigation.result.returncode == 0, demo_investigation.result.stderr
    test_file = tmp_path / "repo" / "tests" / "test_regression_orders.py"
    r = cli("gen-test", str(demo_investigation.out), "-o", str(test_file),
            *[a for h in demo_investigation.headers for a in ("-H", h)])
    assert r.returncode == 0, r.stderr
    assert f"wrote {test_file}" in r.stdout and "pytest" in r.stdout
    py_compile.compile(str(test_file), doraise=True)
    source = test_file.read_text()
    report = json.loads((demo_investigation.out / "report.json").read_text())
    top = report["hypotheses"][0]["id"]
    assert "top cause:" in source and top in source and "failed most:" in source
    assert "concurrency=" in source and "duration=" in source and "tracehound_probe(" in source

    # The Authorization header comes back from the environment, never from the file.
    assert DEMO_SECRETS["bearer"] not in source and 'require_env("TRACEHOUND_AUTHORIZATION")' in source
    secrets = {"TRACEHOUND_AUTHORIZATION": demo_investigation.headers[0].split(": ", 1)[1]}
    skipped = _pytest(test_file, {})
    assert skipped.returncode == 0 and "1 skipped" in skipped.stdout
    assert "set TRACEHOUND_AUTHORIZATION" in skipped.stdout or "TRACEHOUND_TARGET_URL is not set" in skipped.stdout
    skipped = _pytest(test_file, secrets)
    assert skipped.returncode == 0 and "TRACEHOUND_TARGET_URL is not set" in skipped.stdout, skipped.stdout
    sc = lab.get_scenario("demo")
    outcomes = {}
    for fixed in (False, True):
        with lab.up(sc, fixed=fixed) as inst:
            try:
                outcomes[fixed] = _pytest(test_file, {"TRACEHOUND_TARGET_URL": inst.url, **secrets})
            finally:
                servers.guard()
    bug, twin = outcomes[False], outcomes[True]
    assert bug.returncode == 1 and "does not hold" in bug.stdout and "requests failed" in bug.stdout, bug.stdout
    assert twin.returncode == 0 and "1 passed" in twin.stdout, twin.stdout


def _lab_report(sc: lab.Scenario, inst: lab.Instance, folder: Path) -> Path:
    """Probe the scenario's declared load once and write the report an investigation would."""
    config = sc.probe_config(inst.url, out=folder / "runs" / "01-declared-load")
    if config.flow is not None:
        flow_file = folder / "flow.yaml"
        folder.mkdir(parents=True, exist_ok=True)
        flow_file.write_text(yaml.safe_dump(sc.flow.to_dict(), sort_keys=False))
        config.flow = Flow.load(flow_file)
        case = Case(flow=config.flow, base_url=inst.url, symptom=sc.symptom)
    else:
        assert config.target is not None
        case = Case(target=config.target, symptom=sc.symptom)
    run = _annotate(probe(config), purpose="the scenario's declared load")
    return _report(folder, case, [("declared load", run)], top=sc.failure_mode)


@pytest.mark.lab
@pytest.mark.parametrize("name", ["search_rate_limited", "tasks_session_leak"])
def test_lab_pair_gives_a_test_that_fails_on_the_bug_and_passes_on_the_twin(cli, name: str, tmp_path: Path) -> None:
    """search_rate_limited: an open-model (arrival-rate) load with a credential header;
    tasks_session_leak: a flow, inlined in the test."""
    sc = lab.get_scenario(name)
    test_file = tmp_path / "repo" / f"test_regression_{name}.py"
    secrets = dict(sc.target.headers) if sc.target is not None else {}
    env_for_secrets = {f"TRACEHOUND_{k.upper().replace('-', '_')}": v for k, v in secrets.items()}
    with lab.up(sc, fixed=False) as inst:
        try:
            report = _lab_report(sc, inst, tmp_path / "investigation")
            gen = cli("gen-test", str(report), "-o", str(test_file), *[a for k, v in secrets.items()
                                                                         for a in ("-H", f"{k}: {v}")])
            assert gen.returncode == 0, gen.stderr
            bug = _pytest(test_file, {"TRACEHOUND_TARGET_URL": inst.url, **env_for_secrets})
        finally:
            servers.guard()
    with lab.up(sc, fixed=True) as inst:
        try:
            twin = _pytest(test_file, {"TRACEHOUND_TARGET_URL": inst.url, **env_for_secrets})
        finally:
            servers.guard()
    source = test_file.read_text()
    py_compile.compile(str(test_file), doraise=True)
    if sc.flow is not None:
        assert "FLOW = yaml.safe_load(" in source and "flow=FLOW" in source
    else:
        assert f"rate={sc.load.rate:g}," in source and "concurrency=" not in source
    for value in secrets.values():
        assert value not in source
    assert all(f'require_env("{k}")' in source for k in env_for_secrets)
    assert bug.returncode == 1 and "does not hold" in bug.stdout, bug.stdout + bug.stderr
    assert twin.returncode == 0 and "1 passed" in twin.stdout, twin.stdout + twin.stderr


# -- what the test says and sends, against a server whose behaviour is known ------------------------


@pytest.fixture(scope="module")
def failing_run(faulty, tmp_path_factory) -> Run:
    """20 requests to a path that always answers 500: the run a report's experiment points to."""
    out = tmp_path_factory.mktemp("failing") / "run"
    return probe(ProbeConfig(LoadShape(concurrency=2, requests=20), Target(faulty.base_url + "/status/500"), out=out))


def _copy_run(run: Run, dest: Path, **experiment: Any) -> Run:
    dest.mkdir(parents=True)
    for f in run.path.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())
    return _annotate(Run.load(dest), **experiment) if experiment else Run.load(dest)


_ME_FLOW = """\
setup:
  - name: login
    method: POST
    path: /login
    json: {user: "ann", password: "s3cret"}
    capture: {token: "$.access_token"}
steps:
  - name: me
    path: /me
    headers: {Authorization: "Bearer {token}"}
  - name: me_again
    path: /me
    headers: {Authorization: "Bearer {token}"}
"""


def test_a_flow_is_inlined_with_its_pause_and_its_password_kept_out(faulty, failing_run: Run, tmp_path: Path) -> None:
    flow_file = tmp_path / "me.yaml"
    flow_file.write_text(_ME_FLOW)
    run = _copy_run(failing_run, tmp_path / "runs" / "flow-delay", kind="flow_delay", delay_s=0.25)
    report = _report(tmp_path / "inv", Case(flow=Flow.load(flow_file), base_url=faulty.base_url), [("flow_delay", run)])
    test_file = tmp_path / "repo" / "test_regression_me.py"
    test_file.parent.mkdir()
    t = generate(report, test_file, slo="error_rate<1%,p99<5s")
    test_file.write_text(t.source)
    source = t.source
    assert "s3cret" not in source and 'require_env("TRACEHOUND_PASSWORD")' in source
    doc = yaml.safe_load(source.split('FLOW = yaml.safe_load("""', 1)[1].split('""")', 1)[0])
    assert [s.get("pause") for s in doc["steps"]] == [None, 0.25]
    assert doc["setup"][0]["json"]["password"] == "{password}"
    assert 'SLO = "error_rate<1%,p99<5s"' in source and "given with --slo" in source

    url = {"TRACEHOUND_TARGET_URL": faulty.base_url}
    assert "set TRACEHOUND_PASSWORD" in _pytest(test_file, url).stdout
    passed = _pytest(test_file, {**url, "TRACEHOUND_PASSWORD": "s3cret"})
    assert passed.returncode == 0 and "1 passed" in passed.stdout, passed.stdout
    refused = _pytest(test_file, {**url, "TRACEHOUND_PASSWORD": "wrong"})
    assert refused.returncode == 1 and "does not hold" in refused.stdout, refused.stdout


def test_idle_gaps_and_stages_are_replayed_as_recorded(faulty, failing_run: Run, tmp_path: Path) -> None:
    gap_run = _copy_run(failing_run, tmp_path / "runs" / "gaps", kind="idle_gap", gaps=[0.2, 0.4])
    staged = _copy_run(failing_run, tmp_path / "runs" / "stages")
    staged.meta.shape = ShapeMeta.model_validate(LoadShape(stages=parse_stages("1s:2,1s:=3")).describe())
    write_meta(staged.path, staged.meta)
    case = Case(target=Target(faulty.base_url + "/ok"))
    gaps = generate(_report(tmp_path / "inv-gaps", case, [("idle_gap", gap_run)]), tmp_path / "test_gaps.py")
    assert gaps.function.endswith("_after_idle_pauses") and "one user, pausing 0.2, 0.4 s" in gaps.source
    doc = yaml.safe_load(gaps.source.split('FLOW = yaml.safe_load("""', 1)[1].split('""")', 1)[0])
    assert [(s["path"], s.get("pause")) for s in doc["steps"]] == [("/ok", None), ("/ok", 0.2), ("/ok", 0.4)]
    stages = generate(_report(tmp_path / "inv-stages", case, [("ramp", staged)]), tmp_path / "test_stages.py")
    assert 'stages="1s:2,1s:=3",' in stages.source and "concurrency=" not in stages.source
    for t in (gaps, stages):
        t.path.write_text(t.source)
        done = _pytest(t.path, {"TRACEHOUND_TARGET_URL": faulty.base_url})
        assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout


def test_the_experiment_replayed_is_the_one_surely_failing_most(faulty, tmp_path: Path) -> None:
    """One failure in two requests (50 %) does not outrank 40 in 100: its rate is far less certain."""
    doc = {"steps": [{"name": f"s{i}", "path": "/status/500" if i >= 3 else "/ok"} for i in range(5)]}
    flow_file = tmp_path / "mixed.yaml"
    flow_file.write_text(yaml.safe_dump(doc))
    flow = Flow.load(flow_file)
    lucky = probe(ProbeConfig(LoadShape(requests=2), flow=Flow.from_dict(
        {"steps": [{"name": "a", "path": "/ok"}, {"name": "b", "path": "/status/500"}]}), base_url=faulty.base_url,
        out=tmp_path / "runs" / "a"))
    steady = probe(ProbeConfig(LoadShape(concurrency=2, requests=100), flow=flow, base_url=faulty.base_url,
                               out=tmp_path / "runs" / "b"))
    report = _report(tmp_path / "inv", Case(flow=flow, base_url=faulty.base_url),
                     [("two requests", lucky), ("a hundred requests", steady)])
    t = generate(report, tmp_path / "test_x.py")
    assert t.replay.experiment == "a hundred requests" and "requests=100," in t.source
    failed = summarize_run(steady).failed
    assert 30 <= failed <= 50 and f"{failed} of 100 requests failed" in t.source


# -- bad input ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(faulty, failing_run: Run, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    ok_run = probe(ProbeConfig(LoadShape(requests=3), Target(faulty.base_url + "/ok"), out=root / "runs" / "ok"))
    secret_target = Target(faulty.base_url + "/ok", headers=(("X-Api-Key", "k-123"),))
    flow_file = root / "gone.yaml"
    flow_file.write_text(_ME_FLOW)
    flow_case = Case(flow=Flow.load(flow_file), base_url=faulty.base_url)
    out = {
        "reproduced": _report(root / "reproduced", Case(target=Target(faulty.base_url + "/status/500")),
                              [("probe", failing_run)]),
        "not_reproduced": _report(root / "healthy", Case(target=Target(faulty.base_url + "/ok")), [("probe", ok_run)]),
        "headers": _report(root / "headers", Case(target=secret_target), [("probe", failing_run)]),
        "flow_gone": _report(root / "flow", flow_case, [("probe", failing_run)]),
    }
    flow_file.unlink()
    (root / "a-file").write_text("")
    out["a_file"] = root / "a-file"
    return out


@pytest.mark.parametrize("report, output, extra, message", [
    ("/no/such/investigation", "test_x.py", [], "neither an investigation"),
    ("not_reproduced", "test_x.py", [], "nothing to replay"),
    ("reproduced", "{a_file}/test_x.py", [], "cannot write"),
    ("reproduced", "regression.py", [], "pytest would not collect 'regression.py'"),
    ("reproduced", "test_x.py", ["--env-var", "TARGET-URL"], "is not an environment variable name"),
    ("reproduced", "test_x.py", ["--slo", "p95<soon"], "cannot read SLO criterion"),
    ("headers", "test_x.py", [], "the request had headers X-Api-Key, which the report does not keep"),
    ("flow_gone", "test_x.py", [], "give it again with --flow FILE"),
])
def test_bad_input_is_one_line(cli, reports: dict[str, Path], tmp_path: Path, report: str, output: str,
                               extra: list[str], message: str) -> None:
    source = str(reports.get(report, report))
    out = output.replace("{a_file}", str(reports["a_file"]))
    r = cli("gen-test", source, "-o", out if out.startswith("/") else str(tmp_path / out), *extra)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_an_existing_test_is_kept_unless_forced(cli, reports: dict[str, Path], tmp_path: Path) -> None:
    test_file = tmp_path / "test_regression_x.py"
    test_file.write_text("# my edits\n")
    r = cli("gen-test", str(reports["reproduced"]), "-o", str(test_file))
    assert r.returncode == 2 and "exists already" in r.stderr and test_file.read_text() == "# my edits\n"
    r = cli("gen-test", str(reports["reproduced"]), "-o", str(test_file), "--force", "--env-var", "STAGING_URL")
    assert r.returncode == 0, r.stderr
    assert 'env_var="STAGING_URL"' in test_file.read_text() and "STAGING_URL=http://127.0.0.1:8000 pytest" in r.stdout


def test_the_replayed_experiment_is_a_sure_bet_to_break_the_slo_again() -> None:
    """A high rate on two requests is a weak bet; a tiny rate on many requests would not break
    error_rate<1% even if it came back; a steady 43 % on thousands is a sure one."""
    from tracehound.gentest import SURE_BET, breaks_again

    assert breaks_again(1, 2, 0.01) < 0.3
    assert breaks_again(7, 5566, 0.01) < 1e-6
    assert breaks_again(1383, 3228, 0.01) > SURE_BET
    assert breaks_again(18, 18, 0.01) > SURE_BET and breaks_again(0, 500, 0.01) == 0.0
    # Fewer than 100 requests: one failure breaks error_rate<1%, so the bet is on seeing one.
    assert 0.7 < breaks_again(4, 88, 0.01) < 0.9
