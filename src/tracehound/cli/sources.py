"""``tracehound db``, ``metrics``, ``browse`` and ``har``: one source of evidence, inspected on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render
from tracehound.limits import INTERVAL_RULE, MAX_INTERVAL_S, MIN_INTERVAL_S, interval_ok

INTERVAL_HELP = f"Seconds between {{}} ({MIN_INTERVAL_S:g}-{MAX_INTERVAL_S:g})."


def _sampling(duration: str, interval: float) -> float:
    """The seconds to sample for; :class:`BadShape` for a duration or an interval out of bounds."""
    from tracehound.errors import BadShape
    from tracehound.probe import parse_duration

    seconds = parse_duration(duration)
    if not 0 < seconds <= 86400:
        raise BadShape("--duration must be above 0 and at most 24h")
    if not interval_ok(interval):
        raise BadShape(f"--interval {INTERVAL_RULE}")
    return seconds


def db(
    dsn: Annotated[
        str,
        typer.Argument(metavar="DSN", help="postgresql://user:password@host:port/db, or "
                                           "redis://[:password@]host:port/db."),
    ],
    duration: Annotated[str, typer.Option("-d", "--duration", help="How long to sample (e.g. 10s, 2m).")] = "10s",
    interval: Annotated[float, typer.Option("--interval", help=INTERVAL_HELP.format("samples"))] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Sample a PostgreSQL or Redis server for a while (read-only) and print what it shows."""
    from tracehound.inspection import inspect_db

    seconds = _sampling(duration, interval)
    console.err.print(f"sampling for {seconds:g} s every {interval:g} s (Ctrl-C stops early)", style="dim",
                      markup=False)
    res = inspect_db(dsn, seconds, interval)
    if as_json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        render.print_agent_result(res)
    if res.status == "failed":
        raise typer.Exit(3)


def metrics(
    url: Annotated[
        str,
        typer.Argument(metavar="URL", help="A Prometheus text endpoint (…/metrics); with --prometheus, a "
                                           "Prometheus server."),
    ],
    duration: Annotated[str, typer.Option("-d", "--duration", help="How long to scrape (e.g. 10s, 2m).")] = "10s",
    interval: Annotated[float, typer.Option("--interval", help=INTERVAL_HELP.format("scrapes"))] = 0.5,
    prometheus: Annotated[
        bool,
        typer.Option("--prometheus", help="URL is a Prometheus server: read its stored series instead of "
                                          "scraping."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="T", help="With --prometheus: from then (ISO time, epoch seconds, or 30m "
                                                  "ago)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="T", help="With --prometheus: up to then (default: now).")
    ] = None,
    run: Annotated[
        list[Path] | None,
        typer.Option("--run", metavar="RUN", help="With --prometheus: a run folder whose requests the series are "
                                                  "lined up with (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Read a service's Prometheus metrics (pool, event-loop lag, CPU, memory) and print what they show."""
    import asyncio
    import time

    from tracehound.agents.metrics import inspect_metrics, prometheus_agent
    from tracehound.errors import BadLogOption, BadShape
    from tracehound.logs import parse_bound
    from tracehound.probe import Run

    run = run or []
    if prometheus:
        try:
            lo = parse_bound(since) if since else None
            hi = parse_bound(until) if until else (None if run else time.time_ns())
        except ValueError as e:
            raise BadLogOption(str(e)) from None
        runs = [Run.load(r) for r in run]
        if lo is None and not runs:
            raise BadShape("with --prometheus, give --since (or --run RUN to take the window from)")
        res = asyncio.run(prometheus_agent(url, runs, lo, hi))
    else:
        if since or until or run:
            raise BadShape("--since, --until and --run go with --prometheus; a live scrape reads from now on")
        seconds = _sampling(duration, interval)
        console.err.print(f"scraping for {seconds:g} s every {interval:g} s (Ctrl-C stops early)", style="dim",
                          markup=False)
        res = inspect_metrics(url, seconds, interval)
    if as_json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        render.print_agent_result(res)
    if res.status == "failed":
        raise typer.Exit(3)


def browse(
    page_url: Annotated[
        str, typer.Argument(metavar="PAGE_URL", help="The page a person opens (HTML), not the API behind it.")
    ],
    times: Annotated[int, typer.Option("--times", "-n", help="How many times to load the page.")] = 10,
    wait_for: Annotated[
        str | None,
        typer.Option("--wait-for", metavar="SELECTOR", help="A CSS selector that shows the page is ready; a load "
                                                            "where it never shows fails."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Run folder (default .tracehound/runs/<UTC time>-browser-…)."),
    ] = None,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Start every load with empty storage (default: keep cookies and "
                                     "localStorage, as a returning visitor)."),
    ] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between loads.")] = 1.0,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds a load may take before it counts as hung.")
    ] = 15.0,
    stop_after: Annotated[
        int | None, typer.Option("--stop-after", metavar="K", help="Stop once K loads have failed.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the loads and findings as JSON.")] = False,
) -> None:
    """Load a page in headless Chromium again and again: failing calls behind it, console, errors shown, tokens."""
    from tracehound.agents.browser import browser_findings
    from tracehound.browser import browse as run_browse
    from tracehound.errors import BadShape

    if not 1 <= times <= 1000:
        raise BadShape("--times must be between 1 and 1000")
    if not 0 <= interval <= 600 or not 0.5 <= timeout <= 600:
        raise BadShape("--interval must be 0-600 s and --timeout 0.5-600 s")
    if stop_after is not None and stop_after < 1:
        raise BadShape("--stop-after must be at least 1")
    result = run_browse(page_url, times, wait_for, out_dir, timeout, interval, fresh, stop_after,
                        None if as_json else render.browse_progress)
    findings, tested, detail = browser_findings(result)
    if as_json:
        print(json.dumps({**result.to_dict(), "detail": detail, "tested": tested,
                          "findings": [f.to_dict() for f in findings]}, indent=2))
        return
    render.print_agent_findings(f"browser: {detail}", findings)
    console.out.print(f"\nrun folder: {result.folder}", markup=False, highlight=False)


def har(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE.har", help="A HAR file (DevTools 'Save all as HAR', or one tracehound "
                                                "browse kept)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Inspect a HAR: failures per endpoint, timing phases, plateaus, expired or missing Authorization, CORS."""
    from tracehound import spool
    from tracehound.agents.har import inspect_har
    from tracehound.errors import BadImport

    try:
        with spool.regular(file) as real:  # a pipe (``<(…)``, a FIFO) is read once, into a file
            res = inspect_har(real)
        res.path = file  # the name given, not the pipe's temporary copy
    except spool.PipeUnreadable as e:
        raise BadImport(f"cannot read {str(file)!r}: {e.strerror}") from None
    if as_json:
        print(json.dumps(res.to_dict(), indent=2))
        return
    render.print_agent_findings(res.detail, res.findings)
