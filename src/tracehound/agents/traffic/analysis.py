"""The traffic analysis: every recorded request of every run, analysed; observations become signals.

It reads the runs the experiments left (or a plain probe's run), concatenates the target's
records, keeps the canary's apart, and runs the analyses of :mod:`tracehound.analysis` over them,
one section at a time (what the failures are, latency, Server-Timing, load, time, connections,
what the failures share, which values of the data they follow, content, pauses, the canary). Each
observation the statistics support
becomes a registered signal with a strength in [0, 1], a detail with the figures and exemplar
requests; everything the data could have shown is listed in ``tested``, so that the diagnoser can
count an expected signal that did not show as evidence against. It never keys on a path, a port,
a message or a scenario: only on how requests failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from tracehound.agents.base import Analysis, Finding, RecordedRun, is_canary
from tracehound.agents.traffic.canary import canaries
from tracehound.agents.traffic.connections import connections
from tracehound.agents.traffic.content import content
from tracehound.agents.traffic.context import Context, Section
from tracehound.agents.traffic.contrast import what_failures_share
from tracehound.agents.traffic.delay import delay
from tracehound.agents.traffic.knee import failure_knee
from tracehound.agents.traffic.latency import latency, latency_of_failures
from tracehound.agents.traffic.load import load_dependence
from tracehound.agents.traffic.outcome import outcome
from tracehound.agents.traffic.parameters import failures_follow_data
from tracehound.agents.traffic.server_timing import server_timing_phases
from tracehound.agents.traffic.time_structure import time_structure
from tracehound.agents.traffic.variants import bursts, client_timeout, fresh_connections
from tracehound.analysis.frame import Frame, RunInfo, concat
from tracehound.errors import BadRun

#: The sections, in the order their findings are reported; those of the second kind need failures.
SECTIONS: tuple[tuple[Callable[[Context], Section], bool], ...] = (
    (outcome, False),
    (latency_of_failures, True),
    (latency, False),
    (server_timing_phases, False),
    (load_dependence, False),
    (failure_knee, True),
    (time_structure, True),
    (connections, True),
    (what_failures_share, True),
    (failures_follow_data, True),
    (content, False),
    (delay, False),
    (fresh_connections, True),
    (client_timeout, True),
    (bursts, True),
    (canaries, False),
)


@dataclass
class TrafficAnalysis(Analysis):
    """What :func:`analyze` found: findings for a person, and the signal names the data could show."""

    requests: int = 0
    failures: int = 0


def analyze_runs(runs: Sequence[RecordedRun]) -> list[Finding]:
    """The findings of :func:`analyze` alone."""
    return analyze(runs).findings


def analyze(runs: Sequence[RecordedRun]) -> TrafficAnalysis:
    """Analyse the records of ``runs`` (a run's ``meta``, its ``table`` and its ``path``)."""
    target_tables: list[pa.Table] = []
    target_infos: list[RunInfo] = []
    canary_tables: list[pa.Table] = []
    canary_infos: list[RunInfo] = []
    unreadable: list[str] = []
    for run in runs:
        label = run.path.name or run.meta.run_id or ""
        try:
            table = run.table
        except BadRun:
            unreadable.append(label)
            continue
        if table.num_rows == 0:
            continue
        if is_canary(run):
            canary_infos.append(RunInfo.of(len(canary_infos), label, run.meta))
            canary_tables.append(table)
        else:
            target_infos.append(RunInfo.of(len(target_infos), label, run.meta))
            target_tables.append(table)
    out = TrafficAnalysis()
    if not target_tables:
        return out
    frame = Frame(concat(target_tables), target_infos)
    canary = Frame(concat(canary_tables), canary_infos) if canary_tables else None
    ctx = Context(frame, canary)
    d = ctx.dist
    out.requests = frame.n
    out.failures = d.failed
    for section, needs_failures in SECTIONS:
        if needs_failures and not d.primary:
            continue
        part = section(ctx)
        out.findings += part.findings
        out.tested += part.tested
    out.detail = (f"{frame.n} requests in {len(frame.runs)} run(s), {d.failed} failed ({d.failure_rate:.1%}); "
                  f"{len(out.signals)} signal(s) from {len(out.findings)} finding(s)")
    if unreadable:
        out.detail += f"; unreadable runs left out: {', '.join(unreadable)}"
    return out


__all__ = ["SECTIONS", "TrafficAnalysis", "analyze", "analyze_runs"]
