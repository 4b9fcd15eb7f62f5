"""Importers: real hey output from a real server, and HAR / k6 / vegeta / curl-loop files written
by hand from each tool's documented format (tests/data/importers/). Every column is checked: the
ones a format maps, and null for all the others."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tracehound.errors import BadImport
from tracehound.probe.importers import FORMATS, detect, har, import_file, k6, vegeta
from tracehound.probe.records import schema

DATA = Path(__file__).parent / "data" / "importers"
HEY = "/usr/bin/hey"


def blake(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=8).hexdigest()


def check_columns(table: pa.Table, expected: dict[str, list[Any]]) -> None:
    """Each expected column equals its values (floats to float32 precision); every other column is null."""
    assert table.schema == schema()
    n = table.num_rows
    for name in table.column_names:
        got = table.column(name).to_pylist()
        if name not in expected:
            assert got == [None] * n, f"{name} should be null: the format does not carry it"
        elif pa.types.is_floating(table.schema.field(name).type):
            assert [g is None for g in got] == [e is None for e in expected[name]], name
            pairs = [(g, e) for g, e in zip(got, expected[name], strict=False) if e is not None]
            assert [g for g, _ in pairs] == pytest.approx([e for _, e in pairs], rel=1e-6, abs=1e-4), name
        else:
            assert got == expected[name], name


def constant(table: pa.Table, source: str, run: Path) -> dict[str, list[Any]]:
    return {"run_id": [run.name] * table.num_rows, "source": [source] * table.num_rows}


# -- hey: real hey against a real server ---------------------------------------------------------


@pytest.fixture(scope="module")
def status_server():
    """tests/data/importers/status_server.py on 127.0.0.1: /ok → 200, /unavailable → 503."""
    proc = subprocess.Popen([sys.executable, str(DATA / "status_server.py")], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            pytest.fail("the status server did not start within 10 s")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


def run_hey(url: str, out: Path, n: int = 50) -> list[dict[str, str]]:
    text = subprocess.run([HEY, "-n", str(n), "-c", "5", "-o", "csv", url],
                          capture_output=True, text=True, check=True, timeout=120).stdout
    out.write_text(text)
    return list(csv.DictReader(text.splitlines()))


@pytest.mark.skipif(not os.path.exists(HEY), reason="hey is not installed at /usr/bin/hey (Debian package hey)")
@pytest.mark.parametrize("route,status", [("/ok", 200), ("/unavailable", 503)])
def test_real_hey_csv(status_server, tmp_path, route, status):
    f = tmp_path / "hey.txt"  # the name says nothing: the format is sniffed
    rows = run_hey(status_server + route, f)
    assert len(rows) == 50 and detect(f) == "hey"
    run = import_file(f, out=tmp_path / "run")
    t = run.table

    def sec(col: str) -> list[float]:
        return [float(r[col]) * 1000 for r in rows]

    check_columns(t, {
        **constant(t, "hey", run.path),
        "seq": list(range(50)),
        "start_ns": [round(float(r["offset"]) * 1e9) for r in rows],
        "connect_ms": sec("DNS+dialup"),
        "ttfb_ms": [max(a - b, 0.0) for a, b in zip(sec("response-time"), sec("Response-read"), strict=False)],
        "total_ms": sec("response-time"),
        "status": [int(r["status-code"]) for r in rows],
    })
    assert t.column("status").to_pylist() == [status] * 50
    written = run.meta.dump()
    assert written["import"] == {"format": "hey", "file": str(f), "rows": 50, "skipped": 0, "time_base": "relative"}
    assert written["shape"] == {"model": "imported"} and written["target"] == {}


@pytest.mark.skipif(not os.path.exists(HEY), reason="hey is not installed at /usr/bin/hey (Debian package hey)")
def test_hey_writes_only_a_header_when_everything_failed(tmp_path):
    from tracehound.demo import free_port

    f = tmp_path / "refused.csv"
    assert run_hey(f"http://127.0.0.1:{free_port()}/", f, n=5) == []
    with pytest.raises(BadImport, match="no requests") as e:
        import_file(f, out=tmp_path / "run")
    assert "leaves failed requests out" in e.value.line()


# -- HAR -----------------------------------------------------------------------------------------


def test_har(tmp_path):
    run = import_file(DATA / "session.har", out=tmp_path / "run")
    t = run.table
    check_columns(t, {
        **constant(t, "har", run.path),
        "seq": [0, 1, 2, 3],
        "method": ["GET", "POST", "GET", "GET"],
        "host": ["app.example.com"] * 4,
        "path": ["/api/orders?page=2&token=[redacted]", "/api/orders", "/api/orders?page=3", "/api/profile"],
        # 15:23:16+01:00 is 14:23:16Z
        "start_ns": [1770733395_100000000, 1770733396_000000000, 1770733397_250000000, 1770733398_000000000],
        "connect_ms": [35.5, None, None, None],  # ssl is inside connect; -1 (reused, failed) is null
        "ttfb_ms": [1.5 + 12.0 + 35.5 + 0.25 + 130.0, 0.5 + 0.5 + 2000.0, None, None],
        "total_ms": [187.25, 2004.5, 3.25, None],  # no timings at all: time 0 means unknown
        "status": [200, 503, 0, 0],
        "error_kind": [None, None, "connect_refused", "other"],
        "error": [None, None, "net::ERR_CONNECTION_REFUSED", "no response (HAR status 0)"],
        "bytes_in": [256, 150 + 29, 0, None],  # _transferSize, else headersSize + bodySize
        "bytes_out": [0, 27, 0, None],
        "body_hash": [blake(b'{"id": 7, "password": "hunter2"}'), blake(b'{"error":"busy","retry":true}'), None, None],
        "body_sample": ['{"id": 7, "password": "[redacted]"}', '{"error":"busy","retry":true}', None, None],
        "conn_id": [4312, 4312, None, None],
        "h_server": ["nginx/1.25.3", "nginx/1.25.3", None, None],
        "h_via": ["1.1 edge-a, 1.1 lb-2", None, None, None],
        "h_content_type": ["application/json", "application/json", None, None],
        "h_retry_after": [None, "30", None, None],
        "h_x_request_id": ["req-7f3a", None, None, None],
        "h_server_timing": ["db;dur=41.2", None, None, None],
    })
    assert run.meta.dump()["import"] == {"format": "har", "file": str(DATA / "session.har"), "rows": 4,
                                         "skipped": 0, "time_base": "epoch"}
    assert run.meta.target.distinct_urls == 4 and "abc123" not in json.dumps(run.meta.dump())
    assert run.meta.duration_s == pytest.approx(2.9045)  # from the first start to the last start or end
    assert (run.path / "run.json").exists() and (run.path / "requests.parquet").exists()


@pytest.mark.parametrize("connection", ["9" * 4400, "²", "٣", "4294967296", "-1", " 7"])
def test_a_har_connection_id_that_is_no_small_number_is_left_out(tmp_path, connection):
    # Found by benchmarks/fuzz.py: 4,400 digits made int() refuse the string (a traceback).
    doc = json.loads((DATA / "session.har").read_text())
    doc["log"]["entries"][0]["connection"] = connection
    (tmp_path / "odd.har").write_text(json.dumps(doc))
    run = import_file(tmp_path / "odd.har", out=tmp_path / "run")
    assert run.table.column("conn_id").to_pylist()[0] is None


@pytest.mark.parametrize("message,kind", [
    ("net::ERR_CONNECTION_REFUSED", "connect_refused"),
    ("net::ERR_CONNECTION_RESET", "reset"),
    ("net::ERR_TIMED_OUT", "timeout"),
    ("net::ERR_CONNECTION_TIMED_OUT", "connect_timeout"),
    ("net::ERR_EMPTY_RESPONSE", "remote_disconnected"),
    ("net::ERR_CERT_AUTHORITY_INVALID", "tls"),
    ("net::ERR_SSL_PROTOCOL_ERROR", "tls"),
    ("net::ERR_NAME_NOT_RESOLVED", "dns"),
    ("net::ERR_ABORTED", "other"),
    ("net::ERR_FAILED", "other"),
])
def test_har_error_kinds(message, kind):
    assert har.error_kind(message) == kind


# -- k6 ------------------------------------------------------------------------------------------


K6_END = [1770733395_500000123, 1770733396_000000000, 1770733456_100000000]  # the points' "time"
K6_TOTAL = [45.2 + 0.1 + 120.4 + 2.5, 0.012 + 0.05 + 30.0 + 0.2, 0.01 + 0.03 + 60000.0]  # blocked + duration


def test_k6_points_become_one_row_per_request(tmp_path):
    run = import_file(DATA / "k6.json", out=tmp_path / "run")
    t = run.table
    check_columns(t, {
        **constant(t, "k6", run.path),
        "seq": [0, 1, 2],
        "vu": [1, 2, 1],
        "method": ["GET", "POST", "GET"],
        "host": ["api.example.com"] * 3,
        "path": ["/items?limit=10", "/items", "/items/${}"],
        "start_ns": [end - round(total * 1e6) for end, total in zip(K6_END, K6_TOTAL, strict=False)],
        "connect_ms": [10.5 + 25.25, None, None],  # connecting 0 = a reused connection
        "ttfb_ms": [45.2 + 0.1 + 120.4, 0.012 + 0.05 + 30.0, None],  # no response: no first byte
        "total_ms": K6_TOTAL,
        "status": [200, 500, 0],
        "error_kind": [None, None, "timeout"],  # 1500 restates the status
        "error": [None, None, "request timeout"],
    })
    assert run.meta.import_.skipped == 0 and run.meta.import_.time_base == "epoch"
    assert run.meta.target.distinct_urls == 3


def test_k6_same_key_twice_is_two_requests_and_name_is_the_step(tmp_path):
    tags = {"method": "GET", "url": "http://127.0.0.1:8000/a", "name": "list", "status": "200"}
    points = [{"type": "Point", "metric": m, "data": {"time": "2026-02-10T14:23:15Z", "value": v, "tags": tags}}
              for m, v in (("http_reqs", 1), ("http_req_duration", 5.0), ("http_req_blocked", 1.0))]
    f = tmp_path / "k6.json"
    f.write_text("".join(json.dumps(p) + "\n" for p in points + points))
    t = import_file(f, out=tmp_path / "run").table
    assert t.column("total_ms").to_pylist() == [6.0, 6.0]
    assert t.column("step").to_pylist() == ["list", "list"] and t.column("vu").null_count == 2


@pytest.mark.parametrize("tag,value", [("vu", "18446744073709551616"), ("vu", 1e308), ("error_code", "9" * 30),
                                       ("status", "18446744073709551616")])
def test_k6_tags_past_64_bits_are_no_number_or_one_clear_line(tmp_path, tag, value):
    # Found by benchmarks/fuzz.py: int() of such a tag overflowed NumPy's int64 (a traceback).
    tags = {"method": "GET", "url": "http://127.0.0.1:8000/a", "status": "200", tag: value}
    points = [{"type": "Point", "metric": m, "data": {"time": "2026-02-10T14:23:15Z", "value": v, "tags": tags}}
              for m, v in (("http_reqs", 1), ("http_req_duration", 5.0))]
    f = tmp_path / "k6.json"
    f.write_text("".join(json.dumps(p) + "\n" for p in points))
    if tag == "status":
        with pytest.raises(BadImport, match="is not an HTTP status"):
            import_file(f, out=tmp_path / "run")
        return
    t = import_file(f, out=tmp_path / "run").table
    assert t.num_rows == 1 and t.column("status").to_pylist() == [200]


@pytest.mark.parametrize("value", [1e300, -5.0, 86_400_001.0])
def test_k6_a_time_no_request_takes_is_one_clear_line(tmp_path, value):
    # Found by benchmarks/fuzz.py: 1e300 ms overflowed the start time's int64 (a NumPy warning and a
    # start centuries off) where HAR and the CSV formats refuse such a time.
    tags = {"method": "GET", "url": "http://127.0.0.1:8000/a", "status": "200"}
    points = [{"type": "Point", "metric": m, "data": {"time": "2026-02-10T14:23:15Z", "value": v, "tags": tags}}
              for m, v in (("http_reqs", 1), ("http_req_duration", value))]
    f = tmp_path / "k6.json"
    f.write_text("".join(json.dumps(p) + "\n" for p in points))
    with pytest.raises(BadImport, match=r"line \d+: http_req_duration \S+ is not a time from 0 to 86,400,000 ms"):
        import_file(f, out=tmp_path / "run")


@pytest.mark.parametrize("code,message,kind", [
    (1050, "request timeout", "timeout"), (1101, "lookup: no such host", "dns"),
    (1211, "dial: i/o timeout", "connect_timeout"), (1212, "dial: connection refused", "connect_refused"),
    (1220, "read: connection reset by peer", "reset"), (1311, "x509: certificate doesn't match hostname", "tls"),
    (1000, "unexpected EOF", "remote_disconnected"), (1000, "something else", "other"), (1503, None, None),
])
def test_k6_error_kinds(code, message, kind):
    assert k6.error_kind(code, message) == kind


def test_k6_truncated_last_line_is_skipped_and_counted(tmp_path):
    lines = (DATA / "k6.json").read_text().splitlines()
    f = tmp_path / "k6.json"
    f.write_text("\n".join(lines) + "\n" + lines[-3][:40])  # cut off mid-write
    run = import_file(f, out=tmp_path / "run")
    assert run.table.num_rows == 3 and run.meta.import_.skipped == 1


def test_k6_corrupt_line_in_the_middle_is_named(tmp_path):
    lines = (DATA / "k6.json").read_text().splitlines()
    lines[5] = lines[5][:30]
    f = tmp_path / "k6.json"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadImport, match="line 6 is not valid JSON"):
        import_file(f, out=tmp_path / "run")


# -- vegeta --------------------------------------------------------------------------------------


def test_vegeta(tmp_path):
    run = import_file(DATA / "vegeta.json", out=tmp_path / "run")
    t = run.table
    check_columns(t, {
        **constant(t, "vegeta", run.path),
        "seq": [0, 2, 1],  # vegeta's own, in completion order
        "method": ["POST"] * 3,
        "host": ["127.0.0.1:8080"] * 3,
        "path": ["/orders?api_key=[redacted]"] * 3,
        "start_ns": [1770733395_000000123, 1770733395_200000000, 1770733395_100000000],
        "total_ms": [2.5, 41.0, 30000.412345],
        "status": [200, 500, 0],
        "error_kind": [None, None, "timeout"],
        "error": [None, None, ('Post "http://127.0.0.1:8080/orders?api_key=[redacted]": context deadline exceeded '
                               "(Client.Timeout exceeded while awaiting headers)")],
        "bytes_in": [40, 21, None],  # vegeta counts bytes only for a response
        "bytes_out": [27, 27, None],
        "body_hash": [blake(b'{"order": 981, "token": "tok_live_9f8e"}'), blake(b"Internal Server Error"), None],
        "body_sample": ['{"order": 981, "token": "[redacted]"}', "Internal Server Error", None],
        "h_server": ["uvicorn", "uvicorn", None],
        "h_via": [None, "1.1 a, 1.1 b", None],
        "h_content_type": ["application/json", "text/plain; charset=utf-8", None],
        "h_x_request_id": ["r-1", None, None],
    })
    assert run.meta.target.attack == "checkout" and "s3cret" not in json.dumps(run.meta.dump())


@pytest.mark.parametrize("message,kind", [
    ('Get "http://h/": dial tcp 127.0.0.1:1: connect: connection refused', "connect_refused"),
    ('Get "http://h/": dial tcp 10.0.0.1:80: i/o timeout', "connect_timeout"),
    ('Get "http://h/": net/http: timeout awaiting response headers', "timeout"),
    ('Get "http://h/": read tcp 127.0.0.1:5->127.0.0.1:80: read: connection reset by peer', "reset"),
    ('Get "http://h/": EOF', "remote_disconnected"),
    ('Get "https://h/": x509: certificate signed by unknown authority', "tls"),
    ('Get "http://nope/": dial tcp: lookup nope: no such host', "dns"),
    ("something odd", "other"),
])
def test_vegeta_error_kinds(message, kind):
    assert vegeta.error_kind(message) == kind


# -- curl loop CSV -------------------------------------------------------------------------------


def test_curl_loop_csv(tmp_path):
    run = import_file(DATA / "curl_loop.csv", out=tmp_path / "run")
    t = run.table
    check_columns(t, {
        **constant(t, "csv", run.path),
        "seq": [1, 2, 3, 4],  # the loop's request_id
        "start_ns": [1770733395_000000000, 1770733396_000000000, 1770733397_000000000, 1770733398_250000000],
        "total_ms": [118.4, 97.0, 5001.2, 902.5],
        "status": [200, 200, 0, 500],
        "error_kind": [None, None, "other", None],
        "error": [None, None, "no response (curl http_code 000)", None],
    })
    assert run.meta.dump()["target"] == {} and run.meta.dump()["import"]["rows"] == 4


# -- detection and bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("name,fmt", [("session.har", "har"), ("k6.json", "k6"), ("vegeta.json", "vegeta"),
                                      ("curl_loop.csv", "csv")])
def test_detect_reads_the_content_not_the_name(tmp_path, name, fmt):
    f = tmp_path / "export.txt"
    shutil.copy(DATA / name, f)
    assert detect(f) == fmt and fmt in FORMATS


@pytest.mark.parametrize("name,fmt,says", [
    ("corrupt.har", "auto", "not valid JSON at line 1 column 170: a corrupt HAR file"),
    ("truncated.har", "har", "the JSON ends early at line 28: a truncated HAR file"),
    ("bad_header.csv", "csv", "not a curl-loop CSV: the first line is 'id,code,ms'"),
    ("bad_row.csv", "auto", "line 3: http_code '2OO' is not an integer"),
    ("missing.har", "auto", "No such file or directory"),
    ("session.har", "yaml", "unknown format 'yaml'"),
])
def test_bad_input_is_one_line_through_the_cli(tmp_path, cli, name, fmt, says):
    r = cli("import", str(DATA / name), "--format", fmt, "--out", str(tmp_path / "run"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracehound: error:") and says in lines[0]
    assert not (tmp_path / "run").exists()  # nothing half-written


@pytest.mark.parametrize("content,says", [
    ("", "the file is empty"),
    ("\n  \n", "the file is empty"),
    ('{"log": {"version": "1.2"}}', "no log.entries"),
    (('{"log": {"entries": [{"request": {"method": "GET", "url": "https://a/"}, "response": {"status": 200}, '
      '"startedDateTime": "2026-02-10T14:23:15"}]}}'),
     "entry 0 of log.entries: '2026-02-10T14:23:15' is not an ISO 8601 time"),
    ('{"log": {"entries": [{"request": {"method": "GET"}, "response": {"status": 0}}]}}',
     "entry 0 of log.entries is not a HAR entry (no 'url')"),
    ('{"type":"Metric","metric":"vus","data":{}}\n', "no requests in it"),
    ('{"attack":"a","seq":0,"code":200,"timestamp":"2026-02-10T14:23:15Z","latency":"fast"}\n',
     "line 1: code, latency"),
    ("request_id,http_code,duration_ms,timestamp\n1,200,5\n", "line 2 has 3 fields, expected 4"),
    ("request_id,http_code,duration_ms,timestamp\n1,200,-5,1770733395\n", "line 2: duration_ms '-5' is out of range"),
])
def test_bad_files(tmp_path, content, says):
    f = tmp_path / "in.data"
    f.write_text(content)
    with pytest.raises(BadImport) as e:
        import_file(f, out=tmp_path / "run")
    assert says in e.value.line() and str(f) in e.value.line()


def test_cli_imports_a_good_file(tmp_path, cli):
    r = cli("import", str(DATA / "vegeta.json"), "--out", str(tmp_path / "run"), "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "run.json").read_text())["import"]["format"] == "vegeta"


def test_cli_prints_the_summary_of_an_import(tmp_path, cli):
    r = cli("import", str(DATA / "vegeta.json"), "--out", str(tmp_path / "run"))
    assert r.returncode == 0 and "Traceback" not in r.stderr
