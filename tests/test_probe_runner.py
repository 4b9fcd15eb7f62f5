"""Core prober checks against the built-in demo service (a real uvicorn server on 127.0.0.1)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tracehound.analysis.histogram import Histogram
from tracehound.analysis.synthetic import table
from tracehound.case import Case
from tracehound.demo import free_port
from tracehound.errors import BadFlow, BadShape
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, RecordBuffer, Target, probe
from tracehound.probe.meta import RunMeta
from tracehound.probe.shapes import MAX_CONCURRENCY
from tracehound.probe.summary import summarize, summarize_run


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
    assert run.meta.complete and not run.meta.interrupted
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
    # Ctrl-C once the probe is under way (a busy machine may take seconds just to start Python).
    deadline = time.monotonic() + 60
    while not (out / "run.json").exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
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


# -- issue 15: bounds and signals ---------------------------------------------------------------


def test_a_billion_users_is_refused_and_more_users_than_requests_builds_only_what_it_sends(demo_url, tmp_path):
    """Row 1: `-c 1000000000 -n 2` built every user before the loop started (hours, deaf to signals)."""
    with pytest.raises(BadShape, match=r"1,000,000,000 concurrent users .* beyond the most one probe runs"):
        probe(ProbeConfig(LoadShape(concurrency=10**9, requests=2), Target(demo_url), out=tmp_path / "a"))
    assert not (tmp_path / "a").exists()
    run = probe(ProbeConfig(LoadShape(concurrency=MAX_CONCURRENCY, requests=3), Target(demo_url), out=tmp_path / "r"))
    assert run.table.num_rows == 3 and (run.meta.counts.connections or 0) <= 3  # three users, not 100,000


@pytest.mark.parametrize("field", ["timeout", "connect_timeout"])
def test_a_zero_timeout_is_refused(demo_url, tmp_path, field):
    """Row 5: `--timeout 0` recorded every 200 as a timeout and "reproduced" a healthy service."""
    with pytest.raises(BadShape, match=r"--(connect-)?timeout 0s is out of range"):
        probe(ProbeConfig(LoadShape(requests=2), Target(demo_url), out=tmp_path / "r", **{field: 0.0}))
    with pytest.raises(BadShape, match="--timeout"):
        Case(target=Target(demo_url), timeout_s=0.0)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("when", ["before the engine", "while the records are written"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_anywhere_in_a_run_leaves_it_written_and_marked_interrupted(demo_url, tmp_path, monkeypatch,
                                                                              when, sig):
    """Row 10: Ctrl-C in the first moments of a probe left run.json "running" and no Parquet."""
    import os

    from tracehound.probe import runner

    if when == "before the engine":
        monkeypatch.setattr(runner, "raise_nofile_limit", lambda wanted: os.kill(os.getpid(), sig))
    else:
        write = runner.write_batches

        def write_interrupted(*args, **kw):
            os.kill(os.getpid(), sig)
            return write(*args, **kw)

        monkeypatch.setattr(runner, "write_batches", write_interrupted)
    before = signal.getsignal(sig)
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=20), Target(demo_url), out=tmp_path / "r"))
    assert signal.getsignal(sig) == before  # the caller's handler is given back
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["interrupted"] is True and meta["stop_reason"] == "interrupted"
    assert run.interrupted and (tmp_path / "r" / "requests.parquet").is_file()
    assert run.table.num_rows == (0 if when == "before the engine" else 20)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_before_the_run_folder_stops_the_probe_as_ctrl_c_does(demo_url, tmp_path, monkeypatch, sig):
    """From a probe's first instruction: SIGTERM, as SIGINT, stops it (nothing collected yet, no folder)."""
    import os
    import socket

    from tracehound.probe import runner

    resolve = socket.getaddrinfo

    def slow_dns(*args, **kw):
        os.kill(os.getpid(), sig)
        return resolve(*args, **kw)

    monkeypatch.setattr(runner.socket, "getaddrinfo", slow_dns)
    with pytest.raises(KeyboardInterrupt):
        probe(ProbeConfig(LoadShape(concurrency=2, requests=20), Target(demo_url), out=tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_ctrl_c_as_soon_as_the_run_folder_exists_is_marked_and_said(demo_url, tmp_path):
    """Row 10 through the CLI: the signal lands as soon as run.json appears, before any request."""
    out = tmp_path / "r"
    p = subprocess.Popen([sys.executable, "-m", "tracehound", "probe", demo_url, "-c", "2", "-d", "30s",
                          "--quiet", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "run.json").exists() and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        p.send_signal(signal.SIGINT)
        _, stderr = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130 and stderr.strip().splitlines()[-1] == "tracehound: interrupted", stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "interrupted" and (out / "requests.parquet").is_file()


def test_no_response_in_is_no_rate_not_a_negative_one():
    """Row 13: Ctrl-C with every request in flight printed "-24,185.6 req/s achieved"."""
    cancelled = table(4, error_kind="cancelled", status=0, start_s=[0.0, 0.001, 0.002, 0.003])
    s = summarize(cancelled, RunMeta(duration_s=0.5))
    assert s.cancelled == 4 and s.achieved_rps == 0.0
    one = table(3, error_kind=[None, "cancelled", "cancelled"], start_s=[0.0, 0.001, 0.002])
    assert summarize(one, RunMeta(duration_s=0.5)).achieved_rps == pytest.approx(2.0)
