"""``tracehound demo``: the lab's demo scenario fails under load, and nothing outlives the demo."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq


def demo_services(parent: int) -> list[int]:
    """Pids of live demo services started by the demo process ``parent`` (zombies excluded).

    The lab serves each scenario's code from a temp folder named after the process that started it.
    """
    marker = f"tracehound-{parent}-lab-demo-code"
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            argv = Path(f"/proc/{d}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if any(marker in a for a in args) and state != "Z":
            found.append(int(d))
    return found


def wait_until(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def start_demo(cwd: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tracehound", "demo", *args],
        cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(p: subprocess.Popen, timeout: float) -> tuple[str, str]:
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise


def only_run(cwd: Path) -> Path:
    runs = list((cwd / ".tracehound" / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def test_demo_shows_load_dependent_500s_and_stops_its_service(tmp_path):
    p = start_demo(tmp_path, "-d", "4s")
    stdout, stderr = finish(p, timeout=90)
    assert p.returncode == 0, stderr
    m = re.search(r"^Requests ([\d,]+)\s+ok ([\d,]+)\s+failed ([\d,]+)", stdout, re.MULTILINE)
    assert m, stdout
    total, ok, failed = (int(g.replace(",", "")) for g in m.groups())
    assert ok > 0 and failed > 0 and total >= ok + failed
    assert re.search(r"^Status 200: [\d,]+ .*500: [\d,]+", stdout, re.MULTILINE), stdout
    assert "HTTP 500: Internal Server Error" in stdout
    assert re.search(r"The service's own log has [\d,]+ tracebacks", stdout), stdout

    status = pq.read_table(only_run(tmp_path) / "requests.parquet", columns=["status"]).column("status").to_numpy()
    assert (status == 200).any() and (status == 500).any()
    assert set(status.tolist()) <= {200, 500}
    assert not demo_services(p.pid), "the demo left its service running"


def test_ctrl_c_keeps_the_run_and_stops_the_service(tmp_path):
    p = start_demo(tmp_path, "-d", "30s")
    try:
        assert wait_until(lambda: demo_services(p.pid), timeout=90), "the demo service never started"
        # The probe writes run.json as it starts, once the service answers: from then on requests flow.
        runs = tmp_path / ".tracehound" / "runs"
        assert wait_until(lambda: any(runs.glob("*/run.json")), timeout=60), "the probe never started"
        time.sleep(1.0)  # a second of requests to keep
        p.send_signal(signal.SIGINT)
        stdout, stderr = finish(p, timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, stderr
    assert "INTERRUPTED" in stdout and "Traceback" not in stderr
    assert pq.read_metadata(only_run(tmp_path) / "requests.parquet").num_rows > 0
    assert not demo_services(p.pid), "the demo left its service running"


def test_service_exits_by_itself_when_the_demo_is_killed(tmp_path):
    p = start_demo(tmp_path, "-d", "30s")
    try:
        assert wait_until(lambda: demo_services(p.pid), timeout=90), "the demo service never started"
        p.kill()  # SIGKILL: no cleanup code in the demo runs
        p.wait(timeout=60)
        assert wait_until(lambda: not demo_services(p.pid), timeout=30), "the orphaned demo service kept running"
    finally:
        p.kill()
        p.communicate()
        for pid in demo_services(p.pid):
            os.kill(pid, signal.SIGKILL)


def test_bad_input_gets_one_line_and_no_service(tmp_path):
    for args in (["-d", "0"], ["-d", "soon"], ["--colour"]):
        p = start_demo(tmp_path, *args)
        stdout, stderr = finish(p, timeout=120)
        assert p.returncode == 2, (args, stderr)
        assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("tracehound: error:"), (args, stderr)
        assert "Traceback" not in stderr + stdout
    assert not (tmp_path / ".tracehound").exists()
