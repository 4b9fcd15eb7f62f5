"""The ``logs`` tool: templates, known failure signatures, and what sits around failing requests."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from tracehound.mcp.results import result
from tracehound.mcp.runs import load_runs
from tracehound.mcp.toolbox import READ, Toolbox


def register(box: Toolbox) -> None:
    """Add the ``logs`` tool to ``box``'s server."""
    @box.tool(READ)
    async def logs(
        files: Annotated[list[str], Field(min_length=1, description="Log files or folders of them (text, JSON "
                                                                    "lines, logfmt; gzip too).")],
        since: Annotated[str | None, Field(description="Only events from then on: ISO time, epoch seconds, or "
                                                       "30m (ago).")] = None,
        until: Annotated[str | None, Field(description="Only events up to then (same forms as since).")] = None,
        runs: Annotated[list[str] | None, Field(description="Run folders to align the events with.")] = None,
        tz: Annotated[str | None, Field(description="Zone of timestamps written without one (default: this "
                                                    "machine's), e.g. UTC, Europe/Paris, +02:00.")] = None,
        top: Annotated[int, Field(ge=1, le=100, description="Templates to return per section.")] = 10,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Read service logs: templates, known failure signatures, and what sits around failing requests.

        Returns the signals the logs show (log:…), the signature hits, the templates over-represented
        around a run's failures, new and rare ones, and the files read or skipped.
        """
        from tracehound.errors import BadLogOption
        from tracehound.logs import analyze_logs, parse_bound, parse_zone

        def work() -> CallToolResult:
            try:
                zone = parse_zone(tz)
                lo = parse_bound(since, zone) if since else None
                hi = parse_bound(until, zone) if until else None
            except ValueError as e:
                raise BadLogOption(str(e)) from None
            report = analyze_logs(files, lo, hi, load_runs(runs) if runs else [], zone)
            if not report.read:
                why = "; ".join(f"{f.path}: {f.skipped}" for f in report.skipped) or f"no file in {', '.join(files)}"
                raise BadLogOption(f"no log could be read ({why})")
            d = report.to_dict()
            for key in ("templates", "over_represented", "new", "rare"):
                d[key] = d[key][:top]
            obs = sorted(report.observations, key=lambda o: -o.strength)
            lines = [f"logs: {len(report.read)} file(s), {report.events:,} events, {report.template_count} templates"
                     + (f"; {len(report.skipped)} skipped" if report.skipped else "") + "."]
            lines += [f"- {o.name} ({o.strength:.2f}): {o.detail}" for o in obs[:8]]
            if not obs:
                lines.append("No failure signal in these logs.")
            return result("\n".join(lines), d)

        return await box.worker.run(work)
