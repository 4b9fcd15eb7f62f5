"""``tracehound investigate``: why a request fails intermittently, with ranked causes and their evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render
from tracehound.cli.options import (
    DATA_HELP,
    DRAW_HELP,
    EXPECT_HELP,
    PARAM_HELP,
    duration_seconds,
    expect_option,
    target_or_flow,
)


def investigate(
    url: Annotated[str | None, typer.Argument(help="Target URL (with --flow: the base URL).")] = None,
    method: Annotated[
        str | None, typer.Option("-X", "--method", help="HTTP method (default GET, POST with a body).")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")
    ] = None,
    data: Annotated[str | None, typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[
        str | None, typer.Option("--json-body", "--json", help="JSON request body; @file reads a file.")
    ] = None,
    flow: Annotated[
        Path | None, typer.Option("--flow", help="Flow file: the URL is the base URL, the last step the target.")
    ] = None,
    expect: Annotated[list[str] | None, typer.Option("--expect", help=EXPECT_HELP)] = None,
    data_file: Annotated[list[Path] | None, typer.Option("--data-file", help=DATA_HELP)] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help=PARAM_HELP)] = None,
    draw: Annotated[str | None, typer.Option("--draw", help=DRAW_HELP)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of random draws (default 0).")] = None,
    code: Annotated[Path | None, typer.Option("--code", help="The service's source folder.")] = None,
    logs: Annotated[
        list[Path] | None, typer.Option("--logs", help="A log file of the service (repeatable).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="PostgreSQL DSN (read-only use).")] = None,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL (read-only use).")] = None,
    metrics: Annotated[str | None, typer.Option("--metrics", help="Prometheus metrics URL to scrape.")] = None,
    prometheus: Annotated[
        str | None,
        typer.Option("--prometheus", help="A Prometheus server scraping the service: read its series over the "
                                          "experiments' window."),
    ] = None,
    browser: Annotated[str | None, typer.Option("--browser", help="Page URL to load in headless Chromium.")] = None,
    har: Annotated[
        list[Path] | None, typer.Option("--har", help="A HAR file exported from a browser (repeatable).")
    ] = None,
    access_log: Annotated[
        list[Path] | None,
        typer.Option("--access-log", help="A production access log (nginx, Apache, ALB, CloudFront, JSON lines) "
                                          "or its import folder (repeatable)."),
    ] = None,
    symptom: Annotated[
        str | None, typer.Option("--symptom", help="The symptom in the user's words: it guides the ranking.")
    ] = None,
    budget: Annotated[
        str, typer.Option("--budget", help="Time for the whole investigation (seconds, or 90s, 2m).")
    ] = "120",
    max_concurrency: Annotated[
        int,
        typer.Option("--max-concurrency", help="Peak concurrent users the service should take; no experiment "
                                               "goes beyond."),
    ] = 32,
    max_rate: Annotated[
        float | None,
        typer.Option("--max-rate", help="Peak requests/s clients send: sweep arrival rates up to it instead of "
                                        "users."),
    ] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-request timeout.")] = "10s",
    engine: Annotated[
        str,
        typer.Option("--engine", help="Load engine of the load experiments: native or locust (baseline, low-rate "
                                      "and idle-gap stay native)."),
    ] = "native",
    workers: Annotated[
        int, typer.Option("--workers", help="With --engine locust: local Locust worker processes.")
    ] = 2,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for report.json and the runs (default "
                                   ".tracehound/runs/<time>-investigation)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json-report", help="Print report.json to stdout instead of the summary.")
    ] = False,
) -> None:
    """Find why a request fails intermittently: experiments, analysis, ranked causes with evidence."""
    from tracehound import spool
    from tracehound.case import Case, Sources
    from tracehound.errors import BadData, BadTarget, EngineUnavailable, OutputNotWritable
    from tracehound.orchestrator import investigate as run_investigation
    from tracehound.probe import parse_duration

    logs, har, access_log = logs or [], har or [], access_log or []
    target, flow_obj = target_or_flow(url, method, header or [], data, json_body, flow,
                                      missing="give a URL to investigate (or --flow FILE with the base URL)",
                                      data_files=data_file or [], params=param or [], draw=draw, seed=seed)
    for f in [*logs, *har, *access_log]:
        if spool.is_pipe(f):  # read after the experiments, long after its writer is gone
            raise BadTarget(f"cannot read {str(f)!r}: it is a pipe, and an investigation reads its sources after "
                            "the experiments", hint="save it to a file and give the file")
    for f in [*logs, *har]:
        if not f.is_file():
            raise BadTarget(f"cannot read {str(f)!r}: no such file")
    for f in access_log:
        if not f.exists():
            raise BadTarget(f"cannot read {str(f)!r}: no such file")
    if code is not None and not code.is_dir():
        raise BadTarget(f"--code {str(code)!r} is not a folder")
    locust = engine.lower() == "locust"
    # One value per source of the agent registry (agents.registry.AGENTS); a test holds the two together.
    sources = Sources(logs=list(logs), db=db, redis=redis, code=code, metrics=metrics, prometheus=prometheus,
                      browser=browser, har=list(har), access_logs=list(access_log))
    if flow_obj is not None and flow_obj.data and engine.lower() == "locust":
        raise BadData("load that varies its data runs on the native engine", hint="drop --engine locust")
    case = Case(target=target, flow=flow_obj, base_url=url if flow else None, sources=sources,
                budget_s=duration_seconds(budget), max_concurrency=max_concurrency, max_rate=max_rate,
                timeout_s=parse_duration(timeout), symptom=symptom, expect=expect_option(expect, flow_obj, flow),
                engine=engine.lower(),
                workers=workers if locust else 1)
    if locust:
        from tracehound.probe.distributed import INSTALL_HINT, locust_available

        if not locust_available():
            raise EngineUnavailable("the locust engine needs Locust, which is not installed", hint=INSTALL_HINT)
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputNotWritable(f"cannot create {str(out_dir)!r}: {e.strerror or e}") from None
    inv = run_investigation(case, out_dir, on_event=console.note)
    if as_json:
        print(inv.report_path.read_text(), end="")
    else:
        render.print_investigation(inv)
