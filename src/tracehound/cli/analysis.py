"""``tracehound analyze``, ``logs`` and ``review``: recorded traffic, service logs and code, read offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render


def analyze(
    folder: Annotated[
        Path, typer.Argument(metavar="RUN_OR_IMPORT", help="A run folder, or an access-log import folder.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings and signals as JSON.")] = False,
) -> None:
    """Analyse recorded or imported traffic without probing: findings and signals."""
    from tracehound.inspection import analyze_folder

    analysis = analyze_folder(folder)
    if as_json:
        print(json.dumps(analysis.to_dict(), indent=2))
        return
    render.print_agent_findings(analysis.result.detail, analysis.result.findings)
    render.print_likely_causes(analysis.hypotheses)


def logs(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE", help="Log files or folders of them (text, JSON lines, logfmt; gzip too)."),
    ],
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="T", help="Only events from then on: ISO time, epoch seconds, or 30m (ago)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="T", help="Only events up to then (same forms as --since).")
    ] = None,
    run: Annotated[
        list[Path] | None,
        typer.Option("--run", metavar="RUN", help="A run folder to align the events with (repeatable)."),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", metavar="ZONE", help="Zone of timestamps written without one (default: this "
                                                  "machine's), e.g. UTC, Europe/Paris, +02:00."),
    ] = None,
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
    runs = [Run.load(r) for r in run or []]
    report = analyze_logs(files, lo, hi, runs, zone)
    for f in report.skipped:
        console.err.print(f"tracehound: skipped {f.path}: {f.skipped}", markup=False, soft_wrap=True)
    if not report.read:  # each file's reason is above; an empty folder has none
        raise BadLogOption("no log could be read" + ("" if report.skipped else
                                                     f": no file in {', '.join(str(f) for f in files)}"))
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        report.render(console.out, top)


def review(
    path: Annotated[
        Path | None, typer.Argument(metavar="DIR", help="The service's code: a folder or one Python file.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text|json|sarif")] = "text",
    select: Annotated[str | None, typer.Option("--select", help="Only these rules, e.g. TH101,TH201.")] = None,
    rule_code: Annotated[
        str | None,
        typer.Option("--rule", metavar="CODE", help="Print a rule's page (or 'all' for the list) and exit."),
    ] = None,
) -> None:
    """Review a Python web backend's code for what fails under load (exit 1 with findings, 0 without)."""
    from tracehound.review import FORMATS, BadCodePath, all_rules, get_rule
    from tracehound.review import render as render_review
    from tracehound.review import review as run_review

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
    result = run_review(path, [c for c in select.split(",") if c.strip()] if select else None)
    for s in result.skipped:
        console.err.print(f"{s.path}: skipped: {s.reason}", markup=False, highlight=False, soft_wrap=True)
    for e, _ in result.errors:
        console.err.print(f"tracehound: internal error: {e}", markup=False, highlight=False, soft_wrap=True)
    print(render_review(result, fmt), end="")
    if result.violations:
        raise typer.Exit(1)
