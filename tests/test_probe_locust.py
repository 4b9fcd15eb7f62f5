"""probe --engine locust: Locust's master and workers as subprocesses, their records merged into one run."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
import pytest

from tracehound.agents.traffic import analyze
from tracehound.demo import free_port
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, Run, probe
from tracehound.probe.summary import summarize_run

# Never import locust here: importing it monkey-patches this whole pytest process with gevent (a
# thread that blocks in a C call then blocks every test after it).
if importlib.util.find_spec("locust") is None:
    pytest.skip("locust is not installed (pip install 'tracehound[locust]')", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
LOGIN = {"name": "login", "method": "POST", "path": "/login", "json": {"user": "vu{vu}", "password": "s3cret"},
         "capture": {"token": "$.access_token"}}


def tracehound(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tracehound", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def locust_processes(pid: int) -> list[psutil.Process]:
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [k for k in kids if "tracehound.locustfile" in " ".join(_cmdline(k))]


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def assert_gone(procs: list[psutil.Process], timeout: float = 5.0) -> None:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    assert not alive, f"orphans: {[(p.pid, _cmdline(p)) for p in alive]}"


def wait_for_workers(pid: int, n: int, timeout: float = 20.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs = locust_processes(pid)
        if sum("worker" in _cmdline(p) for p in procs) >= n:
            return procs
        time.sleep(0.1)
    raise AssertionError("the Locust workers did not start")


def wait_for_records(out: Path, workers: int, requests: int, timeout: float = 60.0) -> None:
    """Until every worker's records reach the master (its shards under ``out/parts``), ``requests`` in all.

    A worker's process exists well before it sends anything on a busy machine (it imports Locust first).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shards = list((out / "parts").glob("worker-*.parquet"))
        rows = 0
        for f in shards:
            with contextlib.suppress(OSError):  # the run may end meanwhile and sweep its parts
                rows += pq.ParquetFile(f).metadata.num_rows
        if len({f.name.split("-")[1] for f in shards}) >= workers and rows >= requests:
            return
        time.sleep(0.1)
    raise AssertionError(f"the Locust workers did not record {requests} requests within {timeout:g}s")


def signal_names(res) -> set[str]:
    return {s.name for s in res.signals}


def test_two_local_workers_merge_into_one_run_analysed_like_a_native_one(demo_url, tmp_path):
    shape = {"concurrency": 24, "requests": 600}
    dist = probe(ProbeConfig(LoadShape(**shape), engine="locust", workers=2, out=tmp_path / "locust",
                             target=_target(demo_url)))
    native = probe(ProbeConfig(LoadShape(**shape), out=tmp_path / "native", target=_target(demo_url)))
    t, n = dist.table, native.table
    assert t.schema == n.schema  # same columns, same types, same order
    assert t.num_rows == 600 and dist.meta.counts.requests == 600 and dist.meta.counts.issued == 600
    workers = Counter(t.column("worker").to_pylist())
    assert set(workers) == {0, 1}
    assert dist.meta.locust is not None
    per_worker = {w.index: w.requests for w in dist.meta.locust.per_worker}
    assert per_worker == dict(workers) and sum(per_worker.values()) == 600
    assert sorted(t.column("seq").to_pylist()) == list(range(600))
    assert len(set(t.column("vu").to_pylist())) == 24  # 24 users, each its own vu across the workers
    assert dist.meta.engine == "locust" and dist.meta.status == "complete" and not dist.meta.partial
    assert dist.meta.stop_reason == "requests"
    ok = t.filter(np.asarray(t.column("status").to_numpy()) == 200)
    assert ok.num_rows and ok.column("body_hash").null_count == 0 and ok.column("h_content_type").null_count == 0
    assert (0 < dist.meta.counts.connections <= 48
            and np.mean(t.column("conn_reused").to_numpy(zero_copy_only=False)) > 0.8)
    # The analysis reads both the same way: the pool's 503s are found in each.
    a, b = analyze([dist]), analyze([native])
    assert a.requests == 600 and b.requests == 600
    assert "status_503" in signal_names(a) and "status_503" in signal_names(b)
    assert {f.title for f in b.findings} <= {f.title for f in a.findings} | {"Load dependence", "Latency"}
    assert set(summarize_run(dist).to_dict()) == set(summarize_run(native).to_dict())


def test_a_flow_runs_its_setup_once_per_user_across_workers(faulty, tmp_path):
    flow = Flow.from_dict({"setup": [LOGIN],
                           "steps": [{"name": "me", "path": "/me", "headers": {"Authorization": "Bearer {token}"}}]})
    assert Flow.from_dict(flow.to_dict()).to_dict() == flow.to_dict()
    run = probe(ProbeConfig(LoadShape(concurrency=4, requests=40), flow=flow, base_url=faulty.base_url,
                            engine="locust", workers=2, out=tmp_path / "r"))
    rows = run.table.to_pylist()
    assert len(rows) == 40
    assert all(r["status"] == 200 and r["error_kind"] is None for r in rows)
    assert Counter(r["step"] for r in rows) == {"login": 4, "me": 36}
    assert "s3cret" not in json.dumps(run.meta.dump())


def test_expectations_judge_answers_on_locust_too(faulty, tmp_path):
    from tracehound.expect import Expectation

    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=20), engine="locust", workers=1, out=tmp_path / "t",
                            target=_target(faulty.base_url + "/ok"), expect=Expectation.parse(["$.service=other"])))
    rows = run.table.to_pylist()
    assert len(rows) == 20 and {(r["status"], r["error_kind"]) for r in rows} == {(200, "wrong_body")}
    assert rows[0]["error"] == "$.service is 'faulty', expected 'other'"
    flow = Flow.from_dict({"setup": [LOGIN], "steps": [
        {"name": "me", "path": "/me", "headers": {"Authorization": "Bearer {token}"}, "expect": "keys=nothing"}]})
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=12), flow=flow, base_url=faulty.base_url,
                            engine="locust", workers=1, out=tmp_path / "f"))
    assert Counter((r["step"], r["error_kind"]) for r in run.table.to_pylist()) == {("login", None): 2,
                                                                                    ("me", "wrong_body"): 10}


def test_duration_and_rate_bounds_stop_it_by_itself(faulty, tmp_path):
    t0 = time.monotonic()
    run = probe(ProbeConfig(LoadShape(rate=100, duration=2.0, concurrency=10), engine="locust", workers=2,
                            out=tmp_path / "r", target=_target(faulty.base_url + "/ok")))
    assert time.monotonic() - t0 < 60  # it stops by itself: a 2 s run, not the hard deadline
    assert run.meta.stop_reason == "duration" and run.meta.status == "complete"
    assert 150 <= run.table.num_rows <= 201  # 100/s for 2 s, split over two workers' schedules
    lag = (run.table.column("start_ns").to_numpy() - run.table.column("intended_start_ns").to_numpy()) / 1e6
    assert np.median(lag) < 50  # an open model: requests leave at their intended times


def test_ctrl_c_stops_master_and_workers_and_keeps_the_records(faulty, tmp_path):
    p = tracehound("probe", faulty.base_url + "/delay/5", "-c", "4", "-d", "30s", "--engine", "locust",
                   "--workers", "2", "-q", "--out", str(tmp_path / "r"))
    procs = wait_for_workers(p.pid, 2)
    wait_for_records(tmp_path / "r", 2, 21)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert_gone(procs)
    run = Run.load(tmp_path / "r")
    assert run.meta.status == "interrupted" and run.meta.stop_reason == "interrupted"
    assert run.table.num_rows == run.meta.counts.requests > 20
    assert set(run.table.column("worker").to_pylist()) == {0, 1}


def test_a_worker_killed_mid_run_makes_the_run_partial(faulty, tmp_path):
    p = tracehound("probe", faulty.base_url + "/delay/5", "-c", "4", "-d", "6s", "--engine", "locust",
                   "--workers", "2", "-q", "--out", str(tmp_path / "r"))
    procs = wait_for_workers(p.pid, 2)
    wait_for_records(tmp_path / "r", 2, 1)
    victim = next(w for w in procs if "worker" in _cmdline(w))
    victim.send_signal(signal.SIGKILL)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert "partial run" in err and "killed by SIGKILL" in err and "Traceback" not in err
    assert_gone(procs)
    run = Run.load(tmp_path / "r")
    assert run.meta.partial is True and run.meta.status == "partial" and not run.meta.complete
    assert "killed by SIGKILL" in run.meta.partial_reason
    assert run.meta.locust is not None
    lost = [w for w in run.meta.locust.per_worker if w.lost]
    assert len(lost) == 1 and lost[0].pid == victim.pid
    rows = Counter(run.table.column("worker").to_pylist())
    assert rows[lost[0].index] > 0  # what it flushed before it died is kept
    assert rows[1 - lost[0].index] > rows[lost[0].index]  # the other worker ran to the end


def test_remote_workers_join_with_the_printed_command(faulty, tmp_path):
    port = free_port()
    p = tracehound("probe", faulty.base_url + "/ok", "-c", "2", "-n", "100", "--engine", "locust", "--workers", "0",
                   "--remote-workers", "1", "--master-bind", f"127.0.0.1:{port}", "--wait-workers", "20s", "-q",
                   "--out", str(tmp_path / "r"))
    assert p.stderr is not None
    line = ""
    while "locust-worker" not in line:
        line = p.stderr.readline()
        assert line, "no worker command was printed"
    command = line.split()
    assert command[:4] == ["tracehound", "locust-worker", "--master", f"127.0.0.1:{port}"]
    w = subprocess.run([sys.executable, "-m", "tracehound", *command[1:]], cwd=ROOT, capture_output=True, timeout=120,
                       check=False)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0 and w.returncode == 0, err
    run = Run.load(out.strip())
    assert run.table.num_rows == 100 and run.meta.locust.remote_workers == 1


@pytest.mark.parametrize("args,expect", [
    (["http://no-such-host.invalid/x"], "cannot resolve host"),
    (["http://127.0.0.1:1/x"], "every connection was refused"),
    (["http://127.0.0.1:1/x", "--remote-workers", "2"], "need --master-bind"),
    (["http://127.0.0.1:1/x", "--master-bind", "nowhere"], "expected HOST:PORT"),
    (["http://127.0.0.1:1/x", "--workers", "0", "--remote-workers", "1", "--master-bind", f"127.0.0.1:{free_port()}",
      "--wait-workers", "1s"], "only 0 of 1 Locust worker(s) connected"),
    (["http://127.0.0.1:1/x", "LOCUST_MISSING"], "needs Locust"),
])
def test_bad_input_is_one_line(args, expect, tmp_path):
    env = None
    if "LOCUST_MISSING" in args:
        args = [a for a in args if a != "LOCUST_MISSING"]
        shadow = tmp_path / "shadow" / "locust"
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'locust'\")\n")
        env = {"PYTHONPATH": str(tmp_path / "shadow")}
    p = tracehound("probe", *args, "-c", "2", "-n", "20", "--engine", "locust", "--out", str(tmp_path / "r"), env=env)
    _, err = p.communicate(timeout=60)
    assert p.returncode not in (0, None)
    lines = err.strip().splitlines()
    if "--wait-workers" in args:  # first the command the remote machines would need, then the error
        assert "tracehound locust-worker --master" in err
        lines = lines[2:]
    assert len(lines) == 1 and lines[0].startswith("tracehound: error:") and expect in lines[0], err


def test_locust_worker_rejects_a_bad_master_address():
    p = subprocess.run([sys.executable, "-m", "tracehound", "locust-worker", "--master", "nowhere"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == 2 and p.stderr.strip().startswith("tracehound: error:") and "Traceback" not in p.stderr


def _target(url: str):
    from tracehound.probe import Target

    return Target(url)


def test_locust_never_enters_the_process_that_runs_asyncio() -> None:
    """Importing locust monkey-patches the standard library with gevent: not in this process, nor in
    tracehound's own (the engine runs master and workers as subprocesses)."""
    assert "locust" not in sys.modules and "gevent.monkey" not in sys.modules
