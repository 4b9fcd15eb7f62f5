"""The ``analyze_run`` tool: what recorded requests show, and the causes the traffic alone ranks."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from tracehound.mcp.results import result
from tracehound.mcp.runs import load_runs
from tracehound.mcp.toolbox import READ, Toolbox


def register(box: Toolbox) -> None:
    """Add the ``analyze_run`` tool to ``box``'s server."""
    @box.tool(READ)
    async def analyze_run(
        runs: Annotated[list[str], Field(min_length=1, description="Run folders (or an investigation's folder: "
                                                                   "all its runs) to analyse together.")],
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Analyse recorded requests: how failures depend on load, time, connections, content; ranked causes.

        Returns the traffic analyst's findings (each with its signals and exemplar requests), the
        signals the data could have shown, and the failure modes ranked from the traffic alone.
        """
        from tracehound.agents.traffic import analyze
        from tracehound.diagnosis.rank import rank
        from tracehound.wrong_body import mark_wrong_bodies

        def work() -> CallToolResult:
            loaded = load_runs(runs)
            mark_wrong_bodies(loaded, write=False)  # minority bodies count, as in an investigation
            res = analyze(loaded)
            hyps = rank(res.signals, res.tested, res.failures)
            data = {"runs": [str(r.path) for r in loaded], "requests": res.requests, "failures": res.failures,
                    "detail": res.detail, "findings": [f.to_dict() for f in res.findings],
                    "tested": sorted(set(res.tested)),
                    "ranking": [{"id": h.id, "title": h.title, "confidence": round(h.confidence, 4),
                                 "explain": h.explain()} for h in hyps[:5]]}
            lines = [f"analyze_run: {res.detail or 'no requests'}."]
            seen = sorted(((s, f.title) for f in res.findings for s in f.signals), key=lambda st: -st[0].strength)
            lines += [f"- {s.name} ({s.strength:.2f}), in {title.lower()}" for s, title in seen[:8]]
            if hyps:
                lines.append(f"Leading from the traffic alone: {hyps[0].id} ({hyps[0].confidence:.0%}).")
            return result("\n".join(lines), data)

        return await box.worker.run(work)
