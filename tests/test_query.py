"""`tracehound runs` and `tracehound sql` over real run folders: probes, an import, an investigation, a verify."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tracehound.case import Case
from tracehound.orchestrator import investigate
from tracehound.probe import LoadShape, ProbeConfig, Target, probe
from tracehound.probe.importers import import_file
from tracehound.probe.records import is_cancelled, is_failure
from tracehound.verify import verify

DATA = Path(__file__).parent / "data"


@dataclass
class Work:
    root: Path
    crowd: Path
    alone: Path
    imported: Path
    investigation: Path
    verification: Path


@pytest.fixture(scope="module")
def work(tmp_path_factory, demo_url: str) -> Work:
    """One of each kind of past work, made for real against the demo service (about 15 s)."""
    root = tmp_path_factory.mktemp("past") / "runs"
    crowd = probe(ProbeConfig(LoadShape(concurrency=24, duration=2.0), Target(demo_url), out=root / "crowd")).path
    alone = probe(ProbeConfig(LoadShape(concurrency=1, requests=30), Target(demo_url), out=root / "alone")).path
    imported = import_file(DATA / "importers" / "k6.json", "auto", root / "imported").path
    inv = investigate(Case(target=Target(demo_url), budget_s=10, max_concurrency=8), root / "investigation").out
    v = verify(alone, slo="error_rate<1%", out=root / "verification")
    assert v.passed
    return Work(root, crowd, alone, imported, inv, root / "verification")


def counts(run_dir: Path) -> tuple[int, int]:
    """(requests, failures) of a run, cancelled requests left out, read straight from its Parquet file."""
    t = pq.read_table(run_dir / "requests.parquet")
    return int((~is_cancelled(t)).sum()), int(is_failure(t).sum())


def test_runs_lists_each_piece_of_work_once_newest_first(work: Work, cli) -> None:
    r = cli("runs", str(work.root), "--json")
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)
    by_path = {Path(w["path"]): w for w in listed}
    assert set(by_path) == {work.crowd, work.alone, work.imported, work.investigation, work.verification}
    assert [w["started_at"] for w in listed] == sorted((w["started_at"] for w in listed), reverse=True)

    crowd = by_path[work.crowd]
    assert crowd["kind"] == "probe" and crowd["verdict"] == "complete" and crowd["target"].startswith("GET http")
    assert (crowd["requests"], crowd["failures"]) == counts(work.crowd) and crowd["failures"] > 0
    assert by_path[work.alone]["failure_rate"] == 0.0
    assert by_path[work.imported]["kind"] == "import"

    report = json.loads((work.investigation / "report.json").read_text())
    inv = by_path[work.investigation]
    assert inv["kind"] == "investigation" and inv["verdict"] == report["verdict"]
    assert (inv["requests"], inv["failures"]) == (report["requests"], report["failures"])
    assert inv["started_at"] == report["started_at"]

    ver = by_path[work.verification]
    assert ver["kind"] == "verify" and ver["verdict"] == "pass" and ver["detail"] == "error_rate<1%"
    assert ver["requests"] == 30


def test_runs_table_and_empty_or_missing_folders(work: Work, tmp_path: Path, cli) -> None:
    r = cli("runs", str(work.root))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["time", "(UTC)", "kind"]
    for p in (work.crowd, work.investigation, work.verification):
        assert sum(str(p) in line for line in lines) == 1
    empty = cli("runs", cwd=tmp_path)  # the default folder, not made yet
    assert empty.returncode == 0 and "nothing under" in empty.stderr
    missing = cli("runs", str(tmp_path / "nope"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "not a folder" in missing.stderr


def test_sql_requests_per_run_match_the_records(work: Work, cli) -> None:
    q = ("SELECT r.run, r.kind, r.experiment, count(*) FILTER (WHERE NOT q.cancelled) AS n, "
         "count(*) FILTER (WHERE q.failed) AS failed, min(q.start_time) AS first "
         "FROM requests q JOIN runs r USING (run) GROUP BY ALL ORDER BY r.run")
    r = cli("sql", q, "--runs", str(work.root), "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    inner = sorted(p for p in (work.investigation / "runs").iterdir())
    assert {Path(x["run"]) for x in rows} == {work.crowd, work.alone, work.imported,
                                             *inner, *(work.verification / "runs").iterdir()}
    for x in rows:
        assert (x["n"], x["failed"]) == counts(Path(x["run"])), x["run"]
        assert x["first"].startswith("20")
    kinds = {Path(x["run"]): (x["kind"], x["experiment"]) for x in rows}
    assert kinds[work.crowd] == ("probe", None) and kinds[work.imported][0] == "import"
    assert kinds[inner[0]] == ("probe", "baseline")


def test_sql_runs_and_investigations_relations(work: Work, cli) -> None:
    r = cli("sql", "SELECT folder, verdict, requests, failures FROM investigations", "--runs", str(work.root), "--csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    report = json.loads((work.investigation / "report.json").read_text())
    assert rows == [["folder", "verdict", "requests", "failures"],
                    [str(work.investigation), report["verdict"], str(report["requests"]), str(report["failures"])]]
    r = cli("sql", "SELECT json_extract_string(meta, '$.shape.model') AS model, concurrency FROM runs "
            f"WHERE run = '{work.crowd}'", "--runs", str(work.root), "--json")
    assert json.loads(r.stdout) == [{"model": "closed", "concurrency": 24}]
    table = cli("sql", "SELECT kind, count(*) AS n FROM runs GROUP BY kind ORDER BY kind", "--runs", str(work.root))
    assert table.returncode == 0 and table.stdout.split()[:2] == ["kind", "n"] and "import" in table.stdout


@pytest.mark.parametrize("query, words", [
    ("SELEC 1", "syntax error"),
    ("SELECT * FROM no_such_table", "no_such_table"),
    ("SELECT no_such_column FROM runs", "no_such_column"),
    ("   ", "empty"),
])
def test_bad_sql_is_one_line_and_exit_2(work: Work, query: str, words: str, cli) -> None:
    r = cli("sql", query, "--runs", str(work.root))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("tracehound: error: ") and words in r.stderr


def test_sql_over_a_folder_without_runs(tmp_path: Path, cli) -> None:
    r = cli("sql", "SELECT count(*) AS n, count(failed) AS f FROM requests", "--runs", str(tmp_path), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"n": 0, "f": 0}]
    r = cli("sql", "SELECT 1", "--runs", str(tmp_path / "nope"))
    assert r.returncode == 2 and "not a folder" in r.stderr


# -- issue 15: least authority (row 2), one corrupt run (row 8) ----------------------------------


@pytest.fixture
def two_imports(tmp_path: Path) -> Path:
    """Two imported runs (no server needed) under one folder."""
    root = tmp_path / "runs"
    for name in ("a", "b"):
        import_file(DATA / "importers" / "k6.json", "auto", root / name)
    return root


@pytest.mark.parametrize("sql", [
    "COPY (SELECT 1) TO 'x.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/home/*')",
    "ATTACH 'x.db' AS x",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT * FROM 'https://example.com/x.parquet'",
    "SET enable_external_access = true",
    "EXPORT DATABASE 'dump'",
], ids=["copy", "read_csv", "read_text", "glob", "attach", "install", "load", "download", "set", "export"])
def test_sql_reads_the_runs_and_nothing_else(two_imports: Path, tmp_path: Path, cli, sql: str) -> None:
    r = cli("sql", sql, "--runs", str(two_imports), cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracehound: error:") and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]  # nothing written, nothing attached


def test_a_corrupt_run_is_skipped_with_a_warning(two_imports: Path, cli) -> None:
    whole = int(cli("sql", "SELECT count(*) FROM requests", "--runs", str(two_imports), "--csv").stdout.split()[1])
    (two_imports / "b" / "requests.parquet").write_bytes(b"PAR1 not a parquet file")
    r = cli("sql", "SELECT count(*) FROM requests", "--runs", str(two_imports), "--csv")
    assert r.returncode == 0 and int(r.stdout.split()[1]) * 2 == whole
    assert r.stderr.strip().splitlines() == [
        f"tracehound: skipped {two_imports / 'b'}: its requests.parquet cannot be read "
        + r.stderr.split("cannot be read ", 1)[1].strip()]
    runs = cli("sql", "SELECT count(*) FROM runs", "--runs", str(two_imports), "--csv")
    assert runs.returncode == 0 and runs.stdout.split()[1] == "2"  # its run.json is still read
