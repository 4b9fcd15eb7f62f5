"""Core prober checks against the built-in demo service (a real uvicorn server on 127.0.0.1)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tracehound.analysis.histogram import Histogram
from tracehound.demo import free_port
from tracehound.errors import BadFlow
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, RecordBuffer, Target, probe
from tracehound.probe.summary import summarize_run


def test_closed_model_records_every_request(demo_url, tmp_path):
    run = probe(ProbeConfig(LoadShape(concurrency=24, requests=600), Target(demo_url), out=tmp_path / "r"))
    t = run.table
    assert t.num_rows == 600
    assert sorted(t.column("seq").to_pylist()) == list(range(600))
    status = t.column("status").to_numpy()
    assert set(np.unique(status)) <= {200, 503}
    assert (status == 503).any() and (status == 200).any()  # 24 VUs on a 4-slot pool
    failed_ms = t.column("total_ms").to_numpy()[status == 503]
    assert np.median(failed_ms) == pytest.approx(100, abs=30)  # the checkout-timeout plateau
    assert t.column("conn_id").to_numpy().max() < 24  # keep-alive: one connection per VU
    assert run.meta["complete"] and not run.meta["interrupted"]
    s = summarize_run(run)
    assert s.requests == 600 and s.failed == int((status == 503).sum())
    assert any("pool exhausted" in e["message"] for e in s.errors)


def test_open_model_rate_is_accurate(demo_url, tmp_path):
    ok_url = demo_url  # light load: 100/s on a 4-slot, 20 ms pool never fails
    run = probe(ProbeConfig(LoadShape(rate=100, duration=3, concurrency=50), Target(ok_url), out=tmp_path / "r"))
    t = run.table
    intended = np.sort(t.column("intended_start_ns").to_numpy())
    rate = (len(intended) - 1) / ((intended[-1] - intended[0]) / 1e9)
    assert abs(rate - 100) / 100 < 0.02
    assert abs(t.num_rows - 300) <= 3


def test_connection_refused_is_one_line_and_exit_3(tmp_path, cli):
    r = cli("probe", f"http://127.0.0.1:{free_port()}/", "-n", "5", "--out", str(tmp_path / "r"))
    assert r.returncode == 3
    assert r.stderr.count("\n") == 1 and "refused" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "r" / "requests.parquet").exists()  # the attempts are kept


@pytest.mark.parametrize(
    "args",
    [
        ["probe", "htp://x", "-n", "1"],
        ["probe", "http://127.0.0.1:9/", "-c", "2"],
        ["probe", "http://no-such-host.invalid/", "-n", "1"],
        ["probe", "http://127.0.0.1:9/", "-n", "10", "--max-requests", "5"],
        ["probe", "http://127.0.0.1:9/", "-n", "1", "--out", "/proc/forbidden/run"],
        ["import", "/nonexistent/file.har"],
        ["show", "/nonexistent/run"],
    ],
)
def test_bad_input_is_one_clear_line(args, tmp_path, cli):
    r = cli(*args)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("tracehound: error:"), r.stderr
    assert "Traceback" not in r.stderr


def test_flow_with_unknown_variable_is_rejected(tmp_path, cli):
    f = tmp_path / "flow.yaml"
    f.write_text("steps:\n  - name: read\n    path: /items/{id}\n")
    with pytest.raises(BadFlow, match="unknown variable"):
        Flow.load(f)
    r = cli("probe", "http://127.0.0.1:9", "--flow", str(f), "-n", "1")
    assert r.returncode == 2 and "unknown variable {id}" in r.stderr


def test_interrupt_keeps_records_and_marks_run(demo_url, tmp_path):
    out = tmp_path / "r"
    p = subprocess.Popen([sys.executable, "-m", "tracehound", "probe", demo_url, "-c", "2", "-d", "30s",
                          "--quiet", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.5)
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=60) == 130
    import json

    meta = json.loads((out / "run.json").read_text())
    assert meta["interrupted"] is True and meta["complete"] is False
    import pyarrow.parquet as pq

    assert pq.read_metadata(out / "requests.parquet").num_rows > 10


def test_record_buffer_general_path_round_trips():
    buf = RecordBuffer("r1", headers=("server", "x-request-id"))
    for i in range(5000):  # unique request ids overflow the header dictionary
        buf.add(seq=i, vu=0, step=None, method=b"GET", host=b"h", path=f"/p/{i}".encode(), intended_ns=10,
                start_ns=20, connect_ns=-1, first_byte_ns=30, end_ns=2_000_020, status=200 if i % 2 else 0,
                error_kind=None if i % 2 else "reset", error=None if i % 2 else "connection reset by peer",
                bytes_in=10, bytes_out=5, body_digest=None, body_first=b'{"token": "abc"}',
                headers=(b"nginx", str(i).encode()), conn_id=1, conn_reused=True, conn_idle_ns=5000,
                conn_requests=i, inflight=1)
    t = buf.to_table()
    assert t.num_rows == 5000
    assert t.column("h_x_request_id").to_pylist()[4999] == "4999"
    assert t.column("path").to_pylist()[4500] == "/p/4500"
    assert t.column("error_kind").to_pylist()[:2] == ["reset", None]
    assert "abc" not in t.column("body_sample")[0].as_py()  # redacted
    assert t.column("total_ms")[0].as_py() == pytest.approx(2.00001, rel=1e-4)


def test_histogram_percentiles_within_a_tenth_of_a_percent():
    rng = np.random.default_rng(1)
    v = rng.lognormal(8, 1.2, 200_000).astype(np.int64) + 1
    h = Histogram.of(v)
    for q in (50, 90, 99, 99.9):
        exact = np.percentile(v, q, method="inverted_cdf")
        assert abs(h.percentile(q) - exact) / exact < 0.001
    a, b = Histogram.of(v[:1000]), Histogram.of(v[1000:])
    assert np.array_equal(a.merge(b).counts, h.counts)
    assert np.array_equal(Histogram.from_dict(h.to_dict()).counts, h.counts)


def test_timeouts_are_recorded_at_the_timeout(demo_url, tmp_path):
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=20), Target(demo_url), timeout=0.008, out=tmp_path / "r"))
    rows = run.table.to_pylist()
    assert len(rows) == 20
    # The service needs >= 15 ms: past the 8 ms timeout, each request is a timeout, recorded at the timeout:
    # never before it, mostly within a few ms of it. A busy machine fires some timers late, and a response
    # that arrives first then counts (it is one the client did get), never one faster than the timeout.
    timeouts = sorted(r["total_ms"] for r in rows if r["error_kind"] == "timeout" and r["status"] == 0)
    assert len(timeouts) >= len(rows) // 2 and all(r["total_ms"] >= 8 for r in rows), rows
    assert timeouts[len(timeouts) // 2] < 40 and timeouts[-1] < 1000, timeouts
    by_conn: dict[int, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["start_ns"]):
        by_conn.setdefault(r["conn_id"], []).append(r)
    # a timed-out connection is never reused: its timeout is the last request on it
    assert all(r["error_kind"] != "timeout" for on in by_conn.values() for r in on[:-1])
