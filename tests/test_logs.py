"""The log analyst: formats, events, time zones, gzip, signatures, templates, alignment, bad input, CLI, agent."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml

from tracehound.agents.logs import logs_agent, result
from tracehound.analysis.synthetic import FakeRun, table
from tracehound.case import Case, Sources
from tracehound.demo import free_port
from tracehound.diagnosis.signals import REGISTRY
from tracehound.logs import (
    analyze_logs,
    default_table,
    load_table,
    parse_bound,
    parse_zone,
)
from tracehound.logs.events import assemble
from tracehound.logs.formats import detect
from tracehound.logs.signatures import BadSignatureTable
from tracehound.logs.templates import mask, mask_path
from tracehound.logs.timestamps import NS, Clock, iso_ns
from tracehound.probe import LoadShape, ProbeConfig, Target, probe

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "logs"
EXPECTED = yaml.safe_load((DATA / "expected.yaml").read_text())

def _iso(ns: int | None) -> str | None:
    return iso_ns(ns) if ns is not None else None


def _events(name: str, zone=UTC) -> list:
    lines = (DATA / name).read_text().splitlines(keepends=True)
    return list(assemble(lines, detect(lines), Clock(zone)))


# -- formats, as data (tests/data/logs/expected.yaml) ------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_log_is_read_as_expected(name):
    exp = EXPECTED[name]
    r = analyze_logs([DATA / name], zone=UTC)
    f = r.files[0]
    assert f.skipped is None
    assert f.kind == exp["kind"]
    assert (f.events, f.errors) == (exp["events"], exp["errors"])
    assert (_iso(f.first_ns), _iso(f.last_ns)) == (exp["first"], exp["last"])
    assert (f.naive, f.untimed) == (exp["naive"], exp["untimed"])
    assert sorted({s.signal for s in r.signatures}) == sorted(exp["signals"])
    mined = {t.template for t in r.templates}
    for tpl in exp["templates"]:
        assert tpl in mined, f"{tpl!r} not among {sorted(mined)}"
    assert {o.name for o in r.observations} == set(exp["signals"])


def test_format_detection_from_first_lines():
    assert detect(['{"msg": "x", "level": "info"}'] * 3).parser == "json"
    assert detect(['ts=2026-03-01T10:00:00Z level=info msg="ok" a=1'] * 3).kind == "logfmt"
    assert detect(['1.2.3.4 - - [01/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl"'] * 3).kind == "access"
    assert detect(["just some words", "and more words"]).kind == "text"
    assert detect([]).kind == "text"


# -- events ------------------------------------------------------------------------------------------


def test_a_chained_traceback_is_one_event_with_its_exception_lines():
    evs = _events("app_python.log")
    assert [e.line for e in evs] == [1, 2, 3, 23, 24, 25]
    tb = evs[2]
    assert tb.message == "ERROR ledger: posting entry 8813 failed"
    assert tb.exc == [
        "asyncpg.exceptions.ConnectionDoesNotExistError: connection was closed in the middle of operation",
        ("sqlalchemy.exc.InterfaceError: (sqlalchemy.dialects.postgresql.asyncpg.InterfaceError) <class "
         "'asyncpg.exceptions.ConnectionDoesNotExistError'>: connection was closed in the middle of operation"),
    ]
    assert tb.lines == 18  # the message, frames, chain, [SQL: …], (Background …); blank lines aside
    assert evs[3].message.startswith("INFO ledger: posted entry 8814")


def test_an_untimed_header_keeps_its_traceback_and_a_bare_traceback_stands_alone():
    evs = _events("uvicorn.log")
    tb = next(e for e in evs if e.exc)
    assert tb.message == "ERROR:    Exception in ASGI application"
    assert tb.exc[0].startswith("sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached")
    lines = ["2026-03-01 10:00:00,000 INFO app: served /x\n", "Traceback (most recent call last):\n",
             '  File "/srv/app.py", line 3, in <module>\n', "KeyError: 'price'\n",
             "2026-03-01 10:00:01,000 INFO app: served /y\n"]
    evs = list(assemble(lines, detect(lines), Clock(UTC)))
    assert [e.message for e in evs] == ["INFO app: served /x", "Traceback (most recent call last):",
                                        "INFO app: served /y"]
    assert evs[1].exc == ["KeyError: 'price'"]


def test_a_json_record_traceback_gives_its_exception_lines():
    evs = _events("app.jsonl")
    err = next(e for e in evs if e.exc)
    assert err.exc == ["redis.exceptions.TimeoutError: Timeout reading from socket"]
    assert err.rid == "c0ffee01-aaaa-4bbb-8ccc-000000000002"
    access = evs[-1]
    assert (access.access, access.method, access.path, access.status) == (True, "GET", "/search?q=lamp", 429)


def test_access_lines_give_status_upstream_and_request_id():
    ev = _events("nginx_access.log")[2]
    assert (ev.status, ev.upstream, ev.rid) == (502, "10.0.0.13:8000", "0c4a1b2e3f5d6789")


# -- time zones ----------------------------------------------------------------------------------------


def test_naive_times_are_read_in_the_zone_given():
    utc = analyze_logs([DATA / "app_python.log"], zone=UTC).files[0].first_ns
    plus2 = analyze_logs([DATA / "app_python.log"], zone=parse_zone("+02:00")).files[0].first_ns
    kolkata = analyze_logs([DATA / "app_python.log"], zone=parse_zone("Asia/Kolkata")).files[0].first_ns
    assert utc - plus2 == 2 * 3600 * NS
    assert utc - kolkata == 5 * 3600 * NS + 30 * 60 * NS


def test_naive_times_default_to_the_machines_local_zone_and_the_report_says_so():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        r = analyze_logs([DATA / "app_python.log"])
    finally:
        if old is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = old
        time.tzset()
    assert _iso(r.files[0].first_ns) == "2026-03-01T05:20:00.014Z"
    assert any("6 timestamps had no time zone; read as UTC+09:00" in n for n in r.notes)


def test_times_with_a_zone_ignore_the_zone_given():
    for name in ("app.jsonl", "nginx_access.log", "postgresql.log", "gunicorn.log"):
        a = analyze_logs([DATA / name], zone=UTC).files[0]
        b = analyze_logs([DATA / name], zone=parse_zone("-07:00")).files[0]
        assert (a.first_ns, a.naive) == (b.first_ns, 0), name


def test_time_bounds_and_zones_given_by_a_person():
    now = 1_800_000_000.0
    assert parse_bound("30m", now=now) == int((now - 1800) * NS)
    assert parse_bound("2026-03-01T14:20:01Z") == parse_bound("2026-03-01 15:20:01", zone=parse_zone("+01:00"))
    assert parse_bound("1772374801") == 1772374801 * NS
    with pytest.raises(ValueError, match="not a time"):
        parse_bound("yesterday")
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_zone("Mars/Olympus")


def test_since_and_until_bound_the_events():
    since = parse_bound("2026-03-01T14:20:02Z")
    until = parse_bound("2026-03-01T14:20:05.100Z")
    r = analyze_logs([DATA / "postgresql.log", DATA / "app_python.log"], since=since, until=until, zone=UTC)
    assert {Path(f.path).name: f.in_window for f in r.files} == {"postgresql.log": 2, "app_python.log": 3}
    assert {s.signal for s in r.signatures} == {"log:lock_wait", "log:deadlock_detected"}


# -- gzip ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["uvicorn.log", "nginx_access.log", "postgresql.log"])
def test_a_gzipped_log_reads_like_the_plain_one(tmp_path, name):
    gz = tmp_path / f"{name}.gz"
    gz.write_bytes(gzip.compress((DATA / name).read_bytes()))
    plain, packed = analyze_logs([DATA / name], zone=UTC), analyze_logs([gz], zone=UTC)
    assert packed.files[0].gzip and not plain.files[0].gzip
    assert packed.files[0].kind == plain.files[0].kind
    assert [(t.template, t.count) for t in packed.templates] == [(t.template, t.count) for t in plain.templates]
    assert [(s.id, s.count) for s in packed.signatures] == [(s.id, s.count) for s in plain.signatures]


# -- masking and templates ---------------------------------------------------------------------------------

MASKED = {
    "order 42 failed after 1.3s for user 'bob' from 10.0.0.12:5544":
        "order <NUM> failed after <DUR> for user <STR> from <IP>",
    "job 8f14e45f-ceea-467f-a0c4-1a2b3c4d5e6f at 2026-12-01T10:00:00Z": "job <UUID> at <TS>",
    "Worker (pid:456) was sent SIGKILL!": "Worker (pid:<NUM>) was sent SIGKILL!",
    "digest deadbeef1234 via 0x7f3a token acc_8f3k2": "digest <HEX> via <HEX> token <ID>",
    "see https://example.test/a/1?b=2 now": "see <URL> now",
    "psycopg2.OperationalError: server closed the connection unexpectedly":
        "psycopg2.OperationalError: server closed the connection unexpectedly",
}


@pytest.mark.parametrize("raw", sorted(MASKED))
def test_masking(raw):
    assert mask(raw) == MASKED[raw]


def test_paths_are_masked_segment_by_segment_and_queries_keep_their_keys():
    assert (mask_path("/api/users/8f14e45f-ceea-467f-a0c4-1a2b3c4d5e6f/posts?page=2&token=x")
            == "/api/users/<UUID>/posts?page&token")
    assert mask_path("/static/app.3f9a8b7c6d.js") == "/static/app.<HEX>.js"
    assert mask_path("/orders/42") == "/orders/<NUM>"


def test_rare_and_new_templates(tmp_path):
    """Warnings seen twice in thousands of lines are rare; templates first seen once the runs began are new."""
    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC).timestamp()
    lines = []
    for i in range(2000):  # an hour of history before the run
        t = t0 + i * 1.8
        lines.append(f"{_py_ts(t)} INFO shop: order {i} packed in {i % 90} ms")
        if i in (500, 1500):
            lines.append(f"{_py_ts(t + 0.1)} WARNING shop: disk usage at {80 + i % 7}% on /var/lib/shop")
    run_at = t0 + 3600
    for i in range(30):
        t = run_at + i * 0.2
        lines.append(f"{_py_ts(t)} INFO shop: order {5000 + i} packed in 12 ms")
        if i % 3 == 0:
            lines.append(f"{_py_ts(t + 0.05)} ERROR shop: carrier answered garbage for order {5000 + i}")
    log = tmp_path / "shop.log"
    log.write_text("\n".join(lines) + "\n")
    run = FakeRun(table(30, start_s=np.arange(30) * 0.2, latency_ms=60.0, epoch_ns=int(run_at * NS)), name="run")
    r = analyze_logs([log], runs=[run], zone=UTC)
    assert [t.template for t in r.rare] == ["WARNING shop: disk usage at <NUM>% on /var/lib/shop"]
    assert [t.template for t in r.new] == ["ERROR shop: carrier answered garbage for order <NUM>"]


def _py_ts(t: float) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return f"{d:%Y-%m-%d %H:%M:%S},{round(t % 1 * 1000) % 1000:03d}"


# -- the signature table, as data ------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", default_table().signatures, ids=lambda s: s.id)
def test_each_signature_matches_its_examples_and_not_its_near_misses(sig):
    table = default_table()
    i = table.signatures.index(sig)
    for ex in sig.examples:
        assert i in table.match(ex), f"{sig.id} misses {ex!r}"
    for ex in sig.counter_examples:
        assert i not in table.match(ex), f"{sig.id} matches {ex!r}"


def test_a_fallback_signature_only_counts_alone():
    table = default_table()
    line = "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 0 reached"
    hits = {table.signatures[i].id for i in table.match(line)}
    assert hits == {"sqlalchemy_queuepool_limit"}
    assert {table.signatures[i].id for i in table.match("asyncio.exceptions.TimeoutError")} == {"generic_timeout_error"}


def test_every_table_signal_is_registered_by_the_agent_and_described():
    table = default_table()
    for name, desc in table.signals.items():
        assert REGISTRY[name].source == "logs" and REGISTRY[name].description == desc
    emitted = {s.signal for s in table.signatures}
    assert emitted | {"log:template_aligned_with_failures", "log:failures_on_one_upstream"} == set(table.signals)


def test_the_signature_page_is_up_to_date():
    page = ROOT / "docs" / "log-signatures.md"
    assert page.read_text() == default_table().to_markdown(), \
        "run: python -m tracehound.logs --docs docs/log-signatures.md"


@pytest.mark.parametrize("broken, message", [
    ("signals: {}\nsignatures: [{id: a}]", "missing 'signal'"),
    ("signals: {'log:x': x}\n"
     "signatures: [{id: a, signal: 'log:y', title: t, pattern: p, seen_in: [app], examples: [p]}]", "not listed"),
    ("signals: {'log:x': x}\n"
     "signatures: [{id: a, signal: 'log:x', title: t, pattern: '(', seen_in: [app], examples: [p]}]", "bad pattern"),
    ("signals: {'log:x': x}\n"
     "signatures: [{id: a, signal: 'log:x', title: t, pattern: p, seen_in: [disk], examples: [p]}]", "seen_in"),
    (("signals: {'log:x': x}\n"
      "signatures: [{id: a, signal: 'log:x', title: t, pattern: p, seen_in: [app], examples: [p]}, "
      "{id: a, signal: 'log:x', title: t, pattern: p, seen_in: [app], examples: [p]}]"), "duplicate id"),
    ("just: text", "expected"),
])
def test_a_broken_signature_table_is_refused_with_the_reason(tmp_path, broken, message):
    p = tmp_path / "table.yaml"
    p.write_text(broken)
    with pytest.raises(BadSignatureTable, match=message):
        load_table(p)


# -- alignment with runs ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """tests/servers/log_app.py under uvicorn, writing naive times in Asia/Kolkata (UTC+05:30)."""
    d = tmp_path_factory.mktemp("ledger")
    log = d / "ledger.log"
    port = free_port()
    env = {**os.environ, "LOG_FILE": str(log), "TZ": "Asia/Kolkata"}
    with open(d / "stderr.log", "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tests.servers.log_app:app", "--host", "127.0.0.1",
                                 "--port", str(port), "--no-access-log"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((d / "stderr.log").read_text()[-2000:]) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(timeout=30)


def _probe(url: str, out: Path, n: int = 30):
    return probe(ProbeConfig(LoadShape(concurrency=1, requests=n), Target(url + "/work"), out=out))


def test_the_failing_template_is_over_represented_around_failures_by_time_and_by_request_id(ledger, tmp_path):
    url, log = ledger
    run = _probe(url, tmp_path / "run")
    r = analyze_logs([log], runs=[run], zone=ZoneInfo("Asia/Kolkata"))
    assert (r.requests, r.failures) == (30, 10)
    top = r.over_represented[0]
    assert "LedgerUnavailable" in top.template and top.count == 10
    a = top.alignment
    assert (a.by_id, a.by_id_failed) == (10, 10)
    assert a.near == 10 and a.near_failures == pytest.approx(10)
    assert a.lift == pytest.approx(3.0)
    served = next(t for t in r.templates if "posted" in t.template)
    assert (served.alignment.by_id, served.alignment.by_id_failed) == (20, 0)
    obs = {o.name: o for o in r.observations}
    assert obs["log:template_aligned_with_failures"].strength > 0.5
    assert "log:template_aligned_with_failures" in r.tested


def test_read_in_the_wrong_zone_the_times_miss_the_run_but_request_ids_still_join(ledger, tmp_path):
    url, log = ledger
    run = _probe(url, tmp_path / "run", n=9)
    r = analyze_logs([log], runs=[run], zone=UTC)
    failing = next(t for t in r.templates if "LedgerUnavailable" in t.template)
    assert failing.alignment.near == 0 and failing.alignment.by_id >= 3
    assert any("no timed event fell within the runs" in n for n in r.notes)


def test_failures_piling_on_one_upstream(tmp_path):
    lines = []
    for i in range(90):
        up = f"10.0.0.{11 + i % 3}:8000"
        status = 502 if up.endswith("13:8000") and i % 2 else 200
        lines.append(f'10.1.0.7 - - [01/Mar/2026:14:20:{i % 60:02d} +0000] "GET /api/cart/{i} HTTP/1.1" {status} 90 '
                     f'"-" "curl/8.5" rt=0.010 ua="{up}" us={status}')
    log = tmp_path / "access.log"
    log.write_text("\n".join(lines) + "\n")
    r = analyze_logs([log])
    obs = {o.name: o for o in r.observations}
    assert "log:failures_on_one_upstream" in r.tested
    assert obs["log:failures_on_one_upstream"].strength > 0.5
    assert "10.0.0.13:8000" in obs["log:failures_on_one_upstream"].detail


def test_signals_strength_grows_with_count_and_sits_lower_when_the_runs_saw_other_times(tmp_path):
    one = analyze_logs([DATA / "gunicorn.log"], zone=UTC)
    worker = {o.name: o.strength for o in one.observations}
    assert 0.3 < worker["log:worker_timeout"] < 0.6
    many = tmp_path / "many.log"
    many.write_text("".join(f"[2026-03-01 14:21:{i:02d} +0000] [120] [CRITICAL] WORKER TIMEOUT (pid:{200 + i})\n"
                            for i in range(8)))
    assert {o.name: o.strength for o in analyze_logs([many]).observations}["log:worker_timeout"] > 0.8
    later = FakeRun(table(50, epoch_ns=parse_bound("2026-03-02T09:00:00Z"),
                          status=np.r_[np.full(10, 500), np.full(40, 200)]))
    away = {o.name: o.strength for o in analyze_logs([many], runs=[later]).observations}
    assert away["log:worker_timeout"] < 0.6


def _timeouts_at(path: Path, seconds: list[int]) -> Path:
    path.write_text("".join(f"[2026-03-01 14:20:{s:02d} +0000] [120] [CRITICAL] WORKER TIMEOUT (pid:{200 + s})\n"
                            for s in seconds))
    return path


def test_a_signature_whose_events_line_up_with_the_failures_gets_its_twin(tmp_path):
    # One request a second for a minute; the requests of seconds 5, 15 … 55 fail.
    failing = list(range(5, 60, 10))
    status = np.full(60, 200)
    status[failing] = 500
    run = FakeRun(table(60, start_s=np.arange(60.0), status=status, epoch_ns=parse_bound("2026-03-01T14:20:00Z")))
    beside = analyze_logs([_timeouts_at(tmp_path / "beside.log", failing)], runs=[run])
    obs = {o.name: o for o in beside.observations}
    assert "log:worker_timeout@failures" in obs, sorted(obs)
    assert "beside failing requests" in obs["log:worker_timeout@failures"].detail
    # As many events, each beside a request that went well: they do not line up.
    elsewhere = analyze_logs([_timeouts_at(tmp_path / "elsewhere.log", [s + 2 for s in failing])], runs=[run])
    assert "log:worker_timeout" in {o.name for o in elsewhere.observations}
    assert "log:worker_timeout@failures" not in {o.name for o in elsewhere.observations}
    # Events that cannot be placed beside a request (the runs' requests came in two bursts, the
    # events between them) line up by count: as many as the failing requests.
    bursts = np.r_[np.arange(10.0), np.arange(50.0, 60.0)]
    status2 = np.where(np.isin(np.arange(20), [1, 4, 7, 12, 15, 18]), 500, 200)
    apart = FakeRun(table(20, start_s=bursts, status=status2, epoch_ns=parse_bound("2026-03-01T14:20:00Z")))
    counted = {o.name: o for o in analyze_logs([_timeouts_at(tmp_path / "counted.log", [20, 22, 24, 26, 28, 30])],
                                               runs=[apart]).observations}
    assert "log:worker_timeout@failures" in counted, sorted(counted)
    assert "for 6 failing requests" in counted["log:worker_timeout@failures"].detail
    too_many = {o.name for o in analyze_logs([_timeouts_at(tmp_path / "many.log", list(range(15, 45)))],
                                             runs=[apart]).observations}
    assert "log:worker_timeout" in too_many and "log:worker_timeout@failures" not in too_many


def test_a_lined_up_twin_adds_half_its_signals_weight_as_its_own_evidence():
    from tracehound.diagnosis.catalog import load_catalog
    from tracehound.diagnosis.scoring import LINED_UP_SHARE, score
    from tracehound.diagnosis.signals import Signal

    entries = list(load_catalog().values())
    name = "log:worker_timeout"
    alone = {h.id: h for h in score(entries, [Signal(name, 0.8)])}
    both = {h.id: h for h in score(entries, [Signal(name, 0.8), Signal(name + "@failures", 0.8)])}
    weighed = [e for e in entries if name in e.signals]
    assert weighed
    for e in weighed:
        assert both[e.id].score - alone[e.id].score == pytest.approx(LINED_UP_SHARE * e.signals[name] * 0.8)
        lines = both[e.id].evidence_for + both[e.id].evidence_against
        line = next(ev for ev in lines if ev.signal.endswith("@failures"))
        assert "line up with the failing requests" in line.why
    # An entry that does not weigh the signal gains nothing from its twin.
    other = next(e for e in entries if name not in e.signals)
    assert both[other.id].score == pytest.approx(alone[other.id].score)


# -- bad input ---------------------------------------------------------------------------------------------------


def test_bad_files_are_skipped_with_a_reason_while_the_rest_is_read(tmp_path):
    (tmp_path / "core.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.log").write_text("")
    (tmp_path / "blank.log").write_text("\n   \n\n")
    rng = np.random.default_rng(3)
    busy = (DATA / "uvicorn.log").read_text() + "".join(
        f'INFO:     10.0.{a}.{b}:{c} - "GET /api/invoices/{d} HTTP/1.1" 200 OK\n'
        for a, b, c, d in rng.integers(1, 60000, (4000, 4)))
    packed = gzip.compress(busy.encode())
    (tmp_path / "cut.log.gz").write_bytes(packed[: len(packed) * 2 // 3])
    (tmp_path / "notgzip.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 20)
    paths = [tmp_path / n for n in ("core.bin", "empty.log", "blank.log", "missing.log", "cut.log.gz", "notgzip.gz")]
    r = analyze_logs([*paths, DATA / "gunicorn.log"], zone=UTC)
    why = {Path(f.path).name: f.skipped for f in r.files}
    assert why["core.bin"] == "binary file, not a log"
    assert why["empty.log"] == "empty file"
    assert why["blank.log"] == "empty log (only blank lines)"
    assert why["missing.log"] == "no such file"
    assert why["notgzip.gz"].startswith("not a readable gzip file")
    assert why["gunicorn.log"] is None
    cut = next(f for f in r.files if f.path.endswith("cut.log.gz"))
    assert cut.skipped is None and 1000 < cut.events < 4010
    assert cut.cut_short == "stopped early: the gzip stream is truncated"
    assert {"log:worker_timeout", "log:pool_checkout_timeout"} <= {o.name for o in r.observations}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_skipped(tmp_path):
    p = tmp_path / "secret.log"
    p.write_text("2026-03-01 10:00:00,000 INFO x: y\n")
    p.chmod(0)
    assert analyze_logs([p]).files[0].skipped.startswith("cannot read")


def test_a_folder_stands_for_the_files_in_it():
    r = analyze_logs([DATA], zone=UTC)
    assert sorted(Path(f.path).name for f in r.read) == sorted([*EXPECTED, "expected.yaml"])  # YAML is text too
    assert not r.skipped


# -- the agent -------------------------------------------------------------------------------------------------------


def _case(logs: list[Path]) -> Case:
    return Case(target=Target("http://127.0.0.1:9/x"), sources=Sources(logs=logs))


def test_the_agent_is_skipped_without_logs_or_when_none_can_be_read(tmp_path):
    res = asyncio.run(logs_agent(_case([]), []))
    assert (res.status, res.detail) == ("skipped", "no logs given (--logs FILE)")
    (tmp_path / "core.bin").write_bytes(b"\x00\x01" * 100)
    res = asyncio.run(logs_agent(_case([tmp_path / "core.bin", tmp_path / "nope.log"]), []))
    assert res.status == "skipped"
    assert "core.bin: binary file, not a log" in res.detail and "nope.log: no such file" in res.detail


def test_the_agent_reports_signals_findings_and_what_it_tested():
    res = asyncio.run(logs_agent(_case([DATA / "postgresql.log", DATA / "nginx_error.log"]), []))
    assert res.status == "ok"
    names = {s.name for s in res.signals}
    assert {"log:deadlock_detected", "log:upstream_timed_out"} <= names
    assert "log:pool_checkout_timeout" not in res.tested  # no app log was read: it could not have shown
    assert {"log:deadlock_detected", "log:upstream_closed_early"} <= set(res.tested)
    assert all(f.exemplars for f in res.findings if f.signals)


@pytest.mark.lab
def test_the_agent_finds_the_pool_signature_in_the_lab_demo_and_not_in_its_fixed_twin(tmp_path):
    from tracehound import lab

    sc = lab.get_scenario("demo")
    got = {}
    for fixed in (False, True):
        with lab.up(sc, fixed=fixed) as inst:
            cfg = sc.probe_config(inst.url, out=tmp_path / f"run-{fixed}")
            run = probe(cfg)
            case = Case(target=cfg.target, sources=Sources(logs=list(inst.logs.values())))
            res = asyncio.run(logs_agent(case, [run]))
        got[fixed] = res
    faulty, twin = got[False], got[True]
    strengths = {s.name: s.strength for s in faulty.signals}
    assert strengths.get("log:pool_checkout_timeout", 0) > 0.5
    assert twin.status == "ok" and not twin.signals
    assert "log:pool_checkout_timeout" in twin.tested


def test_result_of_a_report_is_an_agent_result():
    res = result(analyze_logs([DATA / "app.jsonl"], zone=UTC))
    assert res.name == "logs" and res.status == "ok"
    assert {s.name for s in res.signals} == {"log:cache_timeout", "log:rate_limited"}


# -- the CLI ---------------------------------------------------------------------------------------------------


def test_cli_prints_the_report(cli):
    p = cli("logs", str(DATA / "postgresql.log"), str(DATA / "nginx_error.log"), "--tz", "UTC")
    assert p.returncode == 0, p.stderr
    assert "log:deadlock_detected" in p.stdout and "Signatures" in p.stdout
    assert p.stderr == ""


def test_cli_json_and_runs(cli, ledger, tmp_path):
    url, log = ledger
    run = _probe(url, tmp_path / "run", n=9)
    p = cli("logs", str(log), "--run", str(run.path), "--tz", "Asia/Kolkata", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["schema"] == "tracehound.logs/1" and d["requests"] == 9 and d["failures"] == 3
    assert d["over_represented"] and "LedgerUnavailable" in d["over_represented"][0]["template"]


def test_cli_skips_bad_files_on_stderr_and_fails_only_when_nothing_was_read(cli, tmp_path):
    (tmp_path / "core.bin").write_bytes(b"\x00" * 64)
    p = cli("logs", str(tmp_path / "core.bin"), str(DATA / "redis.log"))
    assert p.returncode == 0
    assert p.stderr.strip() == f"tracehound: skipped {tmp_path / 'core.bin'}: binary file, not a log"
    p = cli("logs", str(tmp_path / "core.bin"), str(tmp_path / "missing.log"))
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [f"tracehound: skipped {tmp_path / 'core.bin'}: binary file, not a log",
                                             f"tracehound: skipped {tmp_path / 'missing.log'}: no such file",
                                             "tracehound: error: no log could be read"]


def test_cli_on_an_empty_folder_says_so(cli, tmp_path):
    """Issue 15, row 15: `logs` on an empty folder exited 2 and printed nothing."""
    (tmp_path / "logs").mkdir()
    p = cli("logs", str(tmp_path / "logs"))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip() == f"tracehound: error: no log could be read: no file in {tmp_path / 'logs'}"


@pytest.mark.parametrize("args, message", [
    (["--since", "yesterday"], "not a time: 'yesterday'"),
    (["--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["--run", "/nonexistent-run"], "is not a run folder"),
])
def test_cli_bad_options_get_one_line(cli, args, message):
    p = cli("logs", str(DATA / "redis.log"), *args)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracehound: error: ") and message in lines[0]


# -- issue 15, row 4: secrets a log holds stay in the log --------------------------------------------------------

LOGGED_SECRETS = {"password": "hunter2-pw-41", "bearer": "tok-abc-12345678", "dsn": "DSNPASS-123",
                  "api_key": "ak-live-999888", "kv": "dsnpw-777", "cookie": "cookie-val-4444",
                  "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXMz"}


def _secret_log(path: Path) -> Path:
    s = LOGGED_SECRETS
    path.write_text(
        f"2026-12-01 10:00:00,000 INFO app: login user=bob password={s['password']} ok\n"
        f"2026-12-01 10:00:01,000 ERROR app: GET /orders with Authorization: Bearer {s['bearer']} failed\n"
        f"2026-12-01 10:00:02,000 ERROR app: cannot connect to postgresql://app:{s['dsn']}@db:5432/shop\n"
        f'2026-12-01 10:00:03,000 WARNING app: payload {{"api_key": "{s["api_key"]}", "user": "x"}}\n'
        "2026-12-01 10:00:04,000 ERROR app: psycopg.OperationalError: connection failed: FATAL:  password "
        f"authentication failed for user \"app\" dsn=host=db password={s['kv']}\n"
        f"2026-12-01 10:00:05,000 ERROR app: jwt {s['jwt']} rejected\n"
        f"2026-12-01 10:00:06,000 ERROR app: Set-Cookie: session={s['cookie']}; Path=/\n" * 3)
    return path


def test_no_secret_in_a_log_reaches_the_text_the_json_or_the_mcp_result(cli, tmp_path):
    import asyncio

    from tracehound.mcp.server import build_server

    log = _secret_log(tmp_path / "app.log")
    text = cli("logs", str(log), "--tz", "UTC", env={"COLUMNS": "400"})
    as_json = cli("logs", str(log), "--tz", "UTC", "--json")
    assert text.returncode == as_json.returncode == 0, text.stderr + as_json.stderr
    assert "[redacted]" in text.stdout and json.loads(as_json.stdout)["templates"]

    async def mcp() -> str:
        res = await build_server(runs_dir=tmp_path / "runs").call_tool("logs", {"files": [str(log)], "tz": "UTC"})
        return res.model_dump_json()

    for where, out in (("text", text.stdout + text.stderr), ("json", as_json.stdout), ("mcp", asyncio.run(mcp()))):
        leaked = [k for k, v in LOGGED_SECRETS.items() if v in out]
        assert not leaked, (where, leaked)
