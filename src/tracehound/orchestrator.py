"""The investigation: experiments, then agents concurrently, then the diagnosis, under one budget.

The plan adapts to what each experiment shows and stops early once the leading hypothesis is
clear. Every experiment's purpose and outcome is kept; every agent shows up, ran or skipped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound import __version__
from tracehound.agents.base import AgentResult
from tracehound.agents.registry import AGENTS, source_flags
from tracehound.agents.run import mark_samplers, run_agents, start_samplers, stop_samplers
from tracehound.case import Case
from tracehound.diagnosis.rank import rank
from tracehound.diagnosis.scoring import Entry, Hypothesis
from tracehound.diagnosis.split import CannotTell, cannot_tell
from tracehound.diagnosis.symptom import SymptomMatch, match_symptom
from tracehound.experiments import Experiment, Runner
from tracehound.limits import reproduced
from tracehound.plan.loop import Plan
from tracehound.probe import summarize
from tracehound.probe.run import iso, prepare_run_dir, utc_now
from tracehound.redact import redact_text
from tracehound.report.model import (
    REPORT_FILE,
    REPORT_SCHEMA,
    AgentDoc,
    CannotTellDoc,
    ExperimentDoc,
    HypothesisDoc,
    Report,
    ReportCase,
    SymptomMatchDoc,
    ToolDoc,
    WrongBodiesDoc,
)
from tracehound.wrong_body import WrongBodies, mark_wrong_bodies

#: With a database or Redis given: seconds of samples before the first experiment and after the last.
SAMPLE_BEFORE_S = 1.0
SAMPLE_AFTER_S = 2.0

Event = Callable[[str], None]


@dataclass
class Investigation:
    case: Case
    out: Path
    started: str
    experiments: list[Experiment] = field(default_factory=list)
    agents: list[AgentResult] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    #: The symptom's words matched to the catalog (empty without a symptom).
    symptom: SymptomMatch = field(default_factory=lambda: SymptomMatch(""))
    #: The first two causes stay within the margin: which sources would split them.
    cannot_tell: CannotTell | None = None
    #: 2xx answers with a minority body shape, counted as failures (with no expectation given).
    wrong_bodies: WrongBodies = field(default_factory=WrongBodies)
    verdict: str = "not_reproduced"
    #: Every run folder the investigation made, canaries with the service idle included, in order.
    runs: list[Path] = field(default_factory=list)
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    stopped_early: str | None = None
    next_steps: list[str] = field(default_factory=list)
    #: Why report.md / report.html could not be written, if they could not.
    report_error: str | None = None

    @property
    def failure_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def report_path(self) -> Path:
        return self.out / REPORT_FILE

    def write(self) -> Path:
        """Write ``report.json`` into the investigation's folder."""
        self.report_path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return self.report_path

    def report(self) -> Report:
        """The investigation as its ``report.json`` document, secrets redacted.

        The parts come from the dataclasses' ``to_dict``; a key the document does not declare is an
        error here (``extra="forbid"``), not a key silently left out of the file.
        """
        case = self.case
        return Report(
            tool=ToolDoc(name="tracehound", version=__version__),
            verdict=self.verdict,
            case=ReportCase.model_validate({
                **case.describe(), "symptom": redact_text(case.symptom) if case.symptom else None,
                "expect": [redact_text(x) for x in case.expect.texts] if case.expect else [],
                "budget_s": case.budget_s, "max_concurrency": case.max_concurrency, "max_rate": case.max_rate},
                extra="forbid"),
            started_at=self.started,
            seconds=round(self.seconds, 2),
            failure_rate=round(self.failure_rate, 5),
            requests=self.requests,
            failures=self.failures,
            hypotheses=[HypothesisDoc.model_validate(h.to_dict(), extra="forbid") for h in self.hypotheses],
            symptom_match=SymptomMatchDoc.model_validate(_redacted_match(self.symptom), extra="forbid")
            if self.case.symptom else None,
            cannot_tell=CannotTellDoc.model_validate(self.cannot_tell.to_dict(), extra="forbid")
            if self.cannot_tell is not None else None,
            wrong_bodies=WrongBodiesDoc(count=self.wrong_bodies.count,
                                        lines=[redact_text(x) for x in self.wrong_bodies.lines])
            if self.wrong_bodies.count else None,
            experiments=[ExperimentDoc.model_validate(e.to_dict(), extra="forbid") for e in self.experiments],
            agents=[AgentDoc.model_validate(a.to_dict(), extra="forbid") for a in self.agents],
            runs=[str(p) for p in self.runs] or ([str(e.run.path) for e in self.experiments if e.run is not None]
                                                 + [str(c.path) for e in self.experiments for c in e.canaries]),
            stopped_early=self.stopped_early,
            next_steps=[redact_text(x) for x in self.next_steps],
        )

    def to_dict(self) -> dict[str, Any]:
        """``report.json``'s content."""
        return self.report().model_dump(mode="json")


def investigate(case: Case, out: str | Path | None = None, on_event: Event | None = None,
                catalog: Sequence[Entry] | None = None) -> Investigation:
    """Run the whole investigation; :class:`TargetUnreachable` and other bad input propagate."""
    from tracehound.diagnosis.catalog import load_catalog

    if catalog is None:
        catalog = list(load_catalog().values())
    entries = catalog
    say = on_event or (lambda _msg: None)
    started = utc_now()
    folder = prepare_run_dir(out, "investigation", started) if out is None else Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    inv = Investigation(case, folder, iso(started), symptom=match_symptom(case.symptom, entries))
    t0 = time.monotonic()
    deadline = t0 + case.budget_s
    runner = Runner(case, folder)
    samplers = start_samplers(case)

    def left() -> float:
        return deadline - time.monotonic()

    def run(exp: Experiment) -> Experiment:
        say(f"{exp.name}: {exp.purpose}")
        mark_samplers(samplers, exp.name)
        runner.run(exp)
        inv.experiments.append(exp)
        say(f"  {exp.outcome}")
        return exp

    try:
        if samplers:
            time.sleep(SAMPLE_BEFORE_S)  # the stores at rest, before any load
        plan = Plan(case, runner, entries, inv.symptom, run, left, say)
        try:
            if not plan.core():
                plan.adapt()
        finally:
            inv.stopped_early = plan.stopped_early
    except KeyboardInterrupt:
        inv.stopped_early = "interrupted (Ctrl-C): diagnosing what was collected"
        say(inv.stopped_early)
        if not runner.runs:
            stop_samplers(samplers, after_s=0.0)
            raise
    except BaseException:
        stop_samplers(samplers, after_s=0.0)  # no poller outlives a failed investigation
        raise
    stop_samplers(samplers, after_s=SAMPLE_AFTER_S)

    inv.runs = [r.path for r in runner.runs]
    inv.wrong_bodies = mark_wrong_bodies(runner.runs)
    _count_wrong_bodies(inv)
    if inv.wrong_bodies.count:
        say(f"{inv.wrong_bodies.count} 2xx answers with a minority body count as failures (wrong_body): "
            + "; ".join(inv.wrong_bodies.lines[:2]))
    targets = [e for e in inv.experiments if e.run is not None]
    inv.requests = sum(e.requests for e in targets)
    inv.failures = sum(e.failures for e in targets)
    inv.verdict = "reproduced" if reproduced(inv.failures) else "not_reproduced"

    say("analysing…")
    inv.agents = asyncio.run(run_agents(case, runner.runs, samplers))
    signals = [s for a in inv.agents for s in a.signals]
    tested = [t for a in inv.agents for t in a.tested]
    inv.hypotheses = rank(signals, tested, inv.failures, entries, inv.symptom)
    inv.cannot_tell = _cannot_tell(case, inv.hypotheses, entries)
    if inv.cannot_tell is not None:
        say(inv.cannot_tell.line())
    if not inv.hypotheses:
        inv.next_steps = _next_steps(case, inv)
    inv.seconds = time.monotonic() - t0
    inv.write()
    say("writing the report…")
    inv.report_error = _render_report(inv)
    return inv


def _count_wrong_bodies(inv: Investigation) -> None:
    """Each experiment's counts and outcome again, where minority bodies were marked as failures."""
    for e in inv.experiments:
        if e.run is None or e.run.path not in inv.wrong_bodies.by_run:
            continue
        s = summarize(e.run.table, e.run.meta)
        e.requests, e.failures, e.failure_rate = s.requests, s.failed, s.failure_rate
        e.outcome += f"; {inv.wrong_bodies.by_run[e.run.path]} of them 2xx with a minority body (wrong_body)"


def _redacted_match(m: SymptomMatch) -> dict[str, Any]:
    d = m.to_dict()
    for h in d["hits"]:
        h["words"] = redact_text(h["words"])
    return d


def _cannot_tell(case: Case, hyps: Sequence[Hypothesis], entries: Sequence[Entry]) -> CannotTell | None:
    """The first two causes when they stay close, with the sources not yet given that would split them."""
    given = [a.flag for a in AGENTS if a.flag is not None and a.runs_for(case)]
    return cannot_tell(hyps, {e.id: e for e in entries}, source_flags(), given)


def _render_report(inv: Investigation) -> str | None:
    """report.md and report.html beside report.json; a rendering failure costs the pages, not the investigation."""
    from tracehound.errors import TracehoundError
    from tracehound.report import write_report

    try:
        write_report(inv.out)
    except TracehoundError as e:
        return e.line()
    except Exception as e:  # noqa: BLE001 - report.json is written; say why the pages are missing
        return f"{type(e).__name__}: {e}"
    return None


def _next_steps(case: Case, inv: Investigation) -> list[str]:
    tried = ", ".join(dict.fromkeys(e.kind for e in inv.experiments)) or "nothing"
    steps = [f"Tried: {tried}; {inv.requests} requests, {inv.failures} failed."]
    if case.max_concurrency < 64:
        steps.append(f"Raise --max-concurrency above {case.max_concurrency} if the failure shows at higher peaks.")
    steps.append("Give a longer --budget: failures that begin after minutes (leaks, expiring credentials) need time.")
    if case.flow is None:
        steps.append("Describe the user's journey as a --flow (login, create, read): many failures need state.")
    steps.append("Add --logs, --db and --redis so the service's own evidence is read as well.")
    return steps


__all__ = ["REPORT_SCHEMA", "Investigation", "investigate"]
