"""The logs agent: the service's logs read against the runs, observations become ``log:`` signals.

It reads every file in ``case.sources.logs`` with :func:`tracehound.logs.analyze_logs`, limited
to the time around the runs when the runs have times (events without a time are kept: they
cannot be placed, and a log with no timestamps at all must still count). Signatures from the
table give signals whose strength grows with how often they were seen and how closely they sat
around the failing requests; a template over-represented around failures, and failures piling
on one upstream of a gateway, give their own. ``tested`` lists the signals the logs that were
read could have shown: a signature seen in the gateway's log is not expected of an app log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from tracehound.agents.base import AgentResult, Finding, RecordedRun
from tracehound.case import Case
from tracehound.diagnosis.signals import lined_up, register, signal
from tracehound.errors import BadRun
from tracehound.logs import LogReport, analyze_logs, default_table
from tracehound.logs.report import LEVEL_NAMES
from tracehound.logs.timestamps import NS

NAME = "logs"
#: Log kept either side of the runs when the agent limits the window to them.
MARGIN_NS = 120 * NS

#: The ``log:`` signals of the log signature table, and the lined-up twin of each one a signature emits.
_TABLE = default_table()
SIGNALS: dict[str, str] = dict(_TABLE.signals)
for _name in sorted({sig.signal for sig in _TABLE.signatures}):
    SIGNALS[lined_up(_name)] = (f"{SIGNALS[_name]}; and these events line up with the failing requests, by count "
                                "or in time")
for _name, _desc in SIGNALS.items():
    register(_name, _desc, NAME)


async def logs_agent(case: Case | None, runs: Sequence[RecordedRun]) -> AgentResult:
    """Analyse ``case.sources.logs`` against ``runs`` in a worker thread; skipped without logs."""
    paths = list(case.sources.logs) if case is not None else []
    if not paths:
        return AgentResult(NAME, "skipped", "no logs given (--logs FILE)")
    usable = [r for r in runs if _readable(r)]
    since, until = _window(usable)
    try:
        report = await asyncio.to_thread(analyze_logs, paths, since, until, usable)
    except OSError as e:  # a file vanished or became unreadable mid-read
        return AgentResult(NAME, "failed", f"cannot read the logs: {e}")
    return result(report)


def result(report: LogReport) -> AgentResult:
    """An :class:`AgentResult` from a finished :class:`LogReport` (also used by the CLI's tests)."""
    skipped = "; ".join(f"{f.path}: {f.skipped}" for f in report.skipped)
    if not report.read:
        return AgentResult(NAME, "skipped", f"no log could be read ({skipped})" if skipped else "no log events")
    findings = _findings(report)
    detail = (f"{report.events} events from {len(report.read)} file(s), {report.template_count} templates, "
              f"{len(report.signatures)} signature(s) matched")
    if skipped:
        detail += f"; skipped {skipped}"
    if report.notes:
        detail += "; " + "; ".join(report.notes)
    return AgentResult(NAME, "ok", detail, findings, seconds=report.seconds, tested=list(report.tested))


def _findings(report: LogReport) -> list[Finding]:
    out: list[Finding] = []
    for o in sorted(report.observations, key=lambda o: -o.strength):
        if o.strength <= 0:
            continue
        sig = signal(o.name, o.strength, o.detail, o.exemplars, o.value)
        out.append(Finding(_title(o.name), o.detail, o.exemplars, [sig]))
    if report.over_represented:
        lines = [f"×{t.count} lift {t.alignment.lift or 0:.1f}: {t.template}" for t in report.over_represented[:5]]
        out.append(Finding("Log templates over-represented around failing requests", "; ".join(lines[:3]),
                           [e for t in report.over_represented[:3] for e in (t.failure_exemplars or t.exemplars)[:1]]))
    if report.new:
        out.append(Finding("Log templates first seen during the runs",
                           "; ".join(f"×{t.count} {t.template}" for t in report.new[:5]),
                           [t.exemplars[0] for t in report.new[:5] if t.exemplars]))
    if report.rare:
        out.append(Finding("Rare warnings and errors in the logs",
                           "; ".join(f"×{t.count} [{LEVEL_NAMES.get(t.level, '')}] {t.template}"
                                     for t in report.rare[:5]),
                           [t.exemplars[0] for t in report.rare[:5] if t.exemplars]))
    return out


def _title(name: str) -> str:
    return "Logs: " + default_table().signals.get(name, name.removeprefix("log:").replace("_", " "))


def _readable(run: RecordedRun) -> bool:
    try:
        run.table  # noqa: B018 - reading it is the check
    except BadRun:
        return False
    return True


def _window(runs: Sequence[RecordedRun]) -> tuple[int | None, int | None]:
    """The runs' span with a margin, or no bound when the runs hold no times."""
    lo = hi = None
    for run in runs:
        t = run.table
        if t.num_rows == 0 or "start_ns" not in t.column_names:
            continue
        s = t.column("intended_start_ns").to_numpy(zero_copy_only=False).astype(np.int64)
        total_ms = np.nan_to_num(t.column("total_ms").to_numpy(zero_copy_only=False).astype(np.float64))
        e = s + (total_ms * 1e6).astype(np.int64)
        lo = int(s.min()) if lo is None else min(lo, int(s.min()))
        hi = int(e.max()) if hi is None else max(hi, int(e.max()))
    if lo is None or hi is None:
        return None, None
    return lo - MARGIN_NS, hi + MARGIN_NS


__all__ = ["NAME", "SIGNALS", "logs_agent", "result"]
