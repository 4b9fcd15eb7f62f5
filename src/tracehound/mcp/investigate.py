"""The ``investigate`` tool: experiments, every agent, and the causes ranked with their evidence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from tracehound.errors import BadShape
from tracehound.mcp.arguments import (
    Body,
    Expect,
    FlowFile,
    Headers,
    JsonBody,
    Method,
    Timeout,
    Url,
    case_target,
    expectation_of,
)
from tracehound.mcp.results import result
from tracehound.mcp.runs import new_folder
from tracehound.mcp.toolbox import LOAD, Toolbox
from tracehound.mcp.worker import say

if TYPE_CHECKING:
    from tracehound.orchestrator import Investigation


def register(box: Toolbox) -> None:
    """Add the ``investigate`` tool to ``box``'s server."""
    limits = box.limits

    @box.tool(LOAD)
    async def investigate(
        url: Url,
        method: Method = None,
        headers: Headers = None,
        body: Body = None,
        json_body: JsonBody = None,
        flow: FlowFile = None,
        expect: Expect = None,
        symptom: Annotated[str | None, Field(description="The symptom in the user's words (at most 4000 "
                                                                  "characters): it guides the ranking.")] = None,
        logs: Annotated[list[str] | None, Field(description="Log files of the service to read.")] = None,
        db: Annotated[str | None, Field(description="PostgreSQL DSN to sample (read-only).")] = None,
        redis: Annotated[str | None, Field(description="Redis URL to sample (read-only).")] = None,
        metrics: Annotated[str | None, Field(description="The service's /metrics URL (Prometheus text) to "
                                                         "sample.")] = None,
        prometheus: Annotated[str | None, Field(description="A Prometheus server that scrapes the service, to "
                                                            "read its stored series.")] = None,
        code: Annotated[str | None, Field(description="The service's source folder, to review.")] = None,
        budget_s: Annotated[float, Field(ge=10, description="Seconds for the whole investigation (the server's "
                                                            "cap applies).")] = 90.0,
        max_concurrency: Annotated[int, Field(ge=1, description="Peak concurrent users the service should take; "
                                                                "no experiment goes beyond.")] = 32,
        max_rate: Annotated[float | None, Field(gt=0, description="Peak requests/s clients send, when known: the "
                                                                  "sweep steps arrival rates up to it.")] = None,
        timeout_s: Timeout = 10.0,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Find why a request fails intermittently: experiments, every agent, ranked causes with evidence.

        Writes report.json, report.md and report.html; returns the verdict, the ranked failure
        modes with evidence for and against, each experiment's outcome, each agent's status and
        the report's paths. Takes about budget_s seconds.
        """
        from tracehound.case import Case, Sources
        from tracehound.errors import BadTarget
        from tracehound.orchestrator import investigate as run_investigation

        def work() -> CallToolResult:
            if budget_s > limits.max_budget_s:
                raise BadShape(f"a budget of {budget_s:g} s is beyond this server's cap of {limits.max_budget_s:g} s",
                               hint="the person running `tracehound mcp` can raise --max-budget")
            limits.check_shape(what="the investigation", duration_s=None, requests=None, concurrency=max_concurrency,
                               rate=max_rate)
            target, flow_obj = case_target(limits, url, method, headers, body, json_body, flow)
            for address, what in ((db, "databases"), (redis, "Redis"), (metrics, "metrics"),
                                  (prometheus, "Prometheus")):
                if address:
                    limits.check_source(address, what)
            for f in logs or []:
                if not Path(f).is_file():
                    raise BadTarget(f"cannot read log file {f!r}: no such file")
            if code is not None and not Path(code).is_dir():
                raise BadTarget(f"code {code!r} is not a folder")
            case = Case(target=target, flow=flow_obj, base_url=url if flow_obj else None,
                        sources=Sources(logs=[Path(f) for f in logs or []], db=db, redis=redis,
                                        code=Path(code) if code else None, metrics=metrics,
                                        prometheus=prometheus),
                        budget_s=budget_s, max_concurrency=max_concurrency, max_rate=max_rate, timeout_s=timeout_s,
                        symptom=symptom, expect=expectation_of(expect, flow))
            inv = run_investigation(case, new_folder(box.root, "investigation"), on_event=say(ctx))
            return result(investigation_text(inv), investigation_digest(inv))

        return await box.worker.run(work, sends_load=True)


def investigation_digest(inv: Investigation) -> dict[str, Any]:
    """What the tool returns of an investigation: verdict, the five leading causes, experiments, agents, report."""
    report = {k: str(inv.out / f"report.{k}") for k in ("json", "md", "html")}
    if inv.report_error:
        report.pop("md")
        report.pop("html")
    return {
        "verdict": inv.verdict, "requests": inv.requests, "failures": inv.failures,
        "failure_rate": round(inv.failure_rate, 5), "seconds": round(inv.seconds, 1),
        "stopped_early": inv.stopped_early,
        "hypotheses": [{**h.to_dict(), "explain": h.explain()} for h in inv.hypotheses[:5]],
        "symptom_match": inv.symptom.to_dict() if inv.case.symptom else None,
        "cannot_tell": inv.cannot_tell.to_dict() if inv.cannot_tell is not None else None,
        "experiments": [{k: e.to_dict()[k] for k in ("name", "kind", "purpose", "outcome", "requests", "failures",
                                                     "failure_rate", "run")} for e in inv.experiments],
        "agents": [{"name": a.name, "status": a.status, "detail": a.detail,
                    "signals": sorted({s.name for s in a.signals})} for a in inv.agents],
        "next_steps": inv.next_steps, "folder": str(inv.out), "report": report, "report_error": inv.report_error,
    }


def investigation_text(inv: Investigation) -> str:
    """A few lines on an investigation: reproduced or not, the three leading causes, where the report is."""
    if inv.verdict == "not_reproduced":
        lines = [(f"investigate: not reproduced: {inv.failures} of {inv.requests} requests failed over "
                  f"{len(inv.experiments)} experiments. No cause is named.")]
        lines += [f"- {s}" for s in inv.next_steps]
    else:
        lines = [(f"investigate: reproduced: {inv.failures} of {inv.requests} requests failed "
                  f"({inv.failure_rate:.1%}) over {len(inv.experiments)} experiments in {inv.seconds:.0f} s.")]
        lines += [f"{i}. {h.id} {h.confidence:.0%}: {h.title}" for i, h in enumerate(inv.hypotheses[:3], 1)]
        if inv.cannot_tell is not None:
            lines.append(inv.cannot_tell.line())
    where = inv.out / ("report.json" if inv.report_error else "report.md")
    lines.append(f"Report: {where}")
    return "\n".join(lines)
