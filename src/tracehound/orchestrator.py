"""The investigation: experiments, then agents concurrently, then the diagnosis, under one budget.

The plan adapts to what each experiment shows and stops early once the leading hypothesis is
clear. Every experiment's purpose and outcome is kept; every agent shows up, ran or skipped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound import __version__
from tracehound.agents.base import AgentResult
from tracehound.case import Case
from tracehound.diagnosis.scoring import Hypothesis, score
from tracehound.experiments import (Experiment, Runner, baseline, confirm, flow_delay, idle_gap, low_rate, rate_level,
                                    sweep_level)
from tracehound.failure_modes import NONE
from tracehound.probe.run import iso, prepare_run_dir, utc_now

REPORT_SCHEMA = "tracehound.report/1"
#: Stop experimenting once the leader has this confidence (after the core experiments ran).
CLEAR_LEADER = 0.95
#: Fewer failures than this across every experiment is not a reproduction.
MIN_FAILURES = 2
AGENT_TIMEOUT_S = 60.0

Event = Callable[[str], None]


@dataclass
class Investigation:
    case: Case
    out: Path
    started: str
    experiments: list[Experiment] = field(default_factory=list)
    agents: list[AgentResult] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    verdict: str = "not_reproduced"
    requests: int = 0
    failures: int = 0
    seconds: float = 0.0
    stopped_early: str | None = None
    next_steps: list[str] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def report_path(self) -> Path:
        return self.out / "report.json"

    def write(self) -> Path:
        """Write ``report.json`` into the investigation's folder."""
        self.report_path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return self.report_path

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "tool": {"name": "tracehound", "version": __version__},
            "verdict": self.verdict,
            "case": {**self.case.describe(), "symptom": self.case.symptom, "budget_s": self.case.budget_s,
                     "max_concurrency": self.case.max_concurrency, "max_rate": self.case.max_rate},
            "started_at": self.started,
            "seconds": round(self.seconds, 2),
            "failure_rate": round(self.failure_rate, 5),
            "requests": self.requests,
            "failures": self.failures,
            "hypotheses": [h.to_dict() for h in self.hypotheses],
            "experiments": [e.to_dict() for e in self.experiments],
            "agents": [a.to_dict() for a in self.agents],
            "runs": [str(e.run.path) for e in self.experiments if e.run is not None]
                    + [str(e.canary.path) for e in self.experiments if e.canary is not None],
            "stopped_early": self.stopped_early,
            "next_steps": self.next_steps,
        }


def investigate(case: Case, out: str | Path | None = None, on_event: Event | None = None,
                catalog: list[Any] | None = None) -> Investigation:
    """Run the whole investigation; :class:`TargetUnreachable` and other bad input propagate."""
    from tracehound.diagnosis.catalog import load_catalog

    entries = catalog if catalog is not None else list(load_catalog().values())
    say = on_event or (lambda _msg: None)
    started = utc_now()
    folder = prepare_run_dir(out, "investigation", started) if out is None else Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    inv = Investigation(case, folder, iso(started))
    t0 = time.monotonic()
    deadline = t0 + case.budget_s
    runner = Runner(case, folder)

    def left() -> float:
        return deadline - time.monotonic()

    def run(exp: Experiment) -> Experiment:
        say(f"{exp.name}: {exp.purpose}")
        runner.run(exp)
        inv.experiments.append(exp)
        say(f"  {exp.outcome}")
        return exp

    def leader_clear(after: str) -> bool:
        hyps = _diagnose(case, entries, runner)
        if hyps and hyps[0].id != NONE and hyps[0].confidence >= CLEAR_LEADER:
            inv.stopped_early = f"after {after}: {hyps[0].id} leads at {hyps[0].confidence:.0%}"
            say(f"stopping early: {inv.stopped_early}")
            return True
        return False

    try:
        _plan_and_run(case, runner, run, left, leader_clear)
    except KeyboardInterrupt:
        inv.stopped_early = "interrupted (Ctrl-C): diagnosing what was collected"
        say(inv.stopped_early)
        if not runner.runs:
            raise

    targets = [e for e in inv.experiments if e.run is not None]
    inv.requests = sum(e.requests for e in targets)
    inv.failures = sum(e.failures for e in targets)
    inv.verdict = "reproduced" if inv.failures >= MIN_FAILURES else "not_reproduced"

    say("analysing…")
    inv.agents = asyncio.run(_run_agents(case, runner.runs))
    signals = [s for a in inv.agents for s in a.signals]
    tested = [t for a in inv.agents for t in a.tested]
    if inv.verdict == "reproduced":
        inv.hypotheses = score(entries, signals, tested)
    else:
        inv.next_steps = _next_steps(case, inv)
    inv.seconds = time.monotonic() - t0
    inv.write()
    return inv


def _plan_and_run(case: Case, runner: Runner, run: Callable[[Experiment], Experiment],
                  left: Callable[[], float], leader_clear: Callable[[str], bool]) -> None:
    base = run(baseline(case))
    slow = (base.p50_ms or 0) / 1000.0
    level_s = min(8.0, max(4.0, 6 * slow))
    runner.canary_alone(2.0)

    # Load sweep up to the stated peak, stopping at the knee: arrival rates when the peak rate
    # is known, concurrent users otherwise.
    worst: Experiment = base
    mc = case.max_concurrency
    if case.max_rate is not None:
        sweep = [rate_level(case, r, level_s) for r in sorted({case.max_rate / 4, case.max_rate / 2, case.max_rate})]
    else:
        sweep = [sweep_level(case, lv, level_s) for lv in sorted({lv for lv in (4, 12, mc) if lv <= mc} | {min(4, mc)})]
    for exp in sweep:
        if left() < level_s + 15:
            break
        e = run(exp)
        if e.failure_rate > worst.failure_rate:
            worst = e
        if e.failure_rate >= 0.5:
            break
    if leader_clear("the sweep"):
        return

    # Failures that begin after a time, or that stay once load has stopped.
    low_s = min(15.0, max(8.0, left() - 40))
    if left() > low_s + 10:
        users = 2
        rate = max(1.0, min(4.0, users / max(slow, 0.05) / 2))
        e = run(low_rate(case, low_s, rate, users))
        if e.failure_rate > worst.failure_rate:
            worst = e
        if leader_clear("the low-rate probe"):
            return

    # Requests after idle time.
    gaps = [0.5, 1.5, 3.0]
    if left() > sum(gaps) + 6:
        run(idle_gap(case, gaps))
        if leader_clear("the idle-gap probe"):
            return

    # A read that needs time to see a write: the flow with and without a pause between steps.
    if case.flow is not None and len(case.flow.steps) > 1 and worst.failures and left() > 16:
        # Several users, so the paused run still sends enough requests to compare.
        c = min(max(4, min(worst.concurrency or 4, 8)), case.max_concurrency)
        run(flow_delay(case, c, 0.0, 4.0))
        run(flow_delay(case, c, 1.0, 6.0))
        if leader_clear("the flow-delay probe"):
            return

    if worst.failures and worst is not base and left() > 8:
        run(confirm(worst, min(4.0, worst.shape.duration or 4.0)))


def _diagnose(case: Case, entries: list[Any], runner: Runner) -> list[Hypothesis]:
    """The ranking from the traffic alone, so far: for deciding whether to go on."""
    from tracehound.agents.traffic import traffic_agent

    if sum(e.failures for e in runner.done) < MIN_FAILURES:
        return []
    res = asyncio.run(traffic_agent(case, list(runner.runs)))
    return score(entries, res.signals, res.tested)


async def _run_agents(case: Case, runs: list[Any]) -> list[AgentResult]:
    from tracehound.agents.traffic import traffic_agent

    agents: list[tuple[str, Callable[[], Awaitable[AgentResult]] | None, str | None]] = [
        ("traffic", lambda: traffic_agent(case, runs), None),
    ]
    src = case.sources
    for name, given, flag in (("logs", src.logs, "--logs"), ("postgres", src.db, "--db"), ("redis", src.redis, "--redis"),
                              ("code", src.code, "--code"), ("metrics", src.metrics, "--metrics"),
                              ("browser", src.browser, "--browser")):
        why = (f"no {flag} given" if not given
               else f"{flag} was accepted, but this version of tracehound has no {name} agent yet")
        agents.append((name, None, why))

    async def one(name: str, fn: Callable[[], Awaitable[AgentResult]] | None, why: str | None) -> AgentResult:
        if fn is None:
            return AgentResult(name, "skipped", why or "")
        t = time.monotonic()
        try:
            res = await asyncio.wait_for(fn(), AGENT_TIMEOUT_S)
        except asyncio.TimeoutError:
            res = AgentResult(name, "skipped", f"timed out after {AGENT_TIMEOUT_S:.0f} s")
        except Exception as e:  # noqa: BLE001 - an agent fails alone, visibly, and the rest go on
            res = AgentResult(name, "failed", f"{type(e).__name__}: {e}")
        res.seconds = time.monotonic() - t
        return res

    return list(await asyncio.gather(*(one(*a) for a in agents)))


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
