"""The code reviewer: every rule on its fixture (expectations inline), framework understanding,
every lab scenario's planted bug and its fixed twin, the CLI (text, JSON, SARIF, bad input), and
the code agent's signals."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tracehound import cli, lab
from tracehound.agents.code import ELSEWHERE, ON_FAILING, code_agent, probed_requests
from tracehound.analysis.synthetic import FakeRun, table
from tracehound.case import Case, Sources
from tracehound.diagnosis.catalog import load_catalog
from tracehound.diagnosis.signals import REGISTRY
from tracehound.probe import Target
from tracehound.review import BadCodePath, all_rules, get_rule, render, review
from tracehound.review.docs import stale_docs
from tracehound.review.formats import sarif
from tracehound.review.project import Route

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "review"
FIXTURES = sorted(p for p in DATA.iterdir() if p.name.startswith("TH"))
FRAMEWORKS = sorted((DATA / "frameworks").iterdir())
EXPECT = re.compile(r"#\s*expect:\s*(TH\d{3}(?:\s*,\s*TH\d{3})*)")


def expected(root: Path) -> set[tuple[str, int, str]]:
    """The ``# expect: TH101, TH201`` markers of a fixture file or folder: (path, line, code)."""
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    out = set()
    for f in files:
        rel = f.name if root.is_file() else f.relative_to(root).as_posix()
        for i, line in enumerate(f.read_text().splitlines(), 1):
            m = EXPECT.search(line)
            if m:
                out |= {(rel, i, c.strip()) for c in m.group(1).split(",")}
    return out


def found(result) -> set[tuple[str, int, str]]:
    return {(v.path, v.line, v.code) for v in result.violations}


# -- rules, one fixture each ------------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.name for p in FIXTURES])
def test_rule_fixture(fixture):
    result = review(fixture)
    assert not result.errors, result.errors[0][1]
    assert not result.skipped
    assert found(result) == expected(fixture)


def test_every_rule_has_a_positive_fixture():
    marked = {code for f in FIXTURES for _, _, code in expected(f)}
    assert marked == set(all_rules())


def test_rules_are_documented_and_linked_to_the_catalog():
    catalog = load_catalog()
    for r in all_rules().values():
        assert re.fullmatch(r"TH\d{3}", r.code) and re.fullmatch(r"[a-z0-9-]+", r.name)
        for text in (r.summary, r.what, r.why, r.example, r.fix, r.fixed):
            assert text.strip(), r.code
        assert r.links, f"{r.code} links to no failure mode"
        for mode in r.links:
            assert mode in catalog, (r.code, mode)
            assert r.signal in catalog[mode].signals, f"{mode}.yaml does not weigh {r.signal} ({r.code} links to it)"
        assert REGISTRY[r.signal].source == "code"


def test_rule_docs_are_generated_and_up_to_date():
    assert stale_docs(ROOT / "docs" / "rules") == [], "run: python -m tracehound.review --docs docs/rules"
    page = get_rule("TH201").to_markdown()
    for heading in ("## What it does", "## Why it breaks under load", "## Example", "## Use instead"):
        assert heading in page
    assert "../failure-modes/connection_leak.md" in page
    assert get_rule("session-not-closed").code == "TH201"
    with pytest.raises(BadCodePath, match="unknown rule"):
        get_rule("TH999")


# -- frameworks: routes, prefixes, dependencies, calls into other modules ----------------------


ROUTES = {
    "fastapi_layers": {"GET /api/v1/orders/{order_id}"},
    "flask_blueprint": {"GET /api/reports/<int:account>/sales.csv", "GET /api/reports/health"},
    "django_site": {"ANY /api/orders/<int:pk>/", "GET /api/re:^orders/recent/$"},
}


@pytest.mark.parametrize("folder", FRAMEWORKS, ids=[p.name for p in FRAMEWORKS])
def test_framework_routes_and_findings(folder):
    result = review(folder)
    assert {r.label for r in result.routes} == ROUTES[folder.name]
    assert found(result) == expected(folder)
    for v in result.violations:  # every finding is placed on the endpoint that reaches it
        assert v.routes, v


def test_a_finding_in_a_repository_knows_its_endpoint():
    result = review(DATA / "frameworks" / "fastapi_layers")
    by_code = {v.code: v for v in result.violations}
    leak = by_code["TH201"]
    assert leak.path == "shop/repositories/orders.py"
    assert [r.label for r in leak.routes] == ["GET /api/v1/orders/{order_id}"]
    assert "OrderRepository.legacy_lookup()" in by_code["TH101"].message


@pytest.mark.parametrize("template,method,path,ok", [
    ("/orders/{order_id}", "GET", "/orders/42?x=1", True),
    ("/orders/{order_id}", "POST", "/orders/42", False),
    ("/orders/{order_id}", "GET", "/orders/42/items", False),
    ("/files/{rest:path}", "GET", "/files/a/b/c", True),
    ("/api/reports/<int:account>/sales.csv", "GET", "/api/reports/7/sales.csv", True),
    ("/api/orders/<int:pk>/", "GET", "/api/orders/7", True),
    ("/api/re:^orders/recent/$", "GET", "/api/orders/recent/", True),
    ("/workspaces/{ws}/modules", "GET", "/workspaces/ws0/modules", True),
])
def test_route_matching(template, method, path, ok):
    route = Route("fastapi", ("GET",), template, None, None)  # type: ignore[arg-type]
    assert route.matches(method, path) is ok


# -- the lab: every planted bug found, every fixed twin clean in the rules that find it ---------

#: The rules that find each scenario's planted bug.
PLANTED = {
    "billing_stale_connection": {"TH205"},
    "checkout_upstream_timeout": {"TH302"},
    "demo": {"TH207"},
    "inventory_lock_timeout": {"TH104"},
    "invoices_gateway_timeout": {"TH401"},
    "login_bcrypt_blocking": {"TH101"},
    "modules_replica_lag": {"TH502"},
    "modules_token_expiry": {"TH601"},
    "prices_cache_outage": {"TH602"},
    "profile_gateway_timeout": {"TH402"},
    "tasks_session_leak": {"TH201"},
    "tenant_features_race": {"TH501"},
}
#: Scenarios whose bug lies in the deployment, not the code: code review cannot tell the faulty
#: version from its twin. What (if anything) it reports about the risk, in both versions.
CONFIGURATION = {
    "orders_bad_instance": set(),          # one instance's DB_PASSWORD
    "report_worker_crash": set(),          # gunicorn --timeout 2
    "reservations_gateway": {"TH303"},     # gunicorn --keep-alive: the client pool's 60 s idle is visible
    "search_rate_limited": {"TH604"},      # the limit's value against the contract: the limiter is visible
}
#: Findings linked to the mode that the fix leaves in place, and why.
RESIDUAL = {
    "demo": {"TH203"},                  # the fix releases the connection earlier; the pool stays at 2
    "prices_cache_outage": {"TH603"},   # the fix adds a fallback; the capped pool stays
}


def code_of(scenario, fixed: bool, dest: Path) -> Path:
    """One version's code, laid out as the lab's running copy is (``Instance.code_dir``)."""
    out = dest / ("fixed" if fixed else "faulty") / scenario.name
    for f in scenario.code_files(fixed):
        target = out / f.relative_to(scenario.folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    return out


def probed_paths(scenario) -> list[tuple[str, str]]:
    if scenario.target is not None:
        return [(scenario.target.method, scenario.target.path)]
    return [(p.method, p.path) for p in probed_requests(Case(flow=scenario.flow, base_url="http://127.0.0.1:1"), [])]


#: Scenarios added after these rules were checked (issue 6: front-end pages, instrumented
#: variants); their planted bugs are not yet asserted here.
NOT_YET_CHECKED = {"canvas_page_token_expiry", "profile_page_gateway_timeout", "demo_instrumented",
                   "login_bcrypt_blocking_instrumented",
                   # a race between request threads of a sync Flask app: no rule reads thread-shared state yet
                   "stock_levels_race",
                   # Starlette apps (a Route table): TH101 and TH205 fire on their planted bugs, but the
                   # review maps no Starlette route to the probed endpoint yet
                   "shipping_labels_sync_client", "loyalty_idle_session",
                   # a standard-library server's keep-alive reaper: no rule reads its idle timeout yet
                   "parcel_tracking"}


def test_every_lab_scenario_is_accounted_for():
    faulty = {s.name for s in lab.scenarios() if not s.healthy}
    assert faulty == set(PLANTED) | set(CONFIGURATION) | NOT_YET_CHECKED


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_lab_planted_bug_is_found_and_the_twin_is_clean(name, tmp_path):
    sc = lab.get_scenario(name)
    faulty = review(code_of(sc, False, tmp_path))
    fixed = review(code_of(sc, True, tmp_path))
    assert not faulty.errors and not fixed.errors
    hits = [v for v in faulty.violations if v.code in PLANTED[name]]
    assert {v.code for v in hits} == PLANTED[name], [(v.code, v.message) for v in faulty.violations]
    for v in hits:
        assert sc.failure_mode in v.rule.links, (v.code, sc.failure_mode)
    probes = probed_paths(sc)
    assert any(r.matches(m, p) for v in hits for r in v.routes for m, p in probes), "the bug is on the probed endpoint"
    linked = {v.code for v in fixed.violations if sc.failure_mode in v.rule.links}
    assert linked <= RESIDUAL.get(name, set()), [(v.code, v.message) for v in fixed.violations]
    assert not {v.code for v in fixed.violations} & PLANTED[name]


@pytest.mark.parametrize("name", sorted(CONFIGURATION))
def test_lab_configuration_bugs_are_not_faked(name, tmp_path):
    sc = lab.get_scenario(name)
    faulty = review(code_of(sc, False, tmp_path))
    fixed = review(code_of(sc, True, tmp_path))
    linked = lambda r: {(v.path.replace("app_fixed", "app"), v.code) for v in r.violations  # noqa: E731
                        if sc.failure_mode in v.rule.links}
    assert {c for _, c in linked(faulty)} == CONFIGURATION[name]
    assert linked(faulty) == linked(fixed)


@pytest.mark.parametrize("name", [s.name for s in lab.scenarios() if s.healthy])
def test_lab_healthy_controls_are_clean(name, tmp_path):
    result = review(code_of(lab.get_scenario(name), False, tmp_path))
    assert result.violations == [] and result.routes


# -- the command: formats, exit codes, bad input -----------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        cli.main(["review", *args])
    captured = capsys.readouterr()
    return e.value.code, captured.out, captured.err


def test_cli_text_and_exit_codes(capsys, tmp_path):
    code, out, err = run(capsys, str(DATA / "TH201_not_closed.py"))
    assert code == 1 and err == ""
    assert "TH201_not_closed.py:20:" in out and "TH201 [session-not-closed]" in out and "on GET /tasks" in out
    assert out.rstrip().endswith("in 1 file.")
    clean = tmp_path / "clean.py"
    clean.write_text("def add(a, b):\n    return a + b\n")
    assert run(capsys, str(clean))[:2] == (0, "No findings in 1 file.\n")


def test_cli_json(capsys):
    code, out, _ = run(capsys, str(DATA / "TH104_lock_io"), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["files"] == 2 and doc["skipped"] == [] and set(doc["rules"]) == {"TH104"}
    v = doc["violations"][0]
    assert {"code", "name", "severity", "path", "line", "col", "message", "signal", "links", "routes"} <= set(v)
    assert v["routes"] == ["POST /reserve/{sku}"] and v["signal"] == "code:lock_held_across_io"


def test_cli_select_and_rule_pages(capsys):
    code, out, _ = run(capsys, str(DATA / "TH203_TH205_pools.py"), "--select", "TH205", "--format", "json")
    assert {v["code"] for v in json.loads(out)["violations"]} == {"TH205"}
    code, out, _ = run(capsys, "--rule", "TH402")
    assert code == 0 and out.startswith("# cartesian-eager-load (TH402)")
    code, out, _ = run(capsys, "--rule", "all")
    assert code == 0 and len(out.splitlines()) == len(all_rules())


@pytest.mark.parametrize("args,message", [
    (["/no/such/folder"], "/no/such/folder: no such file or folder"),
    (["{tmp}"], "no Python files to review"),
    (["{tmp}", "--format", "xml"], "unknown --format 'xml'"),
    (["{code}", "--select", "TH999"], "unknown rule TH999"),
    (["--rule", "nope"], "unknown rule 'nope'"),
    ([], "give the folder of the code to review"),
])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("not code")
    code, out, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)).replace("{code}", str(DATA / "TH101_blocking.py"))
                                   for a in args])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("tracehound: error: ") and message in err


def test_unparsable_files_are_skipped_and_the_rest_reviewed(capsys, tmp_path):
    shutil.copy(DATA / "TH201_not_closed.py", tmp_path / "good.py")
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    code, out, err = run(capsys, str(tmp_path))
    assert code == 1 and "good.py:20:" in out and "in 1 file." in out
    assert err.splitlines() == ["blob.py: skipped: binary file",
                                "broken.py: skipped: syntax error at line 1: invalid syntax",
                                "latin.py: skipped: not UTF-8 text"]


def test_an_expression_too_deep_to_parse_is_skipped_not_a_traceback(capsys, tmp_path):
    """Issue 15, row 6: a 5,000-term expression (and one in a string annotation) is skipped, not a RecursionError."""
    shutil.copy(DATA / "TH201_not_closed.py", tmp_path / "good.py")
    (tmp_path / "deep.py").write_text("def f(a):\n    return " + " + ".join(["a"] * 5000) + "\n")
    (tmp_path / "deep_annotation.py").write_text(
        "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\nasync def f(a: '"
        + "+".join(["a"] * 5000) + "'):\n    return 1\n")
    code, out, err = run(capsys, str(tmp_path))
    assert code == 1 and "good.py:20:" in out and "in 2 files." in out
    assert err.splitlines() == ["deep.py: skipped: nested too deeply to parse"]
    result = review(tmp_path)
    assert not result.errors and [s.path for s in result.skipped] == ["deep.py"]


# -- SARIF 2.1.0, as GitHub code scanning reads it ---------------------------------------------


def check_sarif(doc: dict) -> None:
    """Structural checks of the fields GitHub code scanning requires or uses."""
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(doc["runs"], list) and len(doc["runs"]) == 1
    run_ = doc["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "tracehound" and driver["version"]
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for r in driver["rules"]:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"]
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert isinstance(r["properties"]["tags"], list)
    bases = run_.get("originalUriBaseIds", {})
    for base in bases.values():
        assert base["uri"].startswith("file:///") and base["uri"].endswith("/")
    for res in run_["results"]:
        assert res["ruleId"] == ids[res["ruleIndex"]]
        assert res["level"] in ("error", "warning", "note") and res["message"]["text"]
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and "\\" not in uri
        assert loc["artifactLocation"].get("uriBaseId", "SRCROOT") in (bases or {"SRCROOT": None})
        region = loc["region"]
        assert 1 <= region["startLine"] <= region["endLine"] and region["startColumn"] >= 1
        assert region["endLine"] > region["startLine"] or region["endColumn"] >= region["startColumn"]
        assert re.fullmatch(r"[0-9a-f]{16}:\d+", res["partialFingerprints"]["primaryLocationLineHash"])


def test_sarif_is_structurally_valid(tmp_path):
    result = review(DATA / "TH401_TH403_orm")
    doc = sarif(result, cwd=tmp_path)  # outside the working directory: paths relative to %SRCROOT%
    check_sarif(doc)
    assert len(doc["runs"][0]["results"]) == len(result.violations) == 5
    location = doc["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uriBaseId"] == "SRCROOT"
    inside = sarif(result, cwd=ROOT)  # inside it (a checkout): paths relative to the working directory
    check_sarif(inside)
    uri = inside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("tests/data/review/TH401_TH403_orm/") and (ROOT / uri).is_file()
    assert json.loads(render(result, "sarif"))["version"] == "2.1.0"


def test_sarif_lists_skipped_files_as_notifications(tmp_path):
    (tmp_path / "broken.py").write_text("def broken(:\n")
    (tmp_path / "ok.py").write_text("x = 1\n")
    doc = sarif(review(tmp_path), cwd=tmp_path)
    check_sarif(doc)
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == ["broken.py: skipped: syntax error at line 1: invalid syntax"]


# -- the code agent ----------------------------------------------------------------------------


def strengths(result) -> dict[str, float]:
    return {s.name: s.strength for s in result.signals}


def test_agent_skips_without_code_and_fails_on_a_missing_folder():
    case = Case(target=Target("http://127.0.0.1:8000/tasks"))
    assert asyncio.run(code_agent(case, [])).status == "skipped"
    case.sources = Sources(code=Path("/no/such/code"))
    res = asyncio.run(code_agent(case, []))
    assert res.status == "failed" and "/no/such/code: no such file or folder" in res.detail


def test_agent_reports_skipped_files_and_fails_when_nothing_parses(tmp_path):
    (tmp_path / "broken.py").write_text("def broken(:\n")
    case = Case(target=Target("http://127.0.0.1:8000/tasks"), sources=Sources(code=tmp_path))
    res = asyncio.run(code_agent(case, []))
    assert res.status == "failed"
    assert res.detail == "no Python file could be read (broken.py: syntax error at line 1: invalid syntax)"
    shutil.copy(DATA / "TH201_not_closed.py", tmp_path / "app.py")
    res = asyncio.run(code_agent(case, []))
    assert res.status == "ok" and "skipped broken.py (syntax error at line 1: invalid syntax)" in res.detail
    assert "code:session_not_closed" in strengths(res)


def test_agent_weighs_findings_by_the_probed_endpoint(tmp_path):
    code = code_of(lab.get_scenario("tasks_session_leak"), False, tmp_path)
    case = Case(target=Target("http://127.0.0.1:8000/tasks?assignee=u&status=blocked"), sources=Sources(code=code))

    def runs(failing_path: str) -> list[FakeRun]:
        paths = np.array([failing_path] * 20 + ["/tasks?status=open"] * 20 + ["/health"] * 20, dtype=object)
        status = np.array([500] * 20 + [200] * 40)
        return [FakeRun(table(60, path=paths, status=status))]

    on = asyncio.run(code_agent(case, runs("/tasks?status=blocked")))
    off = asyncio.run(code_agent(case, runs("/tasks/7")))
    assert on.status == off.status == "ok"
    leak = "code:session_not_closed"
    assert strengths(on)[leak] == pytest.approx(0.95 * ON_FAILING)
    assert strengths(off)[leak] < strengths(on)[leak]
    finding = next(f for f in on.findings if f.signals[0].name == leak)
    assert finding.exemplars[0].startswith("app.py:52: db (an async session) is closed only on the normal path")
    assert leak in on.tested and "code:blocking_call_in_async" in on.tested
    nowhere = asyncio.run(code_agent(case, [FakeRun(table(10, path="/elsewhere", status=500))]))
    assert strengths(nowhere)[leak] == pytest.approx(0.95 * ELSEWHERE)
    assert "no route of the code matches the probed paths" in nowhere.detail


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_agent_strongest_signal_points_to_the_planted_bug(name, tmp_path):
    sc = lab.get_scenario(name)
    code = code_of(sc, False, tmp_path)
    if sc.target is not None:
        case = Case(target=Target("http://127.0.0.1:1" + sc.target.path, sc.target.method))
    else:
        case = Case(flow=sc.flow, base_url="http://127.0.0.1:1")
    case.sources = Sources(code=code)
    res = asyncio.run(code_agent(case, []))
    top = max(res.signals, key=lambda s: s.strength)
    assert top.name in {get_rule(c).signal for c in PLANTED[name]}, \
        [(s.name, round(s.strength, 2)) for s in res.signals]


def test_every_check_defined_is_listed_in_the_registry() -> None:
    """A check someone forgets to list would silently never run."""
    import importlib
    import pkgutil

    import tracehound.review.checks as checks_pkg
    from tracehound.review.registry import CHECKS
    from tracehound.review.rules import Check

    defined = {id(obj) for info in pkgutil.iter_modules(checks_pkg.__path__)
               for obj in vars(importlib.import_module(f"{checks_pkg.__name__}.{info.name}")).values()
               if isinstance(obj, Check)}
    assert len(defined) >= 24
    assert defined == {id(c) for c in CHECKS}


# -- layouts: imports resolve from the import root, whatever folder is given --------------------

#: A service whose blocking call lies behind an import of its own package by name.
SERVICE = {
    "app/main.py": "from fastapi import FastAPI\n\nfrom app.api import auth\n\napp = FastAPI()\n"
                   "app.include_router(auth.router, prefix='/auth')\n",
    "app/api/auth.py": "from fastapi import APIRouter\n\nfrom app.core.password import verify_password\n\n"
                       "router = APIRouter()\n\n\n@router.post('/access-token')\n"
                       "async def login_access_token(password: str, stored: bytes):\n"
                       "    return verify_password(password, stored)\n",
    "app/core/password.py": "import bcrypt\n\n\ndef verify_password(plain: str, hashed: bytes) -> bool:\n"
                            "    return bcrypt.checkpw(plain.encode(), hashed)\n",
}
PACKAGES = ("app", "app/api", "app/core")


def lay_out(root: Path, files: dict[str, str], packages: tuple[str, ...] = (), prefix: str = "") -> None:
    for rel, text in files.items():
        path = root / prefix / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for p in packages:
        (root / prefix / p / "__init__.py").write_text("")


def findings(result) -> set[tuple[str, int, str, str]]:
    """(file, line, code, message) with the file absolute, so reviews of different folders compare."""
    return {(str(result.root / v.path), v.line, v.code, v.message) for v in result.violations}


@pytest.mark.parametrize("layout,packages,prefix,folders", [
    ("package", PACKAGES, "", ["", "app", "app/api"]),
    ("src", PACKAGES, "src", ["", "src", "src/app", "src/app/api"]),
    ("namespace", (), "", ["", "app", "app/api"]),
])
def test_same_findings_from_any_folder_of_a_package(tmp_path, layout, packages, prefix, folders):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "svc"\ndependencies = ["fastapi", "bcrypt"]\n')
    lay_out(tmp_path, SERVICE, packages, prefix)
    results = {f: review(tmp_path / f) for f in folders}
    for folder, result in results.items():
        assert not result.errors and not result.unresolved, (folder, result.unresolved)
        assert [(v.path, v.line, v.code) for v in result.violations] == \
            [(f"{prefix}/app/api/auth.py".lstrip("/"), 10, "TH101")], folder
        assert "verify_password() is sync and bcrypt.checkpw()" in result.violations[0].message
        assert [r.label for r in result.violations[0].routes] == ["POST /auth/access-token"], folder
        assert result.root == tmp_path
    assert len({frozenset(findings(r)) for r in results.values()}) == 1


def test_a_flat_layout_resolves_from_the_folder_given_and_from_above(tmp_path):
    flat = {"svc/main.py": SERVICE["app/api/auth.py"].replace("from app.core.password", "from password"),
            "svc/password.py": SERVICE["app/core/password.py"]}
    lay_out(tmp_path, flat)
    inside, above = review(tmp_path / "svc"), review(tmp_path)
    assert [(v.path, v.line) for v in inside.violations] == [("main.py", 10)]
    assert [(v.path, v.line) for v in above.violations] == [("svc/main.py", 10)]
    assert {(f, line, code) for f, line, code, _ in findings(inside)} == \
        {(f, line, code) for f, line, code, _ in findings(above)}
    assert not inside.unresolved and not above.unresolved


def test_the_root_used_and_the_imports_left_unresolved_are_reported(tmp_path, capsys):
    lay_out(tmp_path, SERVICE, PACKAGES)
    (tmp_path / "requirements.txt").write_text("acme-sdk>=1.2  # the vendor's client\n")
    (tmp_path / "app/api/extra.py").write_text(
        "import os\n\nimport acme_sdk\nimport fastapi\nimport zz_not_a_library\n\n"
        "from app.missing import thing\nfrom . import auth\nfrom .. import core\n")
    result = review(tmp_path / "app")
    assert result.layout.root == tmp_path and "package app" in result.layout.how
    assert [(u.name, u.path, u.line) for u in result.unresolved] == [
        ("zz_not_a_library", "app/api/extra.py", 5), ("app.missing.thing", "app/api/extra.py", 7)]
    code, out, _ = run(capsys, str(tmp_path / "app"))
    assert code == 1
    assert f"Imports resolved from {tmp_path} (the folder holding package app)." in out
    assert "2 imports left unresolved: zz_not_a_library, app.missing.thing (calls into them are not followed)." in out
    doc = json.loads(run(capsys, str(tmp_path / "app"), "--format", "json")[1])
    assert doc["import_root"] == str(tmp_path) and len(doc["unresolved_imports"]) == 2
    notes = sarif(result, cwd=tmp_path)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("left unresolved" in n["message"]["text"] for n in notes)
    case = Case(target=Target("http://127.0.0.1:1/auth/access-token", "POST"), sources=Sources(code=tmp_path / "app"))
    res = asyncio.run(code_agent(case, []))  # investigate --code app/ sees the same
    assert f"imports resolved from {tmp_path} (the folder holding package app)" in res.detail
    assert "2 imports left unresolved" in res.detail and "code:blocking_call_in_async" in strengths(res)


def test_a_subfolder_reports_only_its_own_findings(tmp_path):
    lay_out(tmp_path, SERVICE, PACKAGES)
    (tmp_path / "app/core/jobs.py").write_text("import time\n\n\nasync def nightly():\n    time.sleep(5)\n")
    assert {v.path for v in review(tmp_path / "app").violations} == {"app/api/auth.py", "app/core/jobs.py"}
    only = review(tmp_path / "app/core")
    assert [v.path for v in only.violations] == ["app/core/jobs.py"] and only.files == 3


# -- interprocedural reach: sync helpers, Depends callables, service objects, across modules ----


def test_blocking_calls_are_followed_into_helpers_and_placed_on_their_routes():
    result = review(DATA / "TH101_reach")
    by_line = {(v.path, v.line): v for v in result.violations}
    expected_routes = {
        ("app/api/deps.py", 21): "GET /api/users/me",
        ("app/api/orders.py", 22): "POST /api/orders/{order_id}/export",
        ("app/api/orders.py", 27): "GET /api/orders/{order_id}/pdf",
        ("app/api/orders.py", 32): "GET /api/orders/{order_id}/file",
        ("app/api/orders.py", 37): "POST /api/orders/{order_id}/retry",
        ("app/api/orders.py", 42): "GET /api/orders/{order_id}/upstream",
    }
    assert {k: [r.label for r in v.routes] for k, v in by_line.items()} == \
        {k: [label] for k, label in expected_routes.items()}
    assert by_line[("app/api/orders.py", 37)].message.startswith(
        "retry_forever() → attempt() → wait() → pause() is sync and time.sleep() sleeps at app/core/retry.py:7")
    assert "UpstreamClient.fetch()" in by_line[("app/api/orders.py", 42)].message
    assert by_line[("app/api/orders.py", 32)].confidence == 0.5  # file I/O: light
    same = review(DATA / "TH101_reach" / "app")
    assert findings(same) == findings(result)


def test_blocking_findings_in_sarif_carry_their_routes(tmp_path):
    doc = sarif(review(DATA / "TH101_reach"), cwd=tmp_path)
    check_sarif(doc)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"TH101"} and len(results) == 6
    assert all(r["level"] == "error" and r["properties"]["routes"] for r in results)
