"""The ``tracehound`` command: parses, calls, prints. Logic lives in the library modules."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

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
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


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
    url: Annotated[Optional[str], typer.Argument(help="Target URL (with --flow: the base URL).")] = None,
    method: Annotated[Optional[str], typer.Option("-X", "--method", help="HTTP method (default GET, POST with a body).")] = None,
    header: Annotated[list[str], typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")] = [],
    data: Annotated[Optional[str], typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[Optional[str], typer.Option("--json", help="JSON request body (sets Content-Type); @file reads a file.")] = None,
    concurrency: Annotated[int, typer.Option("-c", "--concurrency", help="Virtual users (closed model); connection cap (open model).")] = 1,
    requests: Annotated[Optional[int], typer.Option("-n", "--requests", help="Total requests to send.")] = None,
    duration: Annotated[Optional[str], typer.Option("-d", "--duration", help="How long to send, e.g. 30s, 2m.")] = None,
    rate: Annotated[Optional[float], typer.Option("--rate", help="Open model: requests per second at constant arrival rate.")] = None,
    open_model: Annotated[bool, typer.Option("--open", help="With --stages: ramp the arrival rate instead of the VU count.")] = False,
    stages: Annotated[Optional[str], typer.Option("--stages", help="Ramps, e.g. 10s:5,30s:50 (10s:=5 jumps to 5 and holds).")] = None,
    max_requests: Annotated[Optional[int], typer.Option("--max-requests", help="Hard bound on requests (default 2,000,000).")] = None,
    max_duration: Annotated[Optional[str], typer.Option("--max-duration", help="Hard bound on the send window (default 30m).")] = None,
    max_connections: Annotated[Optional[int], typer.Option("--max-connections", help="Open model: cap on open connections (default -c, or 1000).")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-request timeout.")] = "10s",
    connect_timeout: Annotated[str, typer.Option("--connect-timeout", help="Connect (and TLS handshake) timeout.")] = "3s",
    no_keepalive: Annotated[bool, typer.Option("--no-keepalive", help="A new connection for every request.")] = False,
    insecure: Annotated[bool, typer.Option("-k", "--insecure", help="Do not verify TLS certificates.")] = False,
    cacert: Annotated[Optional[Path], typer.Option("--cacert", help="CA bundle to verify TLS with.")] = None,
    record_header: Annotated[list[str], typer.Option("--record-header", help="Also record this response header (repeatable).")] = [],
    flow: Annotated[Optional[Path], typer.Option("--flow", help="Flow file (YAML): setup steps and steps with captures.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Processes to spread the load over.")] = 1,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Run folder (default .tracehound/runs/<UTC time>-<slug>).")] = None,
    label: Annotated[Optional[str], typer.Option("--label", help="Name used in the run folder.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the run folder.")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Progress and summary as JSON lines on stdout.")] = False,
) -> None:
    """Fire controlled HTTP load at a target and record every request, failures included."""
    from tracehound.flow import Flow
    from tracehound.probe import LoadShape, ProbeConfig, Target, parse_duration, parse_stages, probe
    from tracehound.probe.shapes import DEFAULT_MAX_DURATION, DEFAULT_MAX_REQUESTS
    from tracehound.errors import BadTarget

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
        out=out_dir,
        label=label,
    )
    shape.validate()
    config.endpoint()
    if jsonl:
        run = probe(config, on_progress=_jsonl_progress)
    elif quiet or not err.is_terminal:
        run = probe(config)
    else:
        with Live(Text("starting…"), console=err, refresh_per_second=4, transient=True) as live:
            run = probe(config, on_progress=lambda p: live.update(_progress_view(p)))
    _finish(run, quiet=quiet, jsonl=jsonl)


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
    state = "[bold red]INTERRUPTED[/]" if run.interrupted else "complete"
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
    url: Annotated[Optional[str], typer.Argument(help="Target URL (with --flow: the base URL).")] = None,
    method: Annotated[Optional[str], typer.Option("-X", "--method", help="HTTP method (default GET, POST with a body).")] = None,
    header: Annotated[list[str], typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")] = [],
    data: Annotated[Optional[str], typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[Optional[str], typer.Option("--json-body", "--json", help="JSON request body; @file reads a file.")] = None,
    flow: Annotated[Optional[Path], typer.Option("--flow", help="Flow file: the URL is the base URL, the last step the target.")] = None,
    code: Annotated[Optional[Path], typer.Option("--code", help="The service's source folder.")] = None,
    logs: Annotated[list[Path], typer.Option("--logs", help="A log file of the service (repeatable).")] = [],
    db: Annotated[Optional[str], typer.Option("--db", help="PostgreSQL DSN (read-only use).")] = None,
    redis: Annotated[Optional[str], typer.Option("--redis", help="Redis URL (read-only use).")] = None,
    metrics: Annotated[Optional[str], typer.Option("--metrics", help="Prometheus metrics URL to scrape.")] = None,
    browser: Annotated[Optional[str], typer.Option("--browser", help="Page URL to load in headless Chromium.")] = None,
    symptom: Annotated[Optional[str], typer.Option("--symptom", help="The symptom as reported, for the report.")] = None,
    budget: Annotated[str, typer.Option("--budget", help="Time for the whole investigation (seconds, or 90s, 2m).")] = "120",
    max_concurrency: Annotated[int, typer.Option("--max-concurrency", help="Peak concurrent users the service should take; no experiment goes beyond.")] = 32,
    max_rate: Annotated[Optional[float], typer.Option("--max-rate", help="Peak requests/s clients send: sweep arrival rates up to it instead of users.")] = None,
    timeout: Annotated[str, typer.Option("--timeout", help="Per-request timeout.")] = "10s",
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for report.json and the runs (default .tracehound/runs/<time>-investigation).")] = None,
    as_json: Annotated[bool, typer.Option("--json-report", help="Print report.json to stdout instead of the summary.")] = False,
) -> None:
    """Find why a request fails intermittently: experiments, analysis, ranked causes with evidence."""
    from tracehound.case import Case, Sources
    from tracehound.errors import BadTarget, OutputNotWritable
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
    for f in logs:
        if not f.is_file():
            raise BadTarget(f"cannot read log file {str(f)!r}: no such file")
    if code is not None and not code.is_dir():
        raise BadTarget(f"--code {str(code)!r} is not a folder")
    case = Case(target=target, flow=flow_obj, base_url=url if flow_obj else None,
                sources=Sources(logs=list(logs), db=db, redis=redis, code=code, metrics=metrics, browser=browser),
                budget_s=parse_duration(budget if budget[-1:].isalpha() else budget + "s"),
                max_concurrency=max_concurrency, max_rate=max_rate, timeout_s=parse_duration(timeout),
                symptom=symptom)
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
    out.print(f"Report: {inv.out / 'report.json'}", markup=False)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="File to import: HAR, hey CSV, k6 JSON, vegeta JSON or request CSV.")],
    fmt: Annotated[str, typer.Option("--format", help="auto|har|hey|k6|vegeta|csv")] = "auto",
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Run folder to create.")] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the run folder.")] = False,
) -> None:
    """Turn another tool's output into a run folder in tracehound's record schema."""
    from tracehound.probe.summary import summarize_run
    from tracehound.probe.importers import import_file

    run = import_file(file, fmt, out_dir)
    if quiet:
        print(run.path)
    else:
        print_summary(run, summarize_run(run))


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


@app.command("demo")
def demo_cmd(
    duration: Annotated[str, typer.Option("-d", "--duration", help="How long to probe.")] = "8s",
    investigate: Annotated[bool, typer.Option("--investigate", help="Start the lab's demo scenario and investigate it (what `make demo` runs).")] = False,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="With --investigate: folder for report.json and the runs.")] = None,
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


@app.command("explain")
def explain_cmd(
    mode_id: Annotated[Optional[str], typer.Argument(metavar="ID", help="A failure-mode id (see --list).")] = None,
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
    logs: Annotated[Optional[Path], typer.Option("--logs", help="Keep the logs in this folder (default: a temp folder, removed).")] = None,
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
    names: Annotated[Optional[list[str]], typer.Argument(help="Scenarios to check (default: all).")] = None,
    logs: Annotated[Optional[Path], typer.Option("--logs", help="Keep logs and run folders in this folder.")] = None,
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
