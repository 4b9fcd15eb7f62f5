"""The ``probe`` tool: one bounded load at a request, every request recorded."""

from __future__ import annotations

from collections.abc import Mapping
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
from tracehound.mcp.limits import shape_bounds
from tracehound.mcp.results import ms, pct, result
from tracehound.mcp.runs import new_folder
from tracehound.mcp.toolbox import LOAD, Toolbox
from tracehound.mcp.worker import progress

if TYPE_CHECKING:
    from tracehound.probe import Run


def register(box: Toolbox) -> None:
    """Add the ``probe`` tool to ``box``'s server."""
    limits = box.limits

    @box.tool(LOAD)
    async def probe(
        url: Url,
        method: Method = None,
        headers: Headers = None,
        body: Body = None,
        json_body: JsonBody = None,
        flow: FlowFile = None,
        expect: Expect = None,
        concurrency: Annotated[int, Field(ge=1, description="Virtual users (closed model), or the cap on open "
                                                            "connections with rate (default there: the server's "
                                                            "cap).")] = 1,
        requests: Annotated[int | None, Field(ge=1, description="Total requests to send.")] = None,
        duration_s: Annotated[float | None, Field(gt=0, description="Seconds to send for.")] = None,
        rate: Annotated[float | None, Field(gt=0, description="Open model: requests per second at a constant "
                                                               "arrival rate, whatever the service does.")] = None,
        stages: Annotated[str | None, Field(description="Ramps, e.g. '10s:5,30s:50' (VUs; arrival rates with "
                                                        "open_model); '10s:=5' jumps to 5 and holds.")] = None,
        open_model: Annotated[bool, Field(description="With stages: ramp the arrival rate, not the users.")] = False,
        timeout_s: Timeout = 10.0,
        keepalive: Annotated[bool, Field(description="Reuse connections (false: a new one per request).")] = True,
        label: Annotated[str | None, Field(description="A name for the run folder.")] = None,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Send one bounded load at a request and record every request, failures included.

        Give requests, duration_s or stages (the server's caps apply). Returns the run folder and
        its summary: outcomes, status and error counts, latency percentiles, connection reuse.
        """
        from tracehound.probe import LoadShape, ProbeConfig, parse_stages
        from tracehound.probe import probe as run_probe
        from tracehound.probe.meta import ShapeMeta

        def work() -> CallToolResult:
            if requests is None and duration_s is None and not stages:
                raise BadShape("give requests, duration_s or stages: a probe must stop by itself")
            target, flow_obj = case_target(limits, url, method, headers, body, json_body, flow)
            st = parse_stages(stages) if stages else None
            is_open = open_model or rate is not None
            # An open model's connections are capped too: by the server's cap unless the caller gives a lower one.
            conns = (concurrency if concurrency > 1 else limits.max_concurrency) if is_open else None
            shape = LoadShape(concurrency=concurrency, requests=requests, duration=duration_s, rate=rate, stages=st,
                              open_model=is_open, max_requests=limits.max_requests,
                              max_duration=limits.max_duration_s, max_connections=conns)
            limits.check_shape(what="the probe", **shape_bounds(ShapeMeta.model_validate(shape.describe())))
            shape.validate()
            config = ProbeConfig(shape=shape, target=target, flow=flow_obj, base_url=url if flow_obj else None,
                                 timeout=timeout_s, keepalive=keepalive, label=label,
                                 expect=expectation_of(expect, flow))
            config.out = new_folder(box.root, config.slug())
            run = run_probe(config, on_progress=progress(ctx, shape.planned_duration))
            d = run_digest(run)
            return result(f"probe: {run_line(d)}. Run: {run.path}", d)

        return await box.worker.run(work, sends_load=True)


def run_digest(run: Run) -> dict[str, Any]:
    """A run's summary as the tool returns it (its latency histograms left out)."""
    from tracehound.probe.summary import summarize_run

    s = summarize_run(run)
    d = s.to_dict()
    for key in ("latency_ok", "latency_failed"):
        if d.get(key):
            d[key].pop("histogram", None)
    meta = run.meta.dump()
    return {"run": str(run.path), "interrupted": run.interrupted, "target": meta.get("target"),
            "shape": meta.get("shape"), **d}


def run_line(d: Mapping[str, Any]) -> str:
    """One line on a run digest: requests, failures and why, latency."""
    lat = d.get("latency_ok") or {}
    p = lat.get("percentiles_ms") or {}
    kinds = {**{f"HTTP {k}": v for k, v in (d.get("status_counts") or {}).items() if k == "none" or int(k) >= 400},
             **(d.get("error_kinds") or {})}
    kinds.pop("HTTP none", None)
    why = ", ".join(f"{k}×{v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:3])
    return (f"{d['requests']:,} requests in {d['duration_s']:.1f} s, {d['failed']:,} failed ({pct(d['failure_rate'])}"
            + (f": {why}" if why and d["failed"] else "") + f"); ok p50 {ms(p.get('p50'))}, p99 {ms(p.get('p99'))}")
