"""Importers: real hey output, and HAR / k6 / vegeta / curl-CSV files in their documented formats."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from tracehound.errors import BadImport
from tracehound.probe.importers import detect, import_file


@pytest.mark.skipif(shutil.which("hey") is None, reason="hey (Debian package hey) is not installed")
def test_real_hey_csv(demo_url, tmp_path):
    f = tmp_path / "hey.csv"
    f.write_text(subprocess.run(["hey", "-n", "200", "-c", "24", "-o", "csv", demo_url],
                                capture_output=True, text=True, check=True, timeout=60).stdout)
    rows = list(csv.DictReader(f.open()))
    run = import_file(f, out=tmp_path / "run")
    t = run.table
    assert detect(f) == "hey" and t.num_rows == len(rows) > 0
    assert t.column("status").to_pylist() == [int(r["status-code"]) for r in rows]
    assert t.column("total_ms").to_pylist() == pytest.approx([float(r["response-time"]) * 1000 for r in rows], abs=1e-3)
    assert t.column("path").null_count == t.num_rows  # hey's CSV has no URL: never invented
    assert run.meta["import"]["time_base"] == "relative"


HAR = {
    "log": {
        "version": "1.2",
        "entries": [
            {"startedDateTime": "2026-02-10T14:23:15.100Z", "time": 31012.5,
             "request": {"method": "GET", "url": "https://app.example.com/api/users/profile?token=abc", "headers": [], "bodySize": 0},
             "response": {"status": 504, "headers": [{"name": "Server", "value": "nginx"},
                                                      {"name": "Content-Type", "value": "text/html"}],
                          "content": {"size": 13, "text": "<h1>504</h1>"}, "headersSize": 120, "bodySize": 13},
             "timings": {"blocked": 1, "dns": -1, "connect": -1, "send": 0.5, "wait": 31000, "receive": 11},
             "connection": "1234"},
            {"startedDateTime": "2026-02-10T14:23:16.000+00:00", "time": 3.0,
             "request": {"method": "GET", "url": "https://app.example.com/api/users/profile", "headers": []},
             "response": {"status": 0, "headers": [], "content": {}, "_error": "net::ERR_CONNECTION_REFUSED"},
             "timings": {"blocked": 3, "dns": -1, "connect": -1, "send": 0, "wait": -1, "receive": -1}},
        ],
    }
}


def test_har(tmp_path):
    f = tmp_path / "session.har"
    f.write_text(json.dumps(HAR))
    t = import_file(f, out=tmp_path / "run").table
    r = t.to_pylist()
    assert [x["status"] for x in r] == [504, 0]
    assert r[0]["ttfb_ms"] == pytest.approx(31001.5) and r[0]["connect_ms"] is None
    assert r[0]["path"].startswith("/api/users/profile?token=") and "abc" not in r[0]["path"]
    assert r[0]["h_server"] == "nginx" and r[0]["conn_id"] == 1234 and r[0]["body_sample"] == "<h1>504</h1>"
    assert r[1]["error_kind"] == "connect_refused" and r[1]["ttfb_ms"] is None and r[1]["body_hash"] is None
    assert r[0]["vu"] is None and r[0]["worker"] is None  # not in the format


def test_k6_points_become_one_row_per_request(tmp_path):
    def pt(metric, value, status="200", err=None):
        tags = {"url": "http://127.0.0.1:8000/login", "method": "POST", "status": status, "vu": "3", "iter": "0",
                "name": "http://127.0.0.1:8000/login"}
        if err:
            tags.update(error=err, error_code="1050")
        return json.dumps({"type": "Point", "metric": metric,
                           "data": {"time": "2026-02-10T14:23:15.5+00:00" if status == "200" else "2026-02-10T14:23:16+00:00",
                                    "value": value, "tags": tags}})
    lines = [json.dumps({"type": "Metric", "data": {"name": "http_reqs"}, "metric": "http_reqs"})]
    lines += [pt("http_reqs", 1), pt("http_req_duration", 120.5), pt("http_req_waiting", 118), pt("http_req_failed", 0)]
    lines += [pt("http_reqs", 1, "0", "request timeout"), pt("http_req_duration", 60000, "0", "request timeout")]
    f = tmp_path / "k6.json"
    f.write_text("\n".join(lines) + "\n" + pt("http_reqs", 1)[:30])  # truncated last line
    run = import_file(f, out=tmp_path / "run")
    rows = run.table.to_pylist()
    assert detect(f) == "k6" and len(rows) == 2 and run.meta["import"]["skipped"] == 1
    assert rows[0]["total_ms"] == pytest.approx(120.5) and rows[0]["vu"] == 3 and rows[0]["status"] == 200
    assert rows[1]["status"] == 0 and "request timeout" in rows[1]["error"]


def test_vegeta(tmp_path):
    ok = {"attack": "a", "seq": 0, "code": 200, "timestamp": "2026-02-10T14:23:15.000000001Z", "latency": 2500000,
          "bytes_out": 0, "bytes_in": 2, "error": "", "body": "e30=", "method": "GET", "url": "http://127.0.0.1:8000/f",
          "headers": {"Content-Type": ["application/json"]}}
    bad = {**ok, "seq": 1, "code": 0, "latency": 30000000000, "error": "Get \"http://127.0.0.1:8000/f\": context deadline exceeded",
           "body": ""}
    f = tmp_path / "v.json"
    f.write_text(json.dumps(ok) + "\n" + json.dumps(bad) + "\n")
    rows = import_file(f, out=tmp_path / "run").table.to_pylist()
    assert detect(f) == "vegeta"
    assert rows[0]["body_sample"] == "{}" and rows[0]["total_ms"] == pytest.approx(2.5)
    assert rows[1]["error_kind"] == "timeout" and rows[1]["status"] == 0


def test_curl_loop_csv(tmp_path):
    f = tmp_path / "errors.csv"
    f.write_text("request_id,http_code,duration_ms,timestamp\n1,200,120,1770733395\n2,000,5,1770733396\n3,500,900,1770733397\n")
    rows = import_file(f, out=tmp_path / "run").table.to_pylist()
    assert [r["status"] for r in rows] == [200, 0, 500]
    assert rows[1]["error_kind"] == "other" and rows[2]["error_kind"] is None


@pytest.mark.parametrize("name,content,fmt", [
    ("corrupt.har", '{"log": {"entries": [', "auto"),
    ("nolog.har", '{"log": {}}', "har"),
    ("bad.csv", "id,code\n1,200\n", "csv"),
    ("badrow.csv", "request_id,http_code,duration_ms,timestamp\n1,abc,1,2\n", "auto"),
    ("empty.json", "", "auto"),
    ("x.har", "{}", "yaml"),
])
def test_bad_files_are_one_line(tmp_path, name, content, fmt):
    f = tmp_path / name
    f.write_text(content)
    with pytest.raises(BadImport):
        import_file(f, fmt, tmp_path / "run")
    r = subprocess.run([sys.executable, "-m", "tracehound", "import", str(f), "--format", fmt, "--out", str(tmp_path / "r2")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracehound: error:") and "Traceback" not in r.stderr
