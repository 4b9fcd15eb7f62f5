"""Access logs at scale: imports of each format from real-format samples (tests/data/access_logs/),
bad lines, gzip, the SQL-pushed analysis finding an injected failure, the CLI's one-line errors,
and ``investigate --access-log`` adding the agent's evidence."""

from __future__ import annotations

import asyncio
import gzip
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tracehound.access import ImportFolder, import_access_log
from tracehound.access.synthetic import write_nginx_log
from tracehound.agents.access_log import access_log_agent, analyze_import
from tracehound.analysis.contrast import AttributeCounts, contrast_counts
from tracehound.analysis.plateau import plateaus, plateaus_binned
from tracehound.analysis.temporal import failure_window
from tracehound.case import Case, Sources
from tracehound.errors import BadImport
from tracehound.probe import Target

DATA = Path(__file__).parent / "data" / "access_logs"


def rows(imp: ImportFolder) -> list[dict]:
    con = imp.connect()
    try:
        cur = con.execute("SELECT * EXCLUDE (bad_line) FROM requests ORDER BY ts, path")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


# -- each format ----------------------------------------------------------------------------


def test_nginx_combined_with_times_and_upstreams(tmp_path):
    imp = import_access_log(DATA / "nginx_combined.log", out=tmp_path / "i")
    m = imp.imported
    assert (imp.meta.kind, m.format, m.rows, m.bad_lines) == ("import", "nginx", 8, 1)
    assert m.bad_examples == ['203.0.113.9 - - [02/Dec/2026:14:00:08 +0100] "GET /api/orders/18']
    assert m.utc_offset_min == 60 and m.days == ["2026-12-02"]
    r = rows(imp)
    first = r[0]
    assert first["ts"] == utc(2026, 12, 2, 13, 0, 1) and first["client"] == "203.0.113.7"
    assert (first["method"], first["path"], first["template"], first["status"], first["bytes"]) == (
        "GET", "/api/orders/1842", "/api/orders/:id", 200, 512)
    assert (first["latency_ms"], first["upstream_ms"], first["upstream"]) == (31.0, 30.0, "10.0.1.11:8000")
    timeout = next(x for x in r if x["status"] == 504)
    assert timeout["template"] == "/api/users/:id/profile" and timeout["path"].endswith("/profile")
    assert timeout["latency_ms"] == 60001.0 and timeout["upstream"] == "10.0.1.13:8000"
    # Two upstreams tried: the last one answered, with its own time.
    retried = next(x for x in r if x["status"] == 502)
    assert (retried["upstream"], retried["upstream_ms"], retried["latency_ms"]) == ("10.0.1.12:8000", 1.0, 4.0)
    static = next(x for x in r if x["status"] == 304)
    assert static["template"] == "/static/:id" and static["upstream"] is None and static["upstream_ms"] is None


def test_apache_combined_with_microseconds(tmp_path):
    imp = import_access_log(DATA / "apache_combined.log", out=tmp_path / "i")
    m = imp.imported
    assert (m.format, m.rows, m.bad_lines, m.bad_examples) == (
        "apache", 4, 1, ["this is not an access log line"])
    r = rows(imp)
    assert r[0]["ts"] == utc(2026, 7, 28, 13, 27, 10) and m.utc_offset_min == -180
    err = next(x for x in r if x["status"] == 500)
    assert (err["method"], err["template"], err["latency_ms"]) == ("POST", "/api/v1/items/:id",
                                                                   pytest.approx(30012.453))
    assert r[1]["user_agent"] == "Mozilla/4.08 [en] (Win98; I ;Nav)"


def test_alb(tmp_path):
    imp = import_access_log(DATA / "alb.log", out=tmp_path / "i")
    assert imp.imported.format == "alb" and imp.imported.rows == 4
    r = rows(imp)
    gw = next(x for x in r if x["status"] == 504)
    assert (gw["host"], gw["path"], gw["latency_ms"], gw["upstream"], gw["client"]) == (
        "10.0.2.105", "/api/orders/78", pytest.approx(60002.0), "10.0.0.66:9000", "10.0.1.252")
    undispatched = next(x for x in r if x["status"] == 503)
    assert undispatched["latency_ms"] is None and undispatched["upstream"] is None
    q = next(x for x in r if x["path"] == "/api/orders/77")
    assert q["latency_ms"] == pytest.approx(171.0) and q["host"] == "www.example.com"


def test_cloudfront(tmp_path):
    imp = import_access_log(DATA / "cloudfront.log", out=tmp_path / "i")
    assert imp.imported.format == "cloudfront" and imp.imported.rows == 3
    r = rows(imp)
    assert r[0]["user_agent"] == "Mozilla/4.0 (compatible; MSIE 5.0b1; Mac_PowerPC)"
    assert (r[0]["ts"], r[0]["upstream"], r[0]["host"]) == (utc(2026, 5, 2, 1, 13, 11), "FRA2",
                                                            "d111111abcdef8.cloudfront.net")
    assert r[2]["status"] == 502 and r[2]["latency_ms"] == pytest.approx(30004.0)


def test_json_lines_guessed_and_mapped(tmp_path):
    imp = import_access_log(DATA / "access.jsonl", out=tmp_path / "auto")
    m = imp.imported
    assert (m.format, m.rows, m.bad_lines) == ("jsonl", 3, 2)
    assert m.mapping is not None and m.mapping["time"] == "ts" and m.mapping["status"] == "code"
    r = rows(imp)
    assert (r[0]["path"], r[0]["latency_ms"], r[2]["status"], r[2]["upstream"]) == (
        "/api/orders/1842", 31.0, 504, "10.0.1.13:8000")
    lines = [json.dumps({"when": 1764684000 + i, "rc": 500 if i % 3 == 0 else 200, "route": f"/x/{i}", "ms": 12.5})
             for i in range(9)]
    (tmp_path / "custom.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(BadImport, match="custom.jsonl.*no time or status field") as e:
        import_access_log(tmp_path / "custom.jsonl", out=tmp_path / "x")
    assert "--map" in e.value.hint
    imp = import_access_log(tmp_path / "custom.jsonl", "jsonl", out=tmp_path / "mapped",
                            mapping={"time": "when", "status": "rc", "path": "route", "latency_ms": "ms"})
    r = rows(imp)
    assert len(r) == 9 and r[0]["ts"] == datetime.fromtimestamp(1764684000, UTC)
    assert ([x["status"] for x in r[:3]] == [500, 200, 200] and r[0]["template"] == "/x/:id"
            and r[0]["latency_ms"] == 12.5)


def test_gzip_is_told_from_its_bytes(tmp_path):
    gz = tmp_path / "access.log"  # no .gz: the magic bytes say it
    gz.write_bytes(gzip.compress((DATA / "nginx_combined.log").read_bytes()))
    imp = import_access_log(gz, out=tmp_path / "i")
    assert imp.imported.compression == "gzip"
    assert rows(imp) == rows(import_access_log(DATA / "nginx_combined.log", out=tmp_path / "plain"))


def test_bad_lines_are_counted_never_fatal(tmp_path):
    log = tmp_path / "gen.log"
    write_nginx_log(log, 20_005, bad_lines=10, span_s=3600)  # every 2000th line cut off; the last five whole
    with log.open("a") as f:
        f.write("{\"json\": \"in the middle\"}\n<html>oops</html>\n")
    imp = import_access_log(log, out=tmp_path / "i")
    m = imp.imported
    # Ten truncated lines (the open quote of each swallows the next line, which is recovered) and two foreign ones.
    assert (m.rows, m.bad_lines) == (19_995, 12)
    assert len(m.bad_examples) == 5 and all(len(x) < 300 for x in m.bad_examples)
    assert not (imp.path / "access" / "day=bad").exists()



def test_a_truncated_gzip_is_one_line_and_leaves_no_folder(tmp_path, cli):
    """Issue 15, row 7: a truncated .gz was a DuckDB traceback, exit 1, and an empty run folder left behind."""
    log = tmp_path / "gen.log"
    write_nginx_log(log, 20_000, span_s=3600)
    whole = gzip.compress(log.read_bytes())
    cut = tmp_path / "access.log.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BadImport, match="its gzip stream is truncated or corrupt"):
        import_access_log(cut, out=tmp_path / "i")
    assert not (tmp_path / "i").exists()
    p = cli("import", str(cut), "--out", str(tmp_path / "j"), timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert "zcat" in p.stderr and not (tmp_path / "j").exists()


@pytest.mark.parametrize("fmt", ["nginx", "jsonl"])
def test_a_line_too_long_to_read_is_a_bad_line_not_dropped(tmp_path, fmt):
    """Issue 15, row 16: one line of many megabytes among good lines vanished with `bad_lines: 0`."""
    good = (DATA / ("nginx_combined.log" if fmt == "nginx" else "access.jsonl")).read_text().splitlines()
    if fmt == "nginx":
        long = '203.0.113.9 - - [02/Dec/2026:14:00:09 +0100] "GET /' + "a" * 3_000_000 + ' HTTP/1.1" 200 5 "-" "-"'
    else:
        long = json.dumps({**json.loads(good[0]), "path": "/" + "a" * 3_000_000})
    log = tmp_path / "access.log"
    log.write_text("\n".join([*good[:3], long, *good[3:]]) + "\n")
    m = import_access_log(log, fmt, out=tmp_path / "i").meta.import_
    plain = import_access_log(DATA / ("nginx_combined.log" if fmt == "nginx" else "access.jsonl"), fmt,
                              out=tmp_path / "plain").meta.import_
    assert m is not None and plain is not None
    # the long line is accounted for
    assert (m.rows or 0) + (m.bad_lines or 0) == (plain.rows or 0) + (plain.bad_lines or 0) + 1
    if fmt == "jsonl":  # read line by line: the reader refuses it, and it is counted and shown
        assert (m.rows, m.bad_lines) == (plain.rows, (plain.bad_lines or 0) + 1)
        assert any(x.endswith("(longer than 1 MB)") and len(x) < 300 for x in m.bad_examples or [])


# -- the analysis ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def failing_import(tmp_path_factory):
    d = tmp_path_factory.mktemp("failing")
    injected = write_nginx_log(d / "access.log", 120_000, window=(0.5, 0.6), share=0.6, plateau_s=30.0)
    return injected, import_access_log(d / "access.log", out=d / "import")


def test_analysis_finds_the_injected_failure(failing_import):
    injected, imp = failing_import
    res = analyze_import(imp)
    sigs = {s.name: s for s in res.signals}
    assert {"status_504", "failure_latency_plateau", "failures_bursty", "failures_on_one_server"} <= set(sigs)
    assert sigs["failure_latency_plateau"].value == pytest.approx(30.0, rel=0.03)
    assert injected.upstream in sigs["failures_on_one_server"].detail
    assert "between 12:00 and 14:2" in sigs["failures_bursty"].detail  # 50 %–60 % of the day
    assert sigs["status_504"].strength > 0.8
    assert "failures_start_after_elapsed_time" not in sigs and "failures_uniform" not in sigs
    assert res.requests == 120_000 and res.failures >= sigs["status_504"].value * res.failures
    endpoints = next(f for f in res.findings if "endpoint" in f.title)
    assert any(e.startswith("/api/products/:id:") for e in endpoints.exemplars)


def test_analysis_of_a_healthy_log_emits_no_failure_structure(tmp_path):
    log = tmp_path / "ok.log"
    write_nginx_log(log, 30_000, share=0.0)
    res = analyze_import(import_access_log(log, out=tmp_path / "i"))
    names = {s.name for s in res.signals}
    assert not names & {"failures_bursty", "failures_on_one_server", "failure_latency_plateau",
                        "failures_concentrated_on_attribute"}


def test_binned_plateau_agrees_with_the_row_plateau():
    rng = np.random.default_rng(1)
    ok = np.exp(rng.normal(np.log(50), 0.6, 5000))
    bad = np.r_[rng.normal(2000, 15, 200), np.exp(rng.normal(np.log(50), 0.6, 40))]
    lat = np.r_[ok, bad]
    failed = np.r_[np.zeros(ok.size, bool), np.ones(bad.size, bool)]
    row = plateaus(lat, failed, ~failed)[0]
    b = np.floor(np.log(lat) / 0.01).astype(np.int64)
    uniq, inv = np.unique(b, return_inverse=True)
    binned = plateaus_binned(uniq, np.bincount(inv, failed), np.bincount(inv, ~failed), 0.01)[0]
    assert binned.ms == pytest.approx(row.ms, rel=0.02)
    assert binned.count == pytest.approx(row.count, abs=5)


def test_failure_window_and_contrast_counts():
    n = np.full(100, 1000)
    k = np.r_[np.full(40, 1), np.full(10, 150), np.full(50, 1)]
    w = failure_window(k, n)
    assert (w.start, w.end, w.significant, w.at_end) == (40, 50, True, False)
    assert failure_window(np.full(100, 2), n) is None or not failure_window(np.full(100, 2), n).significant
    items = contrast_counts([AttributeCounts("upstream", "server", ["a", "b", "c"], np.array([90, 5, 5]),
                                             np.array([1000, 1000, 1000]))], 100, 3000)
    assert items[0].value == "a" and items[0].q < 1e-6


# -- the CLI and investigate ----------------------------------------------------------------


def test_cli_import_and_analyze(failing_import, tmp_path, cli):
    _, imp = failing_import
    p = cli("analyze", str(imp.path), "--json", timeout=120)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["kind"] == "import" and "failures_on_one_server" in {s["name"] for s in doc["signals"]}
    # The catalog ranks causes from the log alone; a gateway's 504s piling up at one duration on
    # one upstream point at the upstream's timeout or that instance.
    assert {"upstream_timeout", "bad_instance"} & {h["id"] for h in doc["hypotheses"][:3]}, doc["hypotheses"]
    p = cli("analyze", str(imp.path), timeout=120)
    assert p.returncode == 0 and "Likely causes" in p.stdout and "/api/products/:id" in p.stdout, p.stdout[-2000:]
    p = cli("import", str(DATA / "alb.log"), "--out", str(tmp_path / "alb"), timeout=120)
    assert p.returncode == 0, p.stderr
    assert "Imported 4 requests" in p.stdout and ImportFolder.holds(tmp_path / "alb")
    p = cli("import", str(DATA / "access.jsonl"), "--map", "time=ts,status=code", "-q", "--out", str(tmp_path / "j"),
            timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == str(tmp_path / "j")


@pytest.mark.parametrize("args, message", [
    (["import", "/no/such/access.log"], "cannot import '/no/such/access.log': No such file or directory"),
    (["import", str(DATA / "apache_combined.log"), "--format", "iis"], "unknown format 'iis'"),
    (["import", str(DATA / "cloudfront.log"), "--format", "nginx"], "its first lines are not a nginx access log"),
    (["import", str(DATA / "access.jsonl"), "--map", "time"], "--map 'time' is not FIELD=KEY"),
    (["analyze", str(DATA)], "is not a run folder"),
])
def test_cli_bad_input_is_one_line(args, message, cli):
    p = cli(*args, timeout=120)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and message in p.stderr and "Traceback" not in p.stderr


def test_cli_nothing_parseable(tmp_path, cli):
    junk = tmp_path / "junk.log"
    junk.write_text("hello\nworld\n")
    p = cli("import", str(junk), timeout=120)
    assert p.returncode == 2 and "cannot tell its format" in p.stderr and "nginx" in p.stderr
    assert p.stderr.count("\n") == 1


def test_investigate_access_log_adds_the_agents_evidence(failing_import, tmp_path, monkeypatch):
    from tracehound.agents.run import run_agents

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    _, imp = failing_import
    log = tmp_path / "access.log"
    write_nginx_log(log, 40_000, window=(0.5, 0.6), share=0.6, plateau_s=30.0)
    case = Case(target=Target("http://127.0.0.1:9/x"),
                sources=Sources(access_logs=[log, imp.path, tmp_path / "none.log"]))
    res = asyncio.run(access_log_agent(case, []))
    assert res.status == "ok" and "none.log" in res.detail and "No such file" in res.detail
    names = [s.name for s in res.signals]
    assert names.count("failures_on_one_server") == 2 and "failures_on_one_server" in res.tested
    agents = {a.name: a for a in asyncio.run(run_agents(Case(target=Target("http://127.0.0.1:9/x"),
                                                              sources=Sources(access_logs=[imp.path])), []))}
    assert agents["access_log"].status == "ok" and agents["access_log"].signals
    assert list(scratch.iterdir()) == []  # the log's temporary import is gone
