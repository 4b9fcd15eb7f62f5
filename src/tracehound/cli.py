"""The ``tracehound`` command: parses, calls, prints. Logic lives in the library modules."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tracehound import __version__
from tracehound.errors import TracehoundError


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """ClickException, Abort and NoArgsIsHelpError from click and from typer's vendored copy."""
    mods = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            mods.append(__import__(name, fromlist=["x"]))
        except ImportError:
            pass
    pick = lambda attr: tuple(getattr(m, attr) for m in mods if hasattr(m, attr))  # noqa: E731
    return pick("ClickException"), pick("Abort"), pick("NoArgsIsHelpError")


_CLICK_ERRORS, _ABORTS, _NO_ARGS = _click_exceptions()

app = typer.Typer(
    name="tracehound",
    help="Reproduce, diagnose and verify intermittent failures of web APIs.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


def _version(value: bool) -> None:
    if value:
        print(f"tracehound {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


@app.command("probe")
def probe_cmd(
    url: Annotated[str | None, typer.Argument(help="Target URL (with --flow: the base URL).")] = None,
    method: Annotated[str | None, typer.Option("-X", "--method", help="HTTP method (default GET, POST with a body).")] = None,
    header: Annotated[list[str], typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")] = [],
    data: Annotated[str | None, typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[str | None, typer.Option("--json", help="JSON request body (sets Content-Type); @file reads a file.")] = None,
    concurrency: Annotated[int, typer.Option("-c", "--concurrency", help="Virtual users (closed model); connection cap (open model).")] = 1,
    requests: Annotated[int | None, typer.Option("-n", "--requests", help="Total requests to send.")] = None,
    duration: Annotated[str | None, typer.Option("-d", "--duration", help="How long to send, e.g. 30s, 2m.")] = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Open model: requests per second at constant arrival rate.")] = None,
    open_model: Annotated[bool, typer.Option("--open", help="With --stages: ramp the arrival rate instead of the VU count.")] = False,
    stages: Annotated[str | None, typer.Option("--stages", help="Ramps, e.g. 10s:5,30s:50 (10s:=5 jumps to 5 and holds).")] = None,
    max_requests: Annotated[int | None, typer.Option("--max-requests", help="Hard bound on requests (default 2,000,000).")] = None,
    max_duration: Annotated[str | None, typer.Option("--max-duration", help="Hard bound on the send window (default 30m).")] = None,
    max_connections: Annotated[int | None, typer.Option("--max-connections", help="Open model: cap on open connections (default -c, or 1000).")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-request timeout.")] = "10s",
    connect_timeout: Annotated[str, typer.Option("--connect-timeout", help="Connect (and TLS handshake) timeout.")] = "3s",
    no_keepalive: Annotated[bool, typer.Option("--no-keepalive", help="A new connection for every request.")] = False,
    insecure: Annotated[bool, typer.Option("-k", "--insecure", help="Do not verify TLS certificates.")] = False,
    cacert: Annotated[Path | None, typer.Option("--cacert", help="CA bundle to verify TLS with.")] = None,
    record_header: Annotated[list[str], typer.Option("--record-header", help="Also record this response header (repeatable).")] = [],
    flow: Annotated[Path | None, typer.Option("--flow", help="Flow file (YAML): setup steps and steps with captures.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Processes to spread the load over (locust: local worker processes).")] = 1,
    engine: Annotated[str, typer.Option("--engine", help="native (default) or locust: Locust's master and workers, across machines if needed.")] = "native",
    master_bind: Annotated[str | None, typer.Option("--master-bind", help="Locust: HOST:PORT the master listens on for workers (default 127.0.0.1 and a free port).")] = None,
    remote_workers: Annotated[int, typer.Option("--remote-workers", help="Locust: workers on other machines to wait for (needs --master-bind).")] = 0,
    wait_workers: Annotated[str, typer.Option("--wait-workers", help="Locust: how long to wait for remote workers to connect.")] = "2m",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run folder (default .tracehound/runs/<UTC time>-<slug>).")] = None,
    label: Annotated[str | None, typer.Option("--label", help="Name used in the run folder.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the run folder.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Progress and summary as JSON lines on stdout.")] = False,
) -> None:
    """Fire controlled HTTP load at a target and record every request, failures included."""
    from tracehound.errors import BadTarget
    from tracehound.flow import Flow
    from tracehound.probe import LoadShape, ProbeConfig, Target, parse_duration, parse_stages, probe
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
    flow_obj = Flow.load(flow) if flow else None
    target = None
    if flow_obj is None:
        if not url:
            raise BadTarget("give a URL to probe (or --flow FILE)")
        target = Target.parse(url, method, header, data, json_body)
    elif header or data or json_body or method:
        raise BadTarget("with --flow, put methods, headers and bodies in the flow's steps")
    config = ProbeConfig(
        shape=shape,
        target=target,
        flow=flow_obj,
        base_url=url,
        timeout=parse_duration(timeout),
        connect_timeout=parse_duration(connect_timeout),
        keepalive=not no_keepalive,
        insecure=insecure,
        ca_file=str(cacert) if cacert else None,
        record_headers=tuple(record_header),
        workers=workers,
        engine=engine.lower(),
        master_bind=master_bind,
        remote_workers=remote_workers,
        wait_workers=parse_duration(wait_workers),
        out=out_dir,
        label=label,
    )
    shape.validate()
    config.endpoint()
    notice = lambda line: err.print(line, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    if jsonl:
        run = probe(config, on_progress=_jsonl_progress, on_notice=notice)
    elif quiet or not err.is_terminal:
        run = probe(config, on_notice=notice)
    else:
        with Live(Text("starting…"), console=err, refresh_per_second=4, transient=True) as live:
            run = probe(config, on_progress=lambda p: live.update(_progress_view(p)),
                        on_notice=lambda line: live.console.print(line, markup=False, highlight=False))
    _finish(run, quiet=quiet, jsonl=jsonl)


@app.command("locust-worker")
def locust_worker_cmd(
    master: Annotated[str, typer.Option("--master", help="HOST:PORT of the master a `probe --engine locust --master-bind` printed.")],
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


def _jsonl_progress(p: object) -> None:
    d = {k: v for k, v in vars(p).items() if k != "window_ms"}
    print(json.dumps({"type": "progress", **d}), flush=True)


def _progress_view(p: object) -> Text:
    from tracehound.probe import Progress

    assert isinstance(p, Progress)
    planned = f"/{p.planned_s:.0f}s" if p.planned_s else "s"
    t = Text()
    t.append(f"{p.elapsed_s:6.1f}{planned}  ", style="dim")
    t.append(f"{p.completed:,} requests  ")
    t.append(f"{p.rps:,.0f} req/s  ", style="bold")
    t.append(f"{p.inflight} in flight  ")
    if p.p50_ms is not None:
        t.append(f"p50 {p.p50_ms:.1f} ms  p99 {p.p99_ms:.1f} ms  ")
    if p.failed:
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(p.failures.items(), key=lambda kv: -kv[1]))
        t.append(f"failed {p.failed:,} ({kinds})", style="red")
    else:
        t.append("no failures", style="green")
    return t


def _finish(run: object, quiet: bool, jsonl: bool) -> None:
    from tracehound.probe import Run
    from tracehound.probe.summary import summarize_run

    assert isinstance(run, Run)
    if quiet and not jsonl:
        print(run.path)  # scripts get the folder; reading the records back is theirs to choose
        if run.interrupted:
            raise typer.Exit(130)
        _partial_exit(run)
        return
    summary = summarize_run(run)
    if jsonl:
        d = summary.to_dict()
        for key in ("latency_ok", "latency_failed"):
            if d.get(key):
                d[key].pop("histogram", None)
        print(json.dumps({"type": "summary", "run": str(run.path), "interrupted": run.interrupted, **d}), flush=True)
    elif quiet:
        print(run.path)
    else:
        print_summary(run, summary)
    if run.interrupted:
        raise typer.Exit(130)
    _partial_exit(run)


def _partial_exit(run: object) -> None:
    """A run that lost a Locust worker is kept, said to be partial, and exits 1."""
    meta = getattr(run, "meta", {})
    if meta.get("partial"):
        err.print(f"tracehound: partial run: {meta.get('partial_reason')}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"


def print_summary(run: object, s: object) -> None:
    """The run summary as a person reads it."""
    from tracehound.probe import Run, Summary

    assert isinstance(run, Run) and isinstance(s, Summary)
    meta = run.meta
    target = meta.get("target", {})
    shape = meta.get("shape", {})
    state = "[bold red]INTERRUPTED[/]" if run.interrupted else ("[bold red]PARTIAL[/]" if meta.get("partial") else "complete")
    out.print(f"[bold]Run[/] {run.path}  ({state})")
    what = target.get("method", "FLOW") + " " + str(target.get("url", ""))
    if "flow" in target:
        what = f"flow {target['flow'].get('source')} on {target.get('url')}"
    load = (
        f"open model, {shape.get('rate') or 'staged'} req/s"
        if shape.get("model") == "open"
        else ("closed model, staged VUs" if shape.get("stages") else f"closed model, {shape.get('concurrency')} VUs")
    )
    if shape.get("model") == "imported":
        imp = meta.get("import", {})
        load = f"imported from {imp.get('format')} file {imp.get('file')}"
        what = str(target.get("method", "")) + " " + str(target.get("url") or f"{target.get('distinct_urls', '?')} URLs")
    if shape.get("stages"):
        load += ", stages " + ",".join(f"{st['duration_s']:g}s:{'' if st['ramp'] else '='}{st['target']:g}" for st in shape["stages"])
    if meta.get("engine") == "locust":
        load += f", on Locust ({(meta.get('locust') or {}).get('workers', '?')} workers)"
    out.print(f"[bold]Target[/] {what}  ·  {load}  ·  {s.duration_s:.2f}s")
    rate = f"{s.achieved_rps:,.1f} req/s achieved"
    if s.intended_rps:
        rate += f" (intended {s.intended_rps:,.1f}, {100 * s.achieved_rps / s.intended_rps:.1f}%)"
    fail_style = "red" if s.failed else "green"
    out.print(
        f"[bold]Requests[/] {s.requests:,}  ok {s.ok:,}  [{fail_style}]failed {s.failed:,} "
        f"({100 * s.failure_rate:.2f}%)[/]" + (f"  cancelled {s.cancelled:,}" if s.cancelled else "") + f"  ·  {rate}"
    )
    if meta.get("import", {}).get("time_base") == "relative":
        out.print("[dim]Times are relative to the start of the imported run (the format has no clock time).[/]")
    if shape.get("model") == "open":
        out.print(
            f"[bold]Schedule[/] late {s.late:,} (sent >10 ms after intended)  dropped {s.dropped:,}  "
            f"send lag p99 {_ms(s.send_lag_p99_ms)} ms"
        )
    out.print(
        f"[bold]Connections[/] {s.connections:,} opened  ·  {100 * s.reused_fraction:.1f}% of requests on a reused connection"
    )
    t = Table(title=None, box=None, pad_edge=False, show_edge=False)
    t.add_column("latency ms", style="bold")
    cols = ["count", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"]
    for c in cols:
        t.add_column(c, justify="right")
    for name, lat in (("ok", s.latency_ok), ("failed", s.latency_failed)):
        if lat is None:
            continue
        p = lat.percentiles_ms
        t.add_row(
            name,
            f"{lat.count:,}",
            _ms(lat.mean_ms),
            *(_ms(p.get(k)) for k in ("p50", "p90", "p95", "p99", "p99.9")),
            _ms(lat.max_ms),
        )
    out.print(t)
    if s.status_counts:
        total = max(sum(s.status_counts.values()), 1)
        parts = ", ".join(f"{k}: {v:,} ({100 * v / total:.1f}%)" for k, v in sorted(s.status_counts.items()))
        out.print(f"[bold]Status[/] {parts}")
    if s.error_kinds:
        out.print("[bold]Error kinds[/] " + ", ".join(f"{k}: {v:,}" for k, v in sorted(s.error_kinds.items(), key=lambda kv: -kv[1])))
    if s.errors:
        out.print("[bold]Errors[/]")
        for e in s.errors:
            out.print(f"  {e['count']:>8,}  {e['message']}", markup=False)


@app.command("investigate")
def investigate_cmd(
    url: Annotated[str | None, typer.Argument(help="Target URL (with --flow: the base URL).")] = None,
    method: Annotated[str | None, typer.Option("-X", "--method", help="HTTP method (default GET, POST with a body).")] = None,
    header: Annotated[list[str], typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")] = [],
    data: Annotated[str | None, typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[str | None, typer.Option("--json-body", "--json", help="JSON request body; @file reads a file.")] = None,
    flow: Annotated[Path | None, typer.Option("--flow", help="Flow file: the URL is the base URL, the last step the target.")] = None,
    code: Annotated[Path | None, typer.Option("--code", help="The service's source folder.")] = None,
    logs: Annotated[list[Path], typer.Option("--logs", help="A log file of the service (repeatable).")] = [],
    db: Annotated[str | None, typer.Option("--db", help="PostgreSQL DSN (read-only use).")] = None,
    redis: Annotated[str | None, typer.Option("--redis", help="Redis URL (read-only use).")] = None,
    metrics: Annotated[str | None, typer.Option("--metrics", help="Prometheus metrics URL to scrape.")] = None,
    prometheus: Annotated[str | None, typer.Option("--prometheus", help="A Prometheus server scraping the service: read its series over the experiments' window.")] = None,
    browser: Annotated[str | None, typer.Option("--browser", help="Page URL to load in headless Chromium.")] = None,
    har: Annotated[list[Path], typer.Option("--har", help="A HAR file exported from a browser (repeatable).")] = [],
    access_log: Annotated[list[Path], typer.Option("--access-log", help="A production access log (nginx, Apache, ALB, CloudFront, JSON lines) or its import folder (repeatable).")] = [],
    symptom: Annotated[str | None, typer.Option("--symptom", help="The symptom as reported, for the report.")] = None,
    budget: Annotated[str, typer.Option("--budget", help="Time for the whole investigation (seconds, or 90s, 2m).")] = "120",
    max_concurrency: Annotated[int, typer.Option("--max-concurrency", help="Peak concurrent users the service should take; no experiment goes beyond.")] = 32,
    max_rate: Annotated[float | None, typer.Option("--max-rate", help="Peak requests/s clients send: sweep arrival rates up to it instead of users.")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-request timeout.")] = "10s",
    engine: Annotated[str, typer.Option("--engine", help="Load engine of the load experiments: native or locust (baseline, low-rate and idle-gap stay native).")] = "native",
    workers: Annotated[int, typer.Option("--workers", help="With --engine locust: local Locust worker processes.")] = 2,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for report.json and the runs (default .tracehound/runs/<time>-investigation).")] = None,
    as_json: Annotated[bool, typer.Option("--json-report", help="Print report.json to stdout instead of the summary.")] = False,
) -> None:
    """Find why a request fails intermittently: experiments, analysis, ranked causes with evidence."""
    from tracehound.case import Case, Sources
    from tracehound.errors import BadTarget, EngineUnavailable, OutputNotWritable
    from tracehound.flow import Flow
    from tracehound.orchestrator import investigate
    from tracehound.probe import Target, parse_duration

    flow_obj = Flow.load(flow) if flow else None
    target = None
    if flow_obj is None:
        if not url:
            raise BadTarget("give a URL to investigate (or --flow FILE with the base URL)")
        target = Target.parse(url, method, header, data, json_body)
    elif header or data or json_body or method:
        raise BadTarget("with --flow, put methods, headers and bodies in the flow's steps")
    for f in [*logs, *har]:
        if not f.is_file():
            raise BadTarget(f"cannot read {str(f)!r}: no such file")
    for f in access_log:
        if not f.exists():
            raise BadTarget(f"cannot read {str(f)!r}: no such file")
    if code is not None and not code.is_dir():
        raise BadTarget(f"--code {str(code)!r} is not a folder")
    case = Case(target=target, flow=flow_obj, base_url=url if flow_obj else None,
                sources=Sources(logs=list(logs), db=db, redis=redis, code=code, metrics=metrics, browser=browser,
                                har=list(har), prometheus=prometheus),
                budget_s=parse_duration(budget if budget[-1:].isalpha() else budget + "s"),
                max_concurrency=max_concurrency, max_rate=max_rate, timeout_s=parse_duration(timeout),
                symptom=symptom, engine=engine.lower(), workers=workers if engine.lower() == "locust" else 1)
    if engine.lower() == "locust":
        from tracehound.probe.distributed import INSTALL_HINT, locust_available

        if not locust_available():
            raise EngineUnavailable("the locust engine needs Locust, which is not installed", hint=INSTALL_HINT)
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputNotWritable(f"cannot create {str(out_dir)!r}: {e.strerror or e}") from None
    inv = investigate(case, out_dir, on_event=lambda m: err.print(m, style="dim", markup=False, highlight=False))
    if as_json:
        print(inv.report_path.read_text(), end="")
    else:
        print_investigation(inv)


@app.command("verify")
def verify_cmd(
    source: Annotated[Path, typer.Argument(help="An investigation (its folder or report.json), or a run folder.")],
    url: Annotated[str | None, typer.Argument(help="Rerun against this URL instead of the recorded one (with --flow: the base URL).")] = None,
    candidate: Annotated[Path | None, typer.Option("--candidate", help="Compare with this run instead of sending load.")] = None,
    slo: Annotated[str | None, typer.Option("--slo", help="Criteria, e.g. 'error_rate<1%,p95<500ms,p99<1s' (default: the catalog's for the top cause).")] = None,
    method: Annotated[str | None, typer.Option("-X", "--method", help="HTTP method of the target given.")] = None,
    header: Annotated[list[str], typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")] = [],
    data: Annotated[str | None, typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[str | None, typer.Option("--json-body", "--json", help="JSON request body; @file reads a file.")] = None,
    flow: Annotated[Path | None, typer.Option("--flow", help="Flow file to rerun (the URL is its base URL).")] = None,
    timeout: Annotated[str | None, typer.Option("--timeout", help="Per-request timeout (default: the original's).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the new runs and verify.json.")] = None,
    as_json: Annotated[bool, typer.Option("--json-result", help="Print verify.json's content instead of the table.")] = False,
) -> None:
    """Did the fix work? Rerun what failed (or compare two runs) and hold it to an SLO: exit 0 if it holds, 1 if not."""
    from tracehound.errors import BadTarget
    from tracehound.flow import Flow
    from tracehound.probe import Target, parse_duration
    from tracehound.verify import TargetOverride, verify

    override = TargetOverride()
    if flow is not None:
        if header or data or json_body or method:
            raise BadTarget("with --flow, put methods, headers and bodies in the flow's steps")
        override = TargetOverride(flow=Flow.load(flow), url=url)
    elif header or data or json_body or method:
        if not url:
            raise BadTarget("give the URL the headers and body go with")
        override = TargetOverride(target=Target.parse(url, method, header, data, json_body))
    elif url:
        override = TargetOverride(url=url)
    v = verify(source, candidate, slo, override, out_dir, parse_duration(timeout) if timeout else None,
               on_event=lambda m: err.print(m, style="dim", markup=False, highlight=False))
    if as_json:
        print(json.dumps(v.to_dict(), indent=2))
    else:
        print_verification(v)
    raise typer.Exit(0 if v.passed else 1)


def print_verification(v: object) -> None:
    """Before and after, per experiment, then each criterion with its verdict."""
    from tracehound.verify import Verification

    assert isinstance(v, Verification)
    t = Table(box=None, pad_edge=False)
    t.add_column("experiment", overflow="fold")
    for side in ("before", "after"):
        t.add_column(f"{side}: n", justify="right", no_wrap=True)
        for col in ("errors", "p95", "p99"):
            t.add_column(col, justify="right", no_wrap=True)

    def cells(s: object) -> list[str]:
        if s is None:
            return ["-"] * 4
        p95, p99 = s.percentiles_ms.get("p95"), s.percentiles_ms.get("p99")  # type: ignore[attr-defined]
        return [f"{s.requests:,}", f"{s.error_rate:.1%}", _fmt_ms(p95), _fmt_ms(p99)]  # type: ignore[attr-defined]

    for r in v.rows:
        t.add_row(r.name, *cells(r.before), *cells(r.after))
    if len(v.rows) > 1:
        t.add_row("[bold]all[/]", *cells(v.before), *cells(v.after))
    out.print(t)
    out.print(f"SLO {v.slo.text()} (from {v.slo_from}):", markup=False, highlight=False)
    for c in v.checks:
        value = "-" if c.value is None else (f"{c.value:.2%}" if c.criterion.key == "error_rate" else _fmt_ms(c.value))
        mark = "[green]✓[/]" if c.ok else "[red]✗[/]"
        out.print(f"  {mark} {c.criterion.text()}: {value}", highlight=False)
    verdict = "[bold green]PASS[/]: the SLO holds" if v.passed else "[bold red]FAIL[/]: the SLO does not hold"
    out.print(verdict + (f"  ({v.out})" if v.out else ""), highlight=False)


def _fmt_ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def print_investigation(inv: object) -> None:
    """The ranked hypotheses, as a person reads them."""
    from tracehound.orchestrator import Investigation

    assert isinstance(inv, Investigation)
    if inv.verdict == "not_reproduced":
        out.print(Text.assemble(("not reproduced", "bold yellow"),
                                f": {inv.requests} requests over {len(inv.experiments)} experiments, "
                                f"{inv.failures} failed. No cause is named."))
        for step in inv.next_steps:
            out.print(f"  • {step}", markup=False)
    else:
        out.print(Text.assemble(("reproduced", "bold red"),
                                f": {inv.failures} of {inv.requests} requests failed ({inv.failure_rate:.1%}) "
                                f"over {len(inv.experiments)} experiments in {inv.seconds:.0f} s"))
        t = Table(box=None, pad_edge=False)
        t.add_column("#", justify="right")
        t.add_column("failure mode", style="bold", no_wrap=True)
        t.add_column("confidence", justify="right")
        t.add_column("strongest evidence", overflow="fold")
        for i, h in enumerate(inv.hypotheses[:5], 1):
            ev = "; ".join(f"{e.signal} {e.points:+.1f}" for e in (h.evidence_for[:2] + h.evidence_against[:1]))
            t.add_row(str(i), h.id, f"{h.confidence:.0%}", ev)
        out.print(t)
        if inv.hypotheses:
            out.print(f"Why {inv.hypotheses[0].id}:", style="bold")
            for line in inv.hypotheses[0].explain():
                out.print(f"  {line}", markup=False)
    skipped = [a for a in inv.agents if a.status != "ok"]
    for a in skipped:
        out.print(f"  {a.name}: {a.status}: {a.detail}", style="dim", markup=False)
    if inv.report_error:
        out.print(f"Report: {inv.out / 'report.json'} (report.html not written: {inv.report_error})", markup=False)
    else:
        out.print(f"Report: {inv.out / 'report.html'}", markup=False)
        out.print(f"        {inv.out / 'report.md'}, {inv.out / 'report.json'}", markup=False, style="dim")


@app.command("gen-test")
def gen_test_cmd(
    report: Annotated[Path, typer.Argument(help="An investigation (its folder or report.json), or a run folder.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The test file to write, e.g. tests/test_regression_orders.py.")],
    env_var: Annotated[str, typer.Option("--env-var", help="Environment variable the test reads the service's base URL from.")] = "TRACEHOUND_TARGET_URL",
    slo: Annotated[str | None, typer.Option("--slo", help="Criteria to assert, e.g. 'error_rate<1%,p95<500ms' (default: the catalog's for the top cause).")] = None,
    flow: Annotated[Path | None, typer.Option("--flow", help="The flow file, when the one the investigation ran is gone.")] = None,
    header: Annotated[list[str], typer.Option("-H", "--header", help="A header of the original request, 'Name: value' (repeatable); reports do not keep them.")] = [],
    data: Annotated[str | None, typer.Option("--data", help="The original request's body; @file reads a file.")] = None,
    json_body: Annotated[str | None, typer.Option("--json-body", "--json", help="The original request's JSON body; @file reads a file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the test file if it exists.")] = False,
) -> None:
    """Write a pytest regression test that replays the load that broke the service and asserts the SLO."""
    from tracehound.gentest import write_test

    t = write_test(report, output, env_var=env_var, slo=slo, flow=flow, headers=header, data=data,
                   json_body=json_body, force=force)
    out.print(f"wrote {t.path}: {t.replay.experiment} again ({t.replay.load_words}), asserting {t.slo.text()}",
              markup=False, highlight=False, soft_wrap=True)
    needs = " ".join(f"{n}=…" for n in t.needs[1:])
    out.print(f"run it: {t.env_var}=http://127.0.0.1:8000 {needs + ' ' if needs else ''}pytest {t.path}",
              markup=False, highlight=False, soft_wrap=True)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="File to import: HAR, hey CSV, k6 JSON, vegeta JSON, request CSV, or an access log (nginx, Apache, ALB, CloudFront, JSON lines; gzip too).")],
    fmt: Annotated[str, typer.Option("--format", help="auto|har|hey|k6|vegeta|csv|nginx|apache|alb|cloudfront|jsonl")] = "auto",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run folder to create.")] = None,
    mapping: Annotated[str | None, typer.Option("--map", help="JSON-lines access logs: which key holds each field, e.g. time=ts,status=code,path=uri,latency_ms=dur.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the run folder.")] = False,
) -> None:
    """Turn another tool's output or an access log into a run folder (access logs: partitioned Parquet)."""
    from tracehound.access import import_access_log, parse_mapping
    from tracehound.access.claim import is_access_log

    if is_access_log(file, fmt):
        imp = import_access_log(file, fmt, out_dir, parse_mapping(mapping),
                                on_progress=None if quiet else _import_progress())
        if quiet:
            print(imp.path)
        else:
            print_access_import(imp)
        return
    from tracehound.probe.importers import import_file
    from tracehound.probe.summary import summarize_run

    run = import_file(file, fmt, out_dir)
    if quiet:
        print(run.path)
    else:
        print_summary(run, summarize_run(run))


def _import_progress():
    """Progress of an access-log import on stderr: one updating line on a terminal, every 10 % otherwise."""
    tty = err.is_terminal
    last = [-1]

    def show(done: float) -> None:
        pct = int(done * 100)
        if tty:
            sys.stderr.write(f"\rimporting… {pct:3d}%" + ("\n" if pct >= 100 else ""))
            sys.stderr.flush()
        elif pct // 10 > last[0]:
            last[0] = pct // 10
            err.print(f"importing… {pct}%", style="dim", markup=False)

    return show


def print_access_import(imp: object) -> None:
    m = imp.meta["import"]
    out.print(f"[bold]Imported[/] {m['rows']:,} requests from {m['file']} ({m['format']}"
              + (", gzip" if m.get("compression") == "gzip" else "") + f"), {m['bytes'] / 1e6:,.1f} MB in "
              f"{m['seconds']:.1f} s ({m['mb_per_s']:.0f} MB/s)", highlight=False, soft_wrap=True)
    if m.get("first"):
        out.print(f"[bold]Time[/] {m['first']} → {m['last']}", highlight=False)
    if m.get("bad_lines"):
        out.print(f"[bold]Bad lines[/] {m['bad_lines']:,} left out; the first:", highlight=False)
        for line in m.get("bad_examples") or []:
            out.print(f"  {line[:160]!r}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"[bold]Folder[/] {imp.path}", highlight=False)
    out.print(f"next: tracehound analyze {imp.path}", style="dim", markup=False, highlight=False)


@app.command("analyze")
def analyze_cmd(
    folder: Annotated[Path, typer.Argument(metavar="RUN_OR_IMPORT", help="A run folder, or an access-log import folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings and signals as JSON.")] = False,
) -> None:
    """Analyse recorded or imported traffic without probing: findings and signals."""
    from tracehound.access import ImportFolder

    if ImportFolder.holds(folder):
        from tracehound.agents.access_log import analyze_import

        kind = "import"
        res = analyze_import(ImportFolder.load(folder))
    else:
        from tracehound.agents.traffic import analyze
        from tracehound.probe import Run

        kind = "run"
        res = analyze([Run.load(folder)])
    from tracehound.diagnosis.rank import rank

    # The catalog ranks causes from these signals alone, as investigate does from all its agents'.
    hyps = rank(res.signals, res.tested, res.failures)
    if as_json:
        print(json.dumps({"path": str(folder), "kind": kind, "requests": res.requests, "failures": res.failures,
                          "detail": res.detail, "tested": sorted(set(res.tested)),
                          "signals": [s.to_dict() for s in res.signals],
                          "findings": [f.to_dict() for f in res.findings],
                          "hypotheses": [h.to_dict() for h in hyps[:5]]}, indent=2))
        return
    _print_agent_findings(res.detail, res.findings)
    if hyps:
        out.print("\nLikely causes, from this evidence alone (tracehound explain ID)", style="bold", markup=False)
        for i, h in enumerate(hyps[:3], 1):
            why = ", ".join(e.signal for e in h.evidence_for[:3])
            out.print(f"  {i}. {h.id} ({h.confidence:.0%}) {h.title}" + (f": {why}" if why else ""),
                      markup=False, highlight=False, soft_wrap=True)


@app.command("show")
def show_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    jsonl: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """Print the summary of a recorded run."""
    from tracehound.probe import Run
    from tracehound.probe.summary import summarize_run

    run = Run.load(run_dir)
    s = summarize_run(run)
    if jsonl:
        d = s.to_dict()
        print(json.dumps({"run": str(run.path), "interrupted": run.interrupted, **d}))
    else:
        print_summary(run, s)


@app.command("report")
def report_cmd(
    folder: Annotated[Path, typer.Argument(help="An investigation folder (it holds report.json).")],
    open_: Annotated[bool, typer.Option("--open", help="Open report.html in the web browser afterwards.")] = False,
) -> None:
    """Render an investigation's report.md and self-contained report.html (again)."""
    from tracehound.report import write_report

    md, html = write_report(folder)
    print(md)
    print(html)
    if open_:
        import webbrowser

        if not webbrowser.open(html.resolve().as_uri()):
            err.print("no web browser to open it with; open the file above", style="dim", markup=False)


@app.command("demo")
def demo_cmd(
    duration: Annotated[str, typer.Option("-d", "--duration", help="How long to probe.")] = "8s",
    investigate: Annotated[bool, typer.Option("--investigate", help="Start the lab's demo scenario and investigate it (what `make demo` runs).")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="With --investigate: folder for report.json and the runs.")] = None,
) -> None:
    """Start the lab's demo scenario and probe it (with --investigate: investigate it)."""
    if not investigate:
        from tracehound.demo import run_demo

        run_demo(duration, out, err)
        return
    from tracehound import lab
    from tracehound.case import Case
    from tracehound.lab import servers
    from tracehound.orchestrator import investigate as run_investigation

    sc = lab.get_scenario("demo")
    err.print(f"starting the lab's demo scenario: {sc.symptom}", style="dim", markup=False)
    with lab.up(sc) as inst:
        cfg = sc.probe_config(inst.url)
        case = Case(target=cfg.target, symptom=sc.symptom, budget_s=90)
        try:
            inv = run_investigation(case, out_dir, on_event=lambda m: err.print(m, style="dim", markup=False, highlight=False))
        finally:
            servers.guard()
    print_investigation(inv)


@app.command("db")
def db_cmd(
    dsn: Annotated[str, typer.Argument(metavar="DSN", help="postgresql://user:password@host:port/db, or redis://[:password@]host:port/db.")],
    duration: Annotated[str, typer.Option("-d", "--duration", help="How long to sample (e.g. 10s, 2m).")] = "10s",
    interval: Annotated[float, typer.Option("--interval", help="Seconds between samples (0.05-60).")] = 0.5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Sample a PostgreSQL or Redis server for a while (read-only) and print what it shows."""
    from tracehound.errors import BadShape
    from tracehound.probe import parse_duration

    seconds = parse_duration(duration)
    if not 0 < seconds <= 86400:
        raise BadShape("--duration must be above 0 and at most 24h")
    if not 0.05 <= interval <= 60:
        raise BadShape("--interval must be between 0.05 and 60 seconds")
    if dsn.strip().lower().startswith(("redis://", "rediss://", "unix://")):
        from tracehound.agents.redis import inspect_redis as inspect
    else:
        from tracehound.agents.postgres import inspect_postgres as inspect
    err.print(f"sampling for {seconds:g} s every {interval:g} s (Ctrl-C stops early)", style="dim", markup=False)
    res = inspect(dsn, seconds, interval)
    if as_json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        out.print(f"{res.name}: {res.status}: {res.detail}", markup=False, highlight=False, soft_wrap=True)
        for f in res.findings:
            out.print(f"\n{f.title}", style="bold", markup=False)
            out.print(f"  {f.detail}", markup=False, highlight=False, soft_wrap=True)
            for s in f.signals:
                out.print(f"  signal {s.name} ({s.strength:.2f})", style="cyan", markup=False)
            for e in f.exemplars[:5]:
                out.print(f"    · {e}", markup=False, highlight=False, soft_wrap=True)
    if res.status == "failed":
        raise typer.Exit(3)


@app.command("metrics")
def metrics_cmd(
    url: Annotated[str, typer.Argument(metavar="URL", help="A Prometheus text endpoint (…/metrics); with --prometheus, a Prometheus server.")],
    duration: Annotated[str, typer.Option("-d", "--duration", help="How long to scrape (e.g. 10s, 2m).")] = "10s",
    interval: Annotated[float, typer.Option("--interval", help="Seconds between scrapes (0.05-60).")] = 0.5,
    prometheus: Annotated[bool, typer.Option("--prometheus", help="URL is a Prometheus server: read its stored series instead of scraping.")] = False,
    since: Annotated[str | None, typer.Option("--since", metavar="T", help="With --prometheus: from then (ISO time, epoch seconds, or 30m ago).")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="T", help="With --prometheus: up to then (default: now).")] = None,
    run: Annotated[list[Path], typer.Option("--run", metavar="RUN", help="With --prometheus: a run folder whose requests the series are lined up with (repeatable).")] = [],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Read a service's Prometheus metrics (pool, event-loop lag, CPU, memory) and print what they show."""
    import asyncio
    import time as _time

    from tracehound.agents.metrics import inspect_metrics, prometheus_agent
    from tracehound.errors import BadLogOption, BadShape
    from tracehound.logs import parse_bound
    from tracehound.probe import Run, parse_duration

    if prometheus:
        try:
            lo = parse_bound(since) if since else None
            hi = parse_bound(until) if until else (None if run else _time.time_ns())
        except ValueError as e:
            raise BadLogOption(str(e)) from None
        runs = [Run.load(r) for r in run]
        if lo is None and not runs:
            raise BadShape("with --prometheus, give --since (or --run RUN to take the window from)")
        res = asyncio.run(prometheus_agent(url, runs, lo, hi))
    else:
        if since or until or run:
            raise BadShape("--since, --until and --run go with --prometheus; a live scrape reads from now on")
        seconds = parse_duration(duration)
        if not 0 < seconds <= 86400:
            raise BadShape("--duration must be above 0 and at most 24h")
        if not 0.05 <= interval <= 60:
            raise BadShape("--interval must be between 0.05 and 60 seconds")
        err.print(f"scraping for {seconds:g} s every {interval:g} s (Ctrl-C stops early)", style="dim", markup=False)
        res = inspect_metrics(url, seconds, interval)
    if as_json:
        print(json.dumps(res.to_dict(), indent=2))
    else:
        out.print(f"{res.name}: {res.status}: {res.detail}", markup=False, highlight=False, soft_wrap=True)
        for f in res.findings:
            out.print(f"\n{f.title}", style="bold", markup=False)
            out.print(f"  {f.detail}", markup=False, highlight=False, soft_wrap=True)
            for s in f.signals:
                out.print(f"  signal {s.name} ({s.strength:.2f})", style="cyan", markup=False)
            for e in f.exemplars[:5]:
                out.print(f"    · {e}", markup=False, highlight=False, soft_wrap=True)
    if res.status == "failed":
        raise typer.Exit(3)


@app.command("explain")
def explain_cmd(
    mode_id: Annotated[str | None, typer.Argument(metavar="ID", help="A failure-mode id (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List every failure mode with its title.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entry (or the list) as JSON.")] = False,
) -> None:
    """Explain a failure mode: what it is, the evidence for and against it, fixes, checks, references."""
    from rich.markdown import Markdown

    from tracehound.diagnosis.catalog import get, load_catalog

    catalog = load_catalog()
    if list_ or mode_id is None:
        if as_json:
            print(json.dumps([{"id": m.id, "title": m.title, "prior": m.prior} for m in catalog.values()], indent=2))
            return
        t = Table(box=None, pad_edge=False, show_edge=False)
        t.add_column("id", style="bold", no_wrap=True)
        t.add_column("failure mode", overflow="fold")
        for m in catalog.values():
            t.add_row(m.id, m.title)
        out.print(t)
        return
    mode = get(mode_id, catalog)
    if as_json:
        print(json.dumps(mode.to_dict(), indent=2))
    elif out.is_terminal:
        out.print(Markdown(mode.to_markdown()))
    else:
        print(mode.to_markdown(), end="")  # piped: the Markdown itself, for files and pagers


@app.command("review")
def review_cmd(
    path: Annotated[Path | None, typer.Argument(metavar="DIR", help="The service's code: a folder or one Python file.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text|json|sarif")] = "text",
    select: Annotated[str | None, typer.Option("--select", help="Only these rules, e.g. TH101,TH201.")] = None,
    rule_code: Annotated[str | None, typer.Option("--rule", metavar="CODE", help="Print a rule's page (or 'all' for the list) and exit.")] = None,
) -> None:
    """Review a Python web backend's code for what fails under load (exit 1 with findings, 0 without)."""
    from tracehound.review import FORMATS, BadCodePath, all_rules, get_rule, render, review

    if rule_code is not None:
        if rule_code.lower() == "all":
            for r in all_rules().values():
                print(f"{r.code}  {r.name:32} {r.summary}")
        else:
            print(get_rule(rule_code).to_markdown(), end="")
        return
    if path is None:
        raise BadCodePath("give the folder of the code to review", hint="tracehound review DIR")
    if fmt not in FORMATS:
        raise BadCodePath(f"unknown --format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    result = review(path, [c for c in select.split(",") if c.strip()] if select else None)
    for s in result.skipped:
        err.print(f"{s.path}: skipped: {s.reason}", markup=False, highlight=False, soft_wrap=True)
    for e, _ in result.errors:
        err.print(f"tracehound: internal error: {e}", markup=False, highlight=False, soft_wrap=True)
    print(render(result, fmt), end="")
    if result.violations:
        raise typer.Exit(1)


@app.command("logs")
def logs_cmd(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Log files or folders of them (text, JSON lines, logfmt; gzip too).")],
    since: Annotated[str | None, typer.Option("--since", metavar="T", help="Only events from then on: ISO time, epoch seconds, or 30m (ago).")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="T", help="Only events up to then (same forms as --since).")] = None,
    run: Annotated[list[Path], typer.Option("--run", metavar="RUN", help="A run folder to align the events with (repeatable).")] = [],
    tz: Annotated[str | None, typer.Option("--tz", metavar="ZONE", help="Zone of timestamps written without one (default: this machine's), e.g. UTC, Europe/Paris, +02:00.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    top: Annotated[int, typer.Option("--top", metavar="N", help="Templates to list per section.")] = 10,
) -> None:
    """Read service logs: templates, known failure signatures, and what sits around a run's failing requests."""
    from tracehound.errors import BadLogOption
    from tracehound.logs import analyze_logs, parse_bound, parse_zone
    from tracehound.probe import Run

    try:
        zone = parse_zone(tz)
        lo = parse_bound(since, zone) if since else None
        hi = parse_bound(until, zone) if until else None
    except ValueError as e:
        raise BadLogOption(str(e)) from None
    runs = [Run.load(r) for r in run]
    report = analyze_logs(files, lo, hi, runs, zone)
    for f in report.skipped:
        err.print(f"tracehound: skipped {f.path}: {f.skipped}", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    elif report.read:
        report.render(out, top)
    if not report.read:
        raise typer.Exit(2)


@app.command("mcp")
def mcp_cmd(
    runs_dir: Annotated[Path | None, typer.Option("--runs", help="Folder for the runs and investigations it makes (default .tracehound/runs).")] = None,
    allow_host: Annotated[list[str], typer.Option("--allow-host", help="Also send load to this host (repeatable; '*' for any). Default: this machine only.")] = [],
    max_duration: Annotated[str, typer.Option("--max-duration", help="Cap on one probe's send window.")] = "2m",
    max_requests: Annotated[int, typer.Option("--max-requests", help="Cap on one probe's requests.")] = 100_000,
    max_concurrency: Annotated[int, typer.Option("--max-concurrency", help="Cap on concurrent users or open connections.")] = 256,
    max_rate: Annotated[float, typer.Option("--max-rate", help="Cap on an open-model arrival rate (requests/s).")] = 2000.0,
    max_budget: Annotated[str, typer.Option("--max-budget", help="Cap on an investigation's budget, and on a verify rerun.")] = "5m",
    max_sample: Annotated[str, typer.Option("--max-sample", help="Cap on inspect_db's sampling time.")] = "2m",
) -> None:
    """Serve tracehound's tools to an AI assistant over stdio (Model Context Protocol), load capped as set here."""
    from tracehound.mcp_server import Limits, serve
    from tracehound.probe import parse_duration

    limits = Limits(max_duration_s=parse_duration(max_duration), max_requests=max_requests,
                    max_concurrency=max_concurrency, max_rate=max_rate, max_budget_s=parse_duration(max_budget),
                    max_sample_s=parse_duration(max_sample), hosts=tuple(allow_host))
    serve(limits, runs_dir)


@app.command("runs")
def runs_cmd(
    folder: Annotated[Path | None, typer.Argument(metavar="DIR", help="Where to look (default .tracehound/runs).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List past runs, investigations and verifications, newest first."""
    from tracehound.history import past_work

    work = past_work(folder)
    if as_json:
        print(json.dumps([w.to_dict() for w in work], indent=2))
        return
    if not work:
        err.print(f"nothing under {folder or '.tracehound/runs'} yet", style="dim", markup=False)
        return
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col, j in (("time (UTC)", "left"), ("kind", "left"), ("target", "left"), ("requests", "right"),
                   ("failed", "right"), ("verdict", "left"), ("path", "left")):
        t.add_column(col, justify=j, overflow="fold", no_wrap=col in ("time (UTC)", "kind"))
    for w in work:
        rate = w.failure_rate
        verdict = w.verdict or "-"
        if w.kind == "investigation" and w.detail:
            verdict += f": {w.detail}" + (f" {w.confidence:.0%}" if w.confidence is not None else "")
        elif w.kind == "verify" and w.detail:
            verdict += f" ({w.detail})"
        t.add_row((w.started_at or "")[:19].replace("T", " "), w.kind, w.target,
                  "-" if w.requests is None else f"{w.requests:,}", "-" if rate is None else f"{rate:.1%}",
                  Text(verdict, style="red" if w.verdict in ("reproduced", "fail", "interrupted") else ""),
                  str(w.path))
    _wide().print(t)


def _wide() -> Console:
    """The output console; piped, one wide enough that a table's rows stay whole lines (for grep)."""
    return out if out.is_terminal else Console(highlight=False, emoji=False, width=4000)


@app.command("sql")
def sql_cmd(
    query_text: Annotated[str, typer.Argument(metavar="SQL", help="A DuckDB query over the relations requests, runs and investigations.")],
    folder: Annotated[Path | None, typer.Option("--runs", help="Folder of the run folders (default .tracehound/runs).")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of rows.")] = False,
) -> None:
    """Query run folders with SQL (DuckDB): requests, runs and investigations, for the cuts no command makes."""
    import csv

    from tracehound.errors import BadRun
    from tracehound.query import query

    if folder is not None and not folder.is_dir():
        raise BadRun(f"{str(folder)!r} is not a folder")
    res = query(query_text, folder)
    if as_json:
        print(json.dumps(list(res.records()), indent=2, default=str))
    elif as_csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(res.columns)
        w.writerows(res.rows)
    else:
        shown = 1000
        t = Table(box=None, pad_edge=False, show_edge=False)
        for c in res.columns:
            t.add_column(c, overflow="fold")
        for row in res.rows[:shown]:
            t.add_row(*("NULL" if v is None else str(v) for v in row))
        _wide().print(t)
        if len(res.rows) > shown:
            err.print(f"{len(res.rows) - shown:,} more rows not shown: add LIMIT, or use --csv", style="dim", markup=False)


@app.command("browse")
def browse_cmd(
    page_url: Annotated[str, typer.Argument(metavar="PAGE_URL", help="The page a person opens (HTML), not the API behind it.")],
    times: Annotated[int, typer.Option("--times", "-n", help="How many times to load the page.")] = 10,
    wait_for: Annotated[str | None, typer.Option("--wait-for", metavar="SELECTOR", help="A CSS selector that shows the page is ready; a load where it never shows fails.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run folder (default .tracehound/runs/<UTC time>-browser-…).")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start every load with empty storage (default: keep cookies and localStorage, as a returning visitor).")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between loads.")] = 1.0,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds a load may take before it counts as hung.")] = 15.0,
    stop_after: Annotated[int | None, typer.Option("--stop-after", metavar="K", help="Stop once K loads have failed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the loads and findings as JSON.")] = False,
) -> None:
    """Load a page in headless Chromium again and again: failing calls behind it, console, errors shown, tokens."""
    from tracehound.agents.browser import browser_findings
    from tracehound.browser import browse
    from tracehound.errors import BadShape

    if not 1 <= times <= 1000:
        raise BadShape("--times must be between 1 and 1000")
    if not 0 <= interval <= 600 or not 0.5 <= timeout <= 600:
        raise BadShape("--interval must be 0-600 s and --timeout 0.5-600 s")
    if stop_after is not None and stop_after < 1:
        raise BadShape("--stop-after must be at least 1")

    def progress(load: object) -> None:
        reasons = load.reasons
        fresh_note = " (empty storage)" if load.fresh else ""
        line = f"load {load.index + 1}{fresh_note}: " + ("; ".join(reasons) if reasons else "ok")
        err.print(line, style="dim" if not reasons else None, markup=False, highlight=False, soft_wrap=True)

    result = browse(page_url, times, wait_for, out_dir, timeout, interval, fresh, stop_after,
                    None if as_json else progress)
    findings, tested, detail = browser_findings(result)
    if as_json:
        print(json.dumps({**result.to_dict(), "detail": detail, "tested": tested,
                          "findings": [f.to_dict() for f in findings]}, indent=2))
        return
    _print_agent_findings(f"browser: {detail}", findings)
    out.print(f"\nrun folder: {result.folder}", markup=False, highlight=False)


@app.command("har")
def har_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE.har", help="A HAR file (DevTools 'Save all as HAR', or one tracehound browse kept).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Inspect a HAR: failures per endpoint, timing phases, plateaus, expired or missing Authorization, CORS."""
    from tracehound.agents.har import inspect_har

    res = inspect_har(file)
    if as_json:
        print(json.dumps(res.to_dict(), indent=2))
        return
    _print_agent_findings(res.detail, res.findings)


def _print_agent_findings(headline: str, findings: list) -> None:
    """An agent's findings for a person: title, detail, signals and exemplars."""
    out.print(headline, markup=False, highlight=False, soft_wrap=True)
    for f in findings:
        out.print(f"\n{f.title}", style="bold", markup=False, highlight=False, soft_wrap=True)
        if f.detail:
            out.print(f"  {f.detail}", markup=False, highlight=False, soft_wrap=True)
        for s in f.signals:
            out.print(f"  signal {s.name} ({s.strength:.2f})", style="cyan", markup=False)
        for e in f.exemplars[:5]:
            out.print(f"    · {e}", markup=False, highlight=False, soft_wrap=True)


lab_app = typer.Typer(
    help="The lab: real services with one known cause of intermittent failure, and their fixed twins.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(lab_app, name="lab")


@lab_app.command("list")
def lab_list_cmd() -> None:
    """List the lab's scenarios."""
    from tracehound import lab

    t = Table(box=None, pad_edge=False, show_edge=False)
    t.add_column("scenario", style="bold", no_wrap=True)
    t.add_column("failure mode", no_wrap=True)
    t.add_column("symptom", overflow="fold")
    t.add_column("needs", no_wrap=True)
    for sc in lab.scenarios():
        t.add_row(sc.name, sc.failure_mode, sc.symptom, ", ".join(sc.needs) or "-")
    out.print(t)


@lab_app.command("up")
def lab_up_cmd(
    name: Annotated[str, typer.Argument(help="Scenario name (see `tracehound lab list`).")],
    fixed: Annotated[bool, typer.Option("--fixed", help="Start the fixed twin instead of the faulty version.")] = False,
    logs: Annotated[Path | None, typer.Option("--logs", help="Keep the logs in this folder (default: a temp folder, removed).")] = None,
) -> None:
    """Start a scenario on 127.0.0.1 and keep it up until Ctrl-C."""
    import time

    from tracehound import lab

    with lab.up(name, fixed=fixed, log_dir=logs) as inst:
        _print_instance(inst)
        out.print("[dim]Up. Ctrl-C stops everything.[/]")
        try:
            while not inst.dead():
                time.sleep(0.5)
        except KeyboardInterrupt:
            out.print("stopping…")
            return
        err.print(f"tracehound: error: {', '.join(inst.dead())} exited; see {inst.log_dir}", markup=False)
        raise typer.Exit(1)


def _load_text(load: dict) -> str:
    parts = []
    if "rate" in load:
        parts.append(f"{load['rate']} req/s")
    elif "stages" in load:
        parts.append(f"stages {load['stages']}")
    else:
        parts.append(f"{load.get('concurrency', 1)} VUs")
    if "duration" in load:
        parts.append(f"{load['duration']}s")
    return " for ".join(parts)


def _print_instance(inst: object) -> None:
    from tracehound.lab import Instance

    assert isinstance(inst, Instance)
    sc = inst.scenario
    version = "fixed twin" if inst.fixed else ("healthy control" if sc.healthy else "faulty version")
    out.print(Text.assemble((sc.name, "bold"), f" ({version}) — {sc.symptom}"))
    rows = [("URL", inst.url)]
    if len(inst.app_urls) > 1 or inst.app_urls[0] != inst.url:
        rows.append(("App", ", ".join(inst.app_urls)))
    rows += [(f"{k} log", str(v)) for k, v in inst.logs.items()]
    if inst.db_dsn:
        rows.append(("DB DSN", inst.db_dsn))
    elif inst.database_url:
        rows.append(("DB URL", inst.database_url))
    if inst.redis_url:
        rows.append(("Redis URL", inst.redis_url))
    rows += [(f"{k} URL", v) for k, v in inst.service_urls.items()]
    rows.append(("Code", str(inst.code_dir)))
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(k, v)
    out.print(t)


@lab_app.command("check")
def lab_check_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="Scenarios to check (default: all).")] = None,
    logs: Annotated[Path | None, typer.Option("--logs", help="Keep logs and run folders in this folder.")] = None,
) -> None:
    """Reproduce each scenario under its declared load; its fixed twin and the controls must not fail."""
    from tracehound import lab

    def progress(r: object) -> None:
        assert isinstance(r, lab.CheckResult)
        line = Text.assemble(("ok", "green") if r.ok else ("FAILED", "red"), f" {r.scenario}")
        if not r.ok:
            line.append(f": {r.error or '; '.join(r.problems)}")
        out.print(line)

    def starting(sc: object) -> None:
        assert isinstance(sc, lab.Scenario)
        what = "the control" if sc.healthy else "the faulty version, then the fixed twin"
        err.print(f"checking {sc.name}: {what}, {_load_text(sc.load)}…", style="dim", markup=False)

    results = lab.check(names or None, log_dir=logs, on_result=progress, on_start=starting)
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col, j in (("scenario", "left"), ("truth", "left"), ("faulty failure rate", "right"),
                   ("expected", "right"), ("twin failures", "right"), ("ok", "left")):
        t.add_column(col, justify=j)
    for r in results:
        f = r.faulty
        rate = f"{100 * f.failure_rate:.1f}% of {f.requests:,}" if f else "-"
        lo, hi = r.expected
        twin = "-" if r.healthy else (f"{r.twin.failed:,} of {r.twin.requests:,}" if r.twin else "?")
        t.add_row(r.scenario, r.failure_mode, rate, f"{100 * lo:.0f}–{100 * hi:.0f}%", twin,
                  "[green]yes[/]" if r.ok else "[red]no[/]")
    out.print()
    out.print(t)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line and a non-zero exit for every error a user can cause."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except TracehoundError as e:
        err.print(f"tracehound: error: {e.line()}", markup=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except _NO_ARGS:
        app(args=["--help"], standalone_mode=False)
        sys.exit(2)
    except _CLICK_ERRORS as e:
        err.print(f"tracehound: error: {e.format_message()}", markup=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except _ABORTS:
        err.print("tracehound: interrupted", markup=False)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("tracehound: interrupted", markup=False)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)
