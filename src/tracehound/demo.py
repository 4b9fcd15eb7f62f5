"""``tracehound demo``: start the lab's embedded demo scenario and probe it from a few to many users.

Also the throwaway-server helpers the test suite starts its own servers with (:func:`free_port`,
:func:`wait_ready`).
"""

from __future__ import annotations

import dataclasses
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from tracehound.errors import BadShape, ServerFailed
from tracehound.lab.servers import free_port
from tracehound.probe import LoadShape, Stage, parse_duration, probe
from tracehound.probe.summary import summarize_run
from tracehound.run_view import print_summary

if TYPE_CHECKING:
    from tracehound.orchestrator import Investigation

#: The lab scenario the demo starts: SQLite only, so it needs no server beyond Python.
DEMO_SCENARIO = "demo"
LOW_VUS = 2


def demo_shape(total: float, high: int) -> LoadShape:
    """A quarter of the time at 2 VUs, a quarter ramping to ``high``, half holding ``high``."""
    quarter = total / 4
    return LoadShape(
        stages=[
            Stage(quarter, LOW_VUS, ramp=False),
            Stage(quarter, high),
            Stage(2 * quarter, high, ramp=False),
        ],
        max_duration=total + 60,
    )


def run_demo(duration: str, out: Console, err: Console) -> None:
    """Start the demo scenario, probe it from 2 to its declared number of users, print the summary."""
    from tracehound import lab
    from tracehound.lab import servers

    total = parse_duration(duration)
    if total <= 0:
        raise BadShape("-d must be > 0")
    sc = lab.get_scenario(DEMO_SCENARIO)
    high = max(sc.shape.concurrency, LOW_VUS)
    shape = demo_shape(total, high)
    shape.validate()
    with _sigterm_as_interrupt():
        if err.is_terminal:
            err.print(f"starting the lab's {sc.name} scenario…", style="dim", markup=False)
        with lab.up(sc) as inst:
            config = dataclasses.replace(sc.probe_config(inst.url, label=sc.name), shape=shape)
            assert config.target is not None, "the demo scenario has one target, not a flow"
            out.print(f"[bold]Demo service[/] {config.target.url}", highlight=False)
            out.print(f"[dim]Reported as:[/] {sc.symptom}", markup=True, highlight=False)
            out.print(f"Probing with {LOW_VUS}, then {high} virtual users for {total:g}s.")
            try:
                if err.is_terminal:
                    with err.status(f"probing for {total:g}s…"):
                        run = probe(config)
                else:
                    run = probe(config)
            finally:
                servers.guard()  # the probe's event loop resets SIGTERM to its default
            tracebacks = inst.app_log.read_text(errors="replace").count("Traceback (most recent call last)")
        print_summary(run, summarize_run(run), out)
        if tracebacks:
            out.print(
                f"[dim]The service's own log has {tracebacks:,} tracebacks: the same failures, seen from the "
                f"server. `tracehound lab up {sc.name}` keeps it running; `make demo` investigates it.[/]"
            )
        if run.interrupted:
            raise KeyboardInterrupt


def investigate_demo(out: Path | None, on_event: Callable[[str], None]) -> Investigation:
    """Start the demo scenario and investigate it within 90 s (what ``make demo`` runs)."""
    from tracehound import lab
    from tracehound.case import Case
    from tracehound.lab import servers
    from tracehound.orchestrator import investigate

    sc = lab.get_scenario(DEMO_SCENARIO)
    on_event(f"starting the lab's demo scenario: {sc.symptom}")
    with lab.up(sc) as inst:
        case = Case(target=sc.probe_config(inst.url).target, symptom=sc.symptom, budget_s=90)
        try:
            return investigate(case, out, on_event=on_event)
        finally:
            servers.guard()


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


# -- for the test suite, which starts throwaway servers of its own with these ---------------------

def wait_ready(port: int, proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """Return once ``proc`` accepts connections on ``port``; :class:`ServerFailed` if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(f"the server exited at start (exit code {proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise ServerFailed(f"nothing accepted connections on 127.0.0.1:{port} within {timeout:g}s")


__all__ = ["DEMO_SCENARIO", "demo_shape", "free_port", "investigate_demo", "run_demo", "wait_ready"]
