"""``tracehound demo``: start the built-in intermittently failing service and probe it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from tracehound.errors import TracehoundError
from tracehound.probe import LoadShape, ProbeConfig, Target, parse_duration, probe
from tracehound.probe.shapes import Stage
from tracehound.probe.summary import summarize_run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TracehoundError(f"the demo service exited at start (code {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TracehoundError(f"the demo service did not accept connections within {timeout:g}s")


def run_demo(duration: str, out: Console, err: Console) -> None:
    """Ramp from 2 to 24 virtual users against the demo service and print the probe summary."""
    total = parse_duration(duration)
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="tracehound-demo-")) / "service.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tracehound.demo_service", str(port)],
            stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_ready(port, proc)
        out.print(f"[bold]Demo service[/] http://127.0.0.1:{port}/orders  (logs: {log})")
        out.print("An orders API with a 4-connection database pool; the probe ramps 2 → 24 virtual users.")
        third = total / 3
        shape = LoadShape(stages=[Stage(third, 2, ramp=False), Stage(third, 24), Stage(third, 24, ramp=False)],
                          max_duration=max(total * 2, 60))
        run = probe(ProbeConfig(shape, Target(f"http://127.0.0.1:{port}/orders"), timeout=5.0))
        from tracehound.cli import print_summary

        print_summary(run, summarize_run(run))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
