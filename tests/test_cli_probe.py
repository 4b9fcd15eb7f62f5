"""Failures of the target and of the input: refused, TLS, bad arguments, Ctrl-C — via the real CLI."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tracehound.demo import free_port
from tracehound.errors import TargetUnreachable
from tracehound.probe import LoadShape, ProbeConfig, Target, probe
from tracehound.probe.run import Run

ROOT = Path(__file__).resolve().parent.parent


def one_error_line(r: subprocess.CompletedProcess) -> str:
    """The single ``tracehound: error:`` line a failed command printed (asserts there is just one)."""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("tracehound: error:"), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    return lines[0]


def test_connection_refused_is_recorded_then_reported(tmp_path):
    port = free_port()  # nothing listens there
    with pytest.raises(TargetUnreachable, match="every connection was refused"):
        probe(ProbeConfig(LoadShape(concurrency=2, requests=10), Target(f"http://127.0.0.1:{port}/ok"),
                          out=tmp_path / "r"))
    run = Run.load(tmp_path / "r")
    rows = run.table.to_pylist()
    assert len(rows) == 10
    assert all(r["error_kind"] == "connect_refused" and r["status"] == 0 and r["conn_id"] is None for r in rows)
    assert sorted(r["seq"] for r in rows) == list(range(10))


def test_connection_refused_via_cli_exits_3(tmp_path, cli):
    r = cli("probe", f"http://127.0.0.1:{free_port()}/ok", "-n", "5", "--out", str(tmp_path / "r"))
    assert r.returncode == 3
    assert "every connection was refused" in one_error_line(r)
    assert pq.read_table(tmp_path / "r" / "requests.parquet").column("error_kind").to_pylist() == [
        "connect_refused"] * 5


@pytest.fixture
def full_backlog():
    """A port whose listener never accepts and whose backlog is full: new SYNs go unanswered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.connect(("127.0.0.1", port))
            fillers.append(c)
        time.sleep(0.1)
        yield port
    finally:
        for c in fillers:
            c.close()
        listener.close()


def test_connect_timeout(full_backlog, tmp_path):
    with pytest.raises(TargetUnreachable, match="every connection attempt timed out"):
        probe(ProbeConfig(LoadShape(concurrency=2, requests=4), Target(f"http://127.0.0.1:{full_backlog}/"),
                          connect_timeout=0.3, out=tmp_path / "r"))
    rows = Run.load(tmp_path / "r").table.to_pylist()
    assert len(rows) == 4
    for r in rows:
        assert r["error_kind"] == "connect_timeout" and r["status"] == 0
        # at the 0.3 s connect timeout, not the request's 10 s one (a busy machine may fire the timer late)
        assert 290 <= r["connect_ms"] < 3000 and r["total_ms"] >= r["connect_ms"]


def test_https_with_the_servers_ca(faulty_tls, tmp_path):
    mark = faulty_tls.mark()
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=20), Target(f"{faulty_tls.base_url}/ok"),
                            ca_file=faulty_tls.ca_file, out=tmp_path / "r"))
    rows = run.table.to_pylist()
    assert len(rows) == 20 and all(r["status"] == 200 and r["error_kind"] is None for r in rows)
    assert len({r["conn_id"] for r in rows}) == 2  # keep-alive over TLS too
    assert len(faulty_tls.events(mark)) == 20


def test_https_without_verification(faulty_tls, tmp_path, tls_files):
    run = probe(ProbeConfig(LoadShape(requests=5), Target(f"{faulty_tls.base_url}/ok"), insecure=True,
                            ca_file=tls_files["wrong_ca"], out=tmp_path / "r"))
    assert run.table.column("status").to_pylist() == [200] * 5


def test_https_with_a_wrong_ca_is_a_tls_failure(faulty_tls, tmp_path, tls_files, cli):
    mark = faulty_tls.mark()
    out = tmp_path / "r"
    r = cli("probe", f"{faulty_tls.base_url}/ok", "-n", "4", "--cacert", tls_files["wrong_ca"], "--out", str(out))
    assert r.returncode == 3
    assert "TLS handshake" in one_error_line(r)
    rows = pq.read_table(out / "requests.parquet").to_pylist()
    assert len(rows) == 4 and all(r["error_kind"] == "tls" and r["status"] == 0 for r in rows)
    assert "CERTIFICATE_VERIFY_FAILED" in rows[0]["error"]
    assert faulty_tls.events(mark) == []  # no request ever reached the application


@pytest.mark.parametrize(
    "args, code, says",
    [
        (["htp://127.0.0.1/ok", "-n", "1"], 2, "scheme must be http or https"),
        (["http://", "-n", "1"], 2, "no host"),
        (["http://no-such-host.invalid/ok", "-n", "1"], 3, "cannot resolve host"),
        (["{url}", "-c", "2"], 2, "no bounds"),
        (["{url}", "-n", "10", "--max-requests", "5"], 2, "exceeds the hard bound"),
        (["{url}", "-n", "1", "--out", "/proc/self/forbidden/run"], 2, "cannot write the run folder"),
        (["{url}", "-d", "1x"], 2, "invalid duration"),
        (["{url}", "-n", "1", "-H", "no colon"], 2, "invalid header"),
        (["{url}", "-c", "1000000000", "-n", "2"], 2, "beyond the most one probe runs (100,000)"),
        (["{url}", "-n", "2", "--timeout", "0"], 2, "--timeout 0s is out of range"),
        (["{url}", "-n", "2", "--connect-timeout", "0"], 2, "--connect-timeout 0s is out of range"),
        (["{url}", "-n", "2", "--workers", "100000"], 2, "--workers 100,000 is beyond"),
    ],
    ids=["bad-scheme", "no-host", "dns", "no-bounds", "over-max-requests", "unwritable-out", "bad-duration",
         "bad-header", "a-billion-users", "zero-timeout", "zero-connect-timeout", "too-many-workers"],
)
def test_bad_input_is_one_line_and_a_nonzero_exit(faulty, tmp_path, cli, args, code, says):
    mark = faulty.mark()
    args = [a.replace("{url}", f"{faulty.base_url}/ok") for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "r")]
    r = cli("probe", *args)
    assert r.returncode == code
    assert says in one_error_line(r)
    assert faulty.events(mark) == []  # rejected before any load
    assert not (tmp_path / "r" / "requests.parquet").exists()


def test_ctrl_c_stops_and_keeps_the_records(faulty, tmp_path):
    out = tmp_path / "r"
    mark = faulty.mark()
    p = subprocess.Popen([sys.executable, "-m", "tracehound", "probe", f"{faulty.base_url}/delay/10", "-c", "4",
                          "-d", "30s", "--quiet", "--out", str(out)],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        faulty.wait_events(mark, 20, timeout=60)  # load is flowing: the signal handlers are in place
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        sent = time.monotonic()
        stdout, stderr = p.communicate(timeout=60)
        stopped_in = time.monotonic() - sent
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, stderr
    assert stopped_in < 5
    assert "Traceback" not in stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["interrupted"] is True and meta["complete"] is False and meta["status"] == "interrupted"
    assert meta["stop_reason"] == "interrupted"
    rows = pq.read_table(out / "requests.parquet").to_pylist()
    assert len(rows) > 20 and meta["counts"]["requests"] == len(rows)
    assert sorted(r["seq"] for r in rows) == list(range(len(rows)))
    done = [r for r in rows if r["error_kind"] is None]
    cancelled = [r for r in rows if r["error_kind"] == "cancelled"]
    assert len(done) + len(cancelled) == len(rows) and len(cancelled) <= 4  # at most one in flight per VU
    assert all(r["status"] == 200 for r in done)
    served = [e for e in faulty.events(mark) if e["event"] == "response"]
    assert len(done) <= len(served) <= len(done) + 4
    assert str(out) in stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_main_process_stops_every_worker(faulty, tmp_path, sig):
    """``kill -INT``/``kill -TERM`` of tracehound's own pid (a supervisor, a CI timeout) reaches no
    worker; the run must still stop at once, leave no process behind, and keep its records."""
    out = tmp_path / "r"
    mark = faulty.mark()
    with open(tmp_path / "stderr", "wb") as stderr:
        p = subprocess.Popen([sys.executable, "-m", "tracehound", "probe", f"{faulty.base_url}/delay/10", "-c", "4",
                              "--workers", "2", "-d", "30s", "--quiet", "--out", str(out)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        faulty.wait_events(mark, 40, timeout=60)  # the workers are sending
        time.sleep(0.5)
        os.kill(p.pid, sig)
        sent = time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=6)
        stopped_in = time.monotonic() - sent
        group_left = _group_alive(p.pid, until=sent + 6)
        quiet = faulty.mark()
        time.sleep(0.3)
        load_after = len(faulty.events(quiet))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)  # whatever the outcome, no load generator outlives the test
        p.wait(timeout=60)
    assert stopped_in < 6, "the main process kept running after the signal"
    assert not group_left, "worker processes outlived the main process"
    assert load_after == 0, "load went on after the run was stopped"
    assert p.returncode == 130
    meta = json.loads((out / "run.json").read_text())
    assert meta["interrupted"] is True and meta["complete"] is False
    assert pq.read_metadata(out / "requests.parquet").num_rows > 0


def _group_alive(pgid: int, until: float) -> bool:
    """True if processes of group ``pgid`` remain at ``until`` (its leader already waited for)."""
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        if time.monotonic() > until:
            return True
        time.sleep(0.05)


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_analyze_and_show_of_records_that_cannot_be_read_are_one_line(tmp_path, cli, damage):
    """Issue 15, row 9: `analyze` of a corrupt or missing Parquet printed an empty line, `requests: 0`, exit 0."""
    import asyncio

    from tracehound.mcp.server import build_server
    from tracehound.probe.importers import import_file

    run = import_file(ROOT / "tests" / "data" / "importers" / "k6.json", "auto", tmp_path / "r").path
    records = run / "requests.parquet"
    if damage == "corrupt":
        records.write_bytes(records.read_bytes()[:100])
    else:
        records.unlink()
    says = "cannot read" if damage == "corrupt" else "has no requests.parquet"
    for args in (["analyze", str(run)], ["analyze", str(run), "--json"], ["show", str(run)]):
        r = cli(*args)
        assert r.returncode == 2 and r.stdout == "", (args, r.stdout)
        assert says in one_error_line(r)

    async def analyze_run() -> str:
        from mcp.server.mcpserver.exceptions import ToolError

        with pytest.raises(ToolError) as e:
            await build_server(runs_dir=tmp_path / "mcp").call_tool("analyze_run", {"runs": [str(run)]})
        return str(e.value)

    assert "requests.parquet" in asyncio.run(analyze_run())
