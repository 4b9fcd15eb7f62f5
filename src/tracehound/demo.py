"""``tracehound demo``: start the built-in intermittently failing service and probe it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from tracehound.demo_service import CHECKOUT_TIMEOUT_S, POOL_SIZE, QUERY_TIME_S
from tracehound.errors import BadShape, TracehoundError
from tracehound.probe import LoadShape, ProbeConfig, Stage, Target, parse_duration, probe
from tracehound.probe.summary import summarize_run

START_TIMEOUT_S = 15.0
LOW_VUS, HIGH_VUS = 2, 24


class DemoServiceFailed(TracehoundError):
    """The built-in demo service did not start, or did not accept connections in time."""

    exit_code = 3


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float = START_TIMEOUT_S) -> None:
    """Return once ``proc`` accepts connections on ``port``; raise if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoServiceFailed(f"the demo service exited at start (exit code {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise DemoServiceFailed(f"the demo service did not accept connections on 127.0.0.1:{port} within {timeout:g}s")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the service and everything in its process group: SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group, if any
    proc.wait()


@contextmanager
def demo_service(log_path: Path, attempts: int = 3) -> Iterator[str]:
    """Run the demo service on a free port of 127.0.0.1; yields its orders URL; always stops it.

    The service watches this process and exits by itself if this process is killed outright.
    """
    for attempt in range(attempts):
        port = free_port()
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tracehound.demo_service", str(port), "--parent", str(os.getpid())],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, not it: we stop it in order
            )
        try:
            try:
                _wait_ready(port, proc)
            except DemoServiceFailed as e:
                # Another process may have taken the port between our check and its bind: retry.
                if proc.poll() is not None and attempt + 1 < attempts:
                    continue
                last = _last_line(log_path)
                raise DemoServiceFailed(f"{e}{': ' + last if last else ''}") from None
            yield f"http://127.0.0.1:{port}/orders"
            return
        finally:
            _stop(proc)


def demo_shape(total: float) -> LoadShape:
    """A quarter of the time at 2 VUs, a quarter ramping to 24, half holding 24."""
    quarter = total / 4
    return LoadShape(
        stages=[
            Stage(quarter, LOW_VUS, ramp=False),
            Stage(quarter, HIGH_VUS),
            Stage(2 * quarter, HIGH_VUS, ramp=False),
        ],
        max_duration=total + 60,
    )


def run_demo(duration: str, out: Console, err: Console) -> None:
    """Probe the demo service from 2 to 24 virtual users and print the probe summary."""
    from tracehound.cli import print_summary

    total = parse_duration(duration)
    if total <= 0:
        raise BadShape("-d must be > 0")
    shape = demo_shape(total)
    shape.validate()
    tmp = Path(tempfile.mkdtemp(prefix="tracehound-demo-"))
    log_path = tmp / "service.log"
    try:
        with _sigterm_as_interrupt(), demo_service(log_path) as url:
            lo, hi = QUERY_TIME_S
            out.print(
                f"[bold]Demo service[/] {url}: an orders API with a pool of {POOL_SIZE} database connections; "
                f"each request holds one for {lo * 1000:.0f}–{hi * 1000:.0f} ms and gets a 503 after waiting "
                f"{CHECKOUT_TIMEOUT_S * 1000:.0f} ms for one. Probing with {LOW_VUS}, then {HIGH_VUS} virtual users."
            )
            config = ProbeConfig(shape, Target(url), timeout=5.0, label="demo")
            if err.is_terminal:
                with err.status(f"probing for {total:g}s…"):
                    run = probe(config)
            else:
                run = probe(config)
        print_summary(run, summarize_run(run))
        timeouts = log_path.read_text(errors="replace").count("checkout timed out")
        if timeouts:
            out.print(
                f"[dim]The service's own log has {timeouts:,} 'checkout timed out' errors: "
                "the same failures, seen from the server.[/]"
            )
        if run.interrupted:
            raise KeyboardInterrupt
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM unwind like Ctrl-C, so that the service is stopped on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _last_line(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""
