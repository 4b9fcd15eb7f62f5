"""``tracehound probe``, ``locust-worker`` and ``show``: send load and record every request, or show a run."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.live import Live
from rich.text import Text

from tracehound.cli import console, render
from tracehound.cli.options import DATA_HELP, DRAW_HELP, EXPECT_HELP, PARAM_HELP, expect_option, target_or_flow

if TYPE_CHECKING:
    from tracehound.probe import Run


def probe(
    url: Annotated[str | None, typer.Argument(help="Target URL (with --flow: the base URL).")] = None,
    method: Annotated[
        str | None, typer.Option("-X", "--method", help="HTTP method (default GET, POST with a body).")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")
    ] = None,
    data: Annotated[str | None, typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[
        str | None, typer.Option("--json", help="JSON request body (sets Content-Type); @file reads a file.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("-c", "--concurrency", help="Virtual users (closed model); connection cap (open model).")
    ] = 1,
    requests: Annotated[int | None, typer.Option("-n", "--requests", help="Total requests to send.")] = None,
    duration: Annotated[str | None, typer.Option("-d", "--duration", help="How long to send, e.g. 30s, 2m.")] = None,
    rate: Annotated[
        float | None, typer.Option("--rate", help="Open model: requests per second at constant arrival rate.")
    ] = None,
    open_model: Annotated[
        bool, typer.Option("--open", help="With --stages: ramp the arrival rate instead of the VU count.")
    ] = False,
    stages: Annotated[
        str | None, typer.Option("--stages", help="Ramps, e.g. 10s:5,30s:50 (10s:=5 jumps to 5 and holds).")
    ] = None,
    max_requests: Annotated[
        int | None, typer.Option("--max-requests", help="Hard bound on requests (default 2,000,000).")
    ] = None,
    max_duration: Annotated[
        str | None, typer.Option("--max-duration", help="Hard bound on the send window (default 30m).")
    ] = None,
    max_connections: Annotated[
        int | None,
        typer.Option("--max-connections", help="Open model: cap on open connections (default -c, or 1000)."),
    ] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-request timeout.")] = "10s",
    connect_timeout: Annotated[
        str, typer.Option("--connect-timeout", help="Connect (and TLS handshake) timeout.")
    ] = "3s",
    no_keepalive: Annotated[
        bool, typer.Option("--no-keepalive", help="A new connection for every request.")
    ] = False,
    insecure: Annotated[bool, typer.Option("-k", "--insecure", help="Do not verify TLS certificates.")] = False,
    cacert: Annotated[Path | None, typer.Option("--cacert", help="CA bundle to verify TLS with.")] = None,
    record_header: Annotated[
        list[str] | None,
        typer.Option("--record-header", help="Also record this response header (repeatable)."),
    ] = None,
    flow: Annotated[
        Path | None, typer.Option("--flow", help="Flow file (YAML): setup steps and steps with captures.")
    ] = None,
    expect: Annotated[list[str] | None, typer.Option("--expect", help=EXPECT_HELP)] = None,
    data_file: Annotated[list[Path] | None, typer.Option("--data-file", help=DATA_HELP)] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help=PARAM_HELP)] = None,
    draw: Annotated[str | None, typer.Option("--draw", help=DRAW_HELP)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of random draws (default 0).")] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes to spread the load over (locust: local worker processes).")
    ] = 1,
    engine: Annotated[
        str,
        typer.Option("--engine", help="native (default) or locust: Locust's master and workers, across machines "
                                      "if needed."),
    ] = "native",
    master_bind: Annotated[
        str | None,
        typer.Option("--master-bind", help="Locust: HOST:PORT the master listens on for workers (default "
                                           "127.0.0.1 and a free port)."),
    ] = None,
    remote_workers: Annotated[
        int,
        typer.Option("--remote-workers", help="Locust: workers on other machines to wait for (needs --master-bind)."),
    ] = 0,
    wait_workers: Annotated[
        str, typer.Option("--wait-workers", help="Locust: how long to wait for remote workers to connect.")
    ] = "2m",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Run folder (default .tracehound/runs/<UTC time>-<slug>).")
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="Name used in the run folder.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the run folder.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Progress and summary as JSON lines on stdout.")] = False,
) -> None:
    """Fire controlled HTTP load at a target and record every request, failures included."""
    from tracehound.probe import LoadShape, ProbeConfig, parse_duration, parse_stages
    from tracehound.probe import probe as run_probe
    from tracehound.probe.shapes import DEFAULT_MAX_DURATION, DEFAULT_MAX_REQUESTS

    shape = LoadShape(
        concurrency=concurrency,
        requests=requests,
        duration=parse_duration(duration) if duration else None,
        rate=rate,
        stages=parse_stages(stages) if stages else None,
        open_model=open_model or rate is not None,
        max_requests=max_requests or DEFAULT_MAX_REQUESTS,
        max_duration=parse_duration(max_duration) if max_duration else DEFAULT_MAX_DURATION,
        max_connections=max_connections,
    )
    target, flow_obj = target_or_flow(url, method, header or [], data, json_body, flow,
                                      missing="give a URL to probe (or --flow FILE)", data_files=data_file or [],
                                      params=param or [], draw=draw, seed=seed)
    config = ProbeConfig(
        shape=shape,
        target=target,
        flow=flow_obj,
        base_url=url if flow else None,
        timeout=parse_duration(timeout),
        connect_timeout=parse_duration(connect_timeout),
        keepalive=not no_keepalive,
        insecure=insecure,
        ca_file=str(cacert) if cacert else None,
        record_headers=tuple(record_header or []),
        workers=workers,
        engine=engine.lower(),
        master_bind=master_bind,
        remote_workers=remote_workers,
        wait_workers=parse_duration(wait_workers),
        out=out_dir,
        label=label,
        expect=expect_option(expect, flow_obj, flow),
    )
    shape.validate()
    config.endpoint()

    def notice(line: str) -> None:
        console.err.print(line, markup=False, highlight=False, soft_wrap=True)

    if jsonl:
        run = run_probe(config, on_progress=render.jsonl_progress, on_notice=notice)
    elif quiet or not console.err.is_terminal:
        run = run_probe(config, on_notice=notice)
    else:
        with Live(Text("starting…"), console=console.err, refresh_per_second=4, transient=True) as live:
            run = run_probe(config, on_progress=lambda p: live.update(render.progress_view(p)),
                            on_notice=lambda line: live.console.print(line, markup=False, highlight=False))
    _finish(run, quiet=quiet, jsonl=jsonl)


def _finish(run: Run, quiet: bool, jsonl: bool) -> None:
    """Print the run as asked; exit 130 if it was interrupted, 1 if it is partial."""
    from tracehound.probe.summary import summarize_run
    from tracehound.run_view import print_summary

    if quiet and not jsonl:
        print(run.path)  # scripts get the folder; reading the records back is theirs to choose
    else:
        summary = summarize_run(run)
        if jsonl:
            render.jsonl_summary(run, summary)
        elif quiet:
            print(run.path)
        else:
            print_summary(run, summary, console.out)
    if run.interrupted:
        raise typer.Exit(130)
    partial = render.partial_line(run)
    if partial:
        console.err.print(partial, markup=False, soft_wrap=True)
        raise typer.Exit(1)


def locust_worker(
    master: Annotated[
        str,
        typer.Option("--master", help="HOST:PORT of the master a `probe --engine locust --master-bind` printed."),
    ],
) -> None:
    """Join a distributed probe as one Locust worker: send its share of the load, record every request."""
    from tracehound.errors import EngineUnavailable
    from tracehound.probe.distributed import INSTALL_HINT, locust_available, parse_bind, worker_argv

    parse_bind(master)
    if not locust_available():
        raise EngineUnavailable("the locust engine needs Locust, which is not installed", hint=INSTALL_HINT)
    argv = worker_argv(master)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # this process becomes the worker: Ctrl-C reaches it directly


def show(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    jsonl: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """Print the summary of a recorded run."""
    from tracehound.probe import Run
    from tracehound.probe.summary import summarize_run
    from tracehound.run_view import print_summary

    run = Run.load(run_dir)
    s = summarize_run(run)
    if jsonl:
        print(json.dumps({"run": str(run.path), "interrupted": run.interrupted, **s.to_dict()}))
    else:
        print_summary(run, s, console.out)
