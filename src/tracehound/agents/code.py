"""The code agent: reviews the service's code (``--code DIR``) and turns findings into ``code:`` signals.

Each rule of :mod:`tracehound.review` has a signal (``code:session_not_closed``,
``code:blocking_call_in_async`` …), registered here. A rule's signal is as strong as its
strongest finding: the rule's confidence, scaled by where the finding sits relative to what was
probed. Every finding knows the routes that reach it (through calls and dependencies); a finding
on the route of a request that failed counts fully, one on a probed route nearly so, one on a
route nobody probed much less — the code has the bug, but it is not what the runs show failing.

It never names a cause, and it never imports the catalog: which failure modes a signal points to,
and how strongly, is the catalog's business.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from tracehound.agents.base import AgentResult, Finding, RecordedRun
from tracehound.analysis.outcome import error_codes, failed_mask, status_codes
from tracehound.case import Case
from tracehound.diagnosis.signals import register, signal
from tracehound.errors import BadRun, TracehoundError
from tracehound.review import Review, Route, Violation, all_rules, review

NAME = "code"
#: Strength factor of a finding by where it is: on a failing request's route, on a probed route,
#: with no route known (module-level settings, background code), on a route nobody probed, and
#: when nothing tells which endpoint was probed.
ON_FAILING, ON_PROBED, NO_ROUTE, ELSEWHERE, UNKNOWN_TARGET = 1.0, 0.85, 0.55, 0.4, 0.7
#: Distinct request paths per outcome kept for matching against routes.
MAX_PATHS = 2000
#: Rules that only ever fire on code a route reaches: untested when no route was found.
ROUTE_RULES = frozenset({"TH202", "TH206", "TH207", "TH502", "TH602", "TH604"})

#: The ``code:`` signals, one per review rule.
SIGNALS: dict[str, str] = {rule.signal: rule.summary for rule in all_rules().values()}
for _name, _desc in SIGNALS.items():
    register(_name, _desc, NAME)


@dataclass(frozen=True)
class Probed:
    """A request the investigation sent: its method, path (query string ignored) and whether it ever failed."""

    method: str | None
    path: str
    failed: bool


async def code_agent(case: Case | None, runs: Sequence[RecordedRun]) -> AgentResult:
    """Review ``case.sources.code`` and weigh each finding by the probed endpoints' routes."""
    code = case.sources.code if case is not None else None
    if code is None:
        return AgentResult(NAME, "skipped", "no code given (--code DIR)")
    started = time.perf_counter()
    try:
        result = await asyncio.to_thread(review, code)
    except TracehoundError as e:
        return AgentResult(NAME, "failed", e.line(), seconds=time.perf_counter() - started)
    if not result.files:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in result.skipped[:3])
        return AgentResult(NAME, "failed", f"no Python file could be read ({reasons})",
                           seconds=time.perf_counter() - started)
    probes = probed_requests(case, runs)
    findings, detail = code_findings(result, probes)
    tested = sorted(r.signal for r in all_rules().values() if result.routes or r.code not in ROUTE_RULES)
    return AgentResult(NAME, "ok", detail, findings, time.perf_counter() - started, tested)


def code_findings(result: Review, probes: Sequence[Probed]) -> tuple[list[Finding], str]:
    """One finding per rule that fired, carrying its signal; and the agent's one-paragraph detail."""
    failing = {r for p in probes if p.failed for r in result.routes if r.matches(p.method, p.path)}
    probed = {r for p in probes for r in result.routes if r.matches(p.method, p.path)}
    by_rule: dict[str, list[tuple[float, Violation]]] = {}
    for v in result.violations:
        weight = v.confidence * placement(v, failing, probed, bool(probes))
        by_rule.setdefault(v.code, []).append((weight, v))
    findings = []
    on_path = 0
    for code, scored in sorted(by_rule.items()):
        scored.sort(key=lambda wv: (-wv[0], wv[1].path, wv[1].line))
        rule = scored[0][1].rule
        near = [v for _, v in scored if set(v.routes) & probed]
        on_path += len(near)
        where = f", {len(near)} on the probed endpoints" if near else ""
        title = f"{code} {rule.name}: {len(scored)} place{'s' if len(scored) > 1 else ''}{where}"
        exemplars = [f"{v.path}:{v.line}: {v.message}" for _, v in scored[:5]]
        routes = sorted({r.label for _, v in scored for r in v.routes})
        detail = rule.summary + (f" Routes: {', '.join(routes[:5])}." if routes else "")
        sig = signal(rule.signal, scored[0][0], detail, exemplars, value=float(len(scored)))
        findings.append(Finding(title, detail, exemplars, [sig]))
    findings.sort(key=lambda f: -f.signals[0].strength)
    parts = [f"reviewed {result.files} file{'s' if result.files != 1 else ''}, {len(result.routes)} routes: "
             f"{len(result.violations)} finding{'s' if len(result.violations) != 1 else ''}"
             f"{f' ({on_path} on the probed endpoints)' if probes else ''}"]
    if probes and not probed:
        parts.append("no route of the code matches the probed paths, so every finding counts as elsewhere")
    if result.layout is not None and result.layout.found:
        parts.append(f"imports resolved from {result.layout.describe()}")
    if result.unresolved:
        n = len(result.unresolved)
        parts.append(f"{n} import{'s' if n != 1 else ''} left unresolved (calls into them not followed)")
    if result.skipped:
        parts.append("skipped " + "; ".join(f"{s.path} ({s.reason})" for s in result.skipped[:3]))
    if result.errors:
        parts.append("; ".join(e for e, _ in result.errors[:2]))
    return findings, "; ".join(parts)


def placement(v: Violation, failing: set[Route], probed: set[Route], known: bool) -> float:
    """How much a finding's place says about the probed failures (see the module docstring)."""
    if not known:
        return UNKNOWN_TARGET
    routes = set(v.routes)
    if routes & failing:
        return ON_FAILING
    if routes & probed:
        return ON_PROBED
    return NO_ROUTE if not routes else ELSEWHERE


def probed_requests(case: Case | None, runs: Sequence[RecordedRun]) -> list[Probed]:
    """The requests the runs sent (distinct method and path, failed or not), else the case's target
    and flow steps (their ``{var}`` placeholders filled with a token that matches any path segment)."""
    out: dict[tuple[str | None, str], bool] = {}
    for run in runs:
        for method, path, failed in _run_paths(run):
            out[(method, path)] = out.get((method, path), False) or failed
    if not out and case is not None:
        target = case.target
        if target is not None:
            out[(target.method, target.path)] = True
        flow = case.flow
        if flow is not None:
            for step in flow.setup + flow.steps:
                path = "".join(p if isinstance(p, str) else "0" for p in step.target.parts)
                if not step.absolute:
                    out[(step.method, path)] = step is flow.last_step
    return [Probed(m, p.split("?", 1)[0], f) for (m, p), f in out.items()]


def _run_paths(run: RecordedRun) -> list[tuple[str | None, str, bool]]:
    """Distinct (method, path, ever failed) of a run's records, failing ones first, at most 2 × MAX_PATHS."""
    cols = ["method", "path", "status", "error_kind"]
    try:
        table = run.read(cols) if hasattr(run, "read") else run.table.select(cols)
    except (BadRun, KeyError, ValueError):
        return []
    if table.num_rows == 0:
        return []
    failed = failed_mask(status_codes(table), error_codes(table.column("error_kind")))
    keys = pa.table({"method": table.column("method").cast(pa.string()), "path": table.column("path"),
                     "failed": pa.array(failed)})
    distinct = keys.group_by(["method", "path"]).aggregate([("failed", "any")])
    distinct = distinct.sort_by([("failed_any", "descending")]).slice(0, 2 * MAX_PATHS)
    return [(r["method"], r["path"], bool(r["failed_any"])) for r in distinct.to_pylist() if r["path"]]


__all__ = ["NAME", "SIGNALS", "Probed", "code_agent", "code_findings", "placement", "probed_requests"]
