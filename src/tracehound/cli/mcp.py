"""``tracehound mcp``: tracehound's tools for an AI assistant, over stdio, with the load capped."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def mcp(
    runs_dir: Annotated[
        Path | None,
        typer.Option("--runs", help="Folder for the runs and investigations it makes (default .tracehound/runs)."),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option("--allow-host", help="Also send load to this host (repeatable; '*' for any). Default: this "
                                          "machine only."),
    ] = None,
    max_duration: Annotated[str, typer.Option("--max-duration", help="Cap on one probe's send window.")] = "2m",
    max_requests: Annotated[int, typer.Option("--max-requests", help="Cap on one probe's requests.")] = 100_000,
    max_concurrency: Annotated[
        int, typer.Option("--max-concurrency", help="Cap on concurrent users or open connections.")
    ] = 256,
    max_rate: Annotated[
        float, typer.Option("--max-rate", help="Cap on an open-model arrival rate (requests/s).")
    ] = 2000.0,
    max_budget: Annotated[
        str, typer.Option("--max-budget", help="Cap on an investigation's budget, and on a verify rerun.")
    ] = "5m",
    max_sample: Annotated[str, typer.Option("--max-sample", help="Cap on inspect_db's sampling time.")] = "2m",
) -> None:
    """Serve tracehound's tools to an AI assistant over stdio (Model Context Protocol), load capped as set here."""
    from tracehound.mcp import Limits, serve
    from tracehound.probe import parse_duration

    limits = Limits(max_duration_s=parse_duration(max_duration), max_requests=max_requests,
                    max_concurrency=max_concurrency, max_rate=max_rate, max_budget_s=parse_duration(max_budget),
                    max_sample_s=parse_duration(max_sample), hosts=tuple(allow_host or []))
    serve(limits, runs_dir)
