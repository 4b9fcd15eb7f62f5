"""The ``verify`` tool: did the fix work? A rerun of what failed, or two runs compared, against an SLO."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from tracehound.errors import BadShape
from tracehound.mcp.arguments import Body, FlowFile, Headers, JsonBody, Method, request_target
from tracehound.mcp.limits import Limits, shape_bounds
from tracehound.mcp.results import ms, pct, result
from tracehound.mcp.runs import new_folder
from tracehound.mcp.toolbox import LOAD, Toolbox
from tracehound.mcp.worker import say

if TYPE_CHECKING:
    from tracehound.verify import Source, TargetOverride, Verification


def register(box: Toolbox) -> None:
    """Add the ``verify`` tool to ``box``'s server."""
    limits = box.limits

    @box.tool(LOAD)
    async def verify(
        source: Annotated[str, Field(description="An investigation (its folder or report.json), or a run "
                                                 "folder: what failed before.")],
        candidate: Annotated[str | None, Field(description="A run made after the fix, to compare with; no load is "
                                                           "sent then.")] = None,
        slo: Annotated[str | None, Field(description="Criteria, e.g. 'error_rate<1%,p95<500ms,p99<1s' (default: "
                                                     "the catalog's for the top cause).")] = None,
        url: Annotated[str | None, Field(description="Rerun against this URL instead of the recorded one (with "
                                                     "flow: the base URL).")] = None,
        method: Method = None,
        headers: Headers = None,
        body: Body = None,
        json_body: JsonBody = None,
        flow: FlowFile = None,
        timeout_s: Annotated[float | None, Field(ge=0.001, le=300, description="Per-request timeout (default: the "
                                                                           "original's).")] = None,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Did the fix work? Rerun what failed (same shapes, same target) or compare two runs, against an SLO.

        Returns passed (true when every criterion holds), the before/after figures per experiment
        and each criterion's value.
        """
        from tracehound.errors import BadTarget
        from tracehound.flow import Flow
        from tracehound.verify import TargetOverride, load_source
        from tracehound.verify import verify as run_verify

        def overrides() -> TargetOverride:
            if flow is not None:
                if method or headers or body is not None or json_body is not None:
                    raise BadTarget("with a flow, put methods, headers and bodies in the flow's steps")
                return TargetOverride(flow=Flow.load(flow), url=url)
            if method or headers or body is not None or json_body is not None:
                if not url:
                    raise BadTarget("give the url the headers and body go with")
                return TargetOverride(target=request_target(url, method, headers, body, json_body))
            return TargetOverride(url=url)

        def work() -> CallToolResult:
            override = overrides()
            out = None
            if candidate is None:
                check_rerun(limits, load_source(source), override)
                out = new_folder(box.root, "verify")
            v = run_verify(source, candidate, slo, override, out, timeout_s, on_event=say(ctx))
            return result(verification_text(v), v.to_dict())

        return await box.worker.run(work, sends_load=candidate is None)


def check_rerun(limits: Limits, src: Source, override: TargetOverride) -> None:
    """Refuse a rerun that would send load past the caps or to a host this server may not reach."""
    from tracehound.flow import Flow

    if override.target is not None:
        limits.check_url(override.target.url)
    if override.url:
        limits.check_url(override.url)
    if override.flow is not None:
        limits.check_flow(override.flow)
    if override.target is None and not override.url:
        case = src.report.case if src.report is not None else None
        recorded = ([case.url, case.base_url] if case is not None else []) + [r.meta.target.url for _, r in src.runs]
        for u in filter(None, recorded):
            limits.check_url(str(u))
    if override.flow is None:
        flow_src = src.report.case.flow if src.report is not None else None
        if flow_src and Path(flow_src).is_file():
            limits.check_flow(Flow.load(flow_src))
    total = 0.0
    for name, run in src.runs:
        b = shape_bounds(run.meta.shape)
        limits.check_shape(what=f"rerunning {name}", **b)
        total += b["duration_s"] or 0.0
    if total > limits.max_budget_s:
        raise BadShape(f"rerunning {len(src.runs)} experiments would take {total:g} s, beyond this server's cap of "
                       f"{limits.max_budget_s:g} s", hint="the person running `tracehound mcp` can raise --max-budget")


def verification_text(v: Verification) -> str:
    """A few lines on a verification: pass or fail, each criterion's value (and before), where the runs are."""
    verdict = "PASS: the SLO holds" if v.passed else "FAIL: the SLO does not hold"
    lines = [f"verify ({v.mode}): {verdict}; SLO {v.slo.text()} (from {v.slo_from})."]
    for c in v.checks:
        value = "-" if c.value is None else (pct(c.value) if c.criterion.key == "error_rate" else ms(c.value))
        before = "" if c.before is None else (
            f" (before {pct(c.before) if c.criterion.key == 'error_rate' else ms(c.before)})")
        lines.append(f"- {'ok' if c.ok else 'FAILED'} {c.criterion.text()}: {value}{before}")
    if v.out:
        lines.append(f"Runs: {v.out}")
    return "\n".join(lines)
