"""``tracehound verify``, ``gen-test`` and ``report``: what an investigation leaves behind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render
from tracehound.cli.options import EXPECT_HELP, FLOW_HOLDS_REQUESTS, expect_option


def verify(
    source: Annotated[Path, typer.Argument(help="An investigation (its folder or report.json), or a run folder.")],
    url: Annotated[
        str | None,
        typer.Argument(help="Rerun against this URL instead of the recorded one (with --flow: the base URL)."),
    ] = None,
    candidate: Annotated[
        Path | None, typer.Option("--candidate", help="Compare with this run instead of sending load.")
    ] = None,
    slo: Annotated[
        str | None,
        typer.Option("--slo", help="Criteria, e.g. 'error_rate<1%,p95<500ms,p99<1s' (default: the catalog's for "
                                   "the top cause)."),
    ] = None,
    method: Annotated[str | None, typer.Option("-X", "--method", help="HTTP method of the target given.")] = None,
    header: Annotated[
        list[str] | None, typer.Option("-H", "--header", help="Request header 'Name: value' (repeatable).")
    ] = None,
    data: Annotated[str | None, typer.Option("--data", help="Request body; @file reads a file.")] = None,
    json_body: Annotated[
        str | None, typer.Option("--json-body", "--json", help="JSON request body; @file reads a file.")
    ] = None,
    flow: Annotated[
        Path | None, typer.Option("--flow", help="Flow file to rerun (the URL is its base URL).")
    ] = None,
    timeout: Annotated[
        str | None, typer.Option("--timeout", help="Per-request timeout (default: the original's).")
    ] = None,
    expect: Annotated[
        list[str] | None, typer.Option("--expect", help=EXPECT_HELP + " Default: the original's.")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the new runs and verify.json.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json-result", help="Print verify.json's content instead of the table.")
    ] = False,
) -> None:
    """Did the fix work? Rerun what failed (or compare two runs) and hold it to an SLO: exit 0 if it holds, 1 if not."""
    from tracehound.errors import BadTarget
    from tracehound.flow import Flow
    from tracehound.probe import Target, parse_duration
    from tracehound.verify import TargetOverride
    from tracehound.verify import verify as run_verify

    header = header or []
    override = TargetOverride()
    if flow is not None:
        if header or data or json_body or method:
            raise BadTarget(FLOW_HOLDS_REQUESTS)
        override = TargetOverride(flow=Flow.load(flow), url=url)
    elif header or data or json_body or method:
        if not url:
            raise BadTarget("give the URL the headers and body go with")
        override = TargetOverride(target=Target.parse(url, method, header, data, json_body))
    elif url:
        override = TargetOverride(url=url)
    override.expect = expect_option(expect, override.flow, flow)
    if override.expect is not None and candidate is not None:
        raise BadTarget("--candidate compares two runs already made: --expect applies to a rerun")
    v = run_verify(source, candidate, slo, override, out_dir, parse_duration(timeout) if timeout else None,
                   on_event=console.note)
    if as_json:
        print(json.dumps(v.to_dict(), indent=2))
    else:
        render.print_verification(v)
    raise typer.Exit(0 if v.passed else 1)


def gen_test(
    report: Annotated[Path, typer.Argument(help="An investigation (its folder or report.json), or a run folder.")],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="The test file to write, e.g. tests/test_regression_orders.py."),
    ],
    env_var: Annotated[
        str, typer.Option("--env-var", help="Environment variable the test reads the service's base URL from.")
    ] = "TRACEHOUND_TARGET_URL",
    slo: Annotated[
        str | None,
        typer.Option("--slo", help="Criteria to assert, e.g. 'error_rate<1%,p95<500ms' (default: the catalog's "
                                   "for the top cause)."),
    ] = None,
    flow: Annotated[
        Path | None, typer.Option("--flow", help="The flow file, when the one the investigation ran is gone.")
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", help="A header of the original request, 'Name: value' (repeatable); "
                                            "reports do not keep them."),
    ] = None,
    data: Annotated[str | None, typer.Option("--data", help="The original request's body; @file reads a file.")] = None,
    json_body: Annotated[
        str | None,
        typer.Option("--json-body", "--json", help="The original request's JSON body; @file reads a file."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the test file if it exists.")] = False,
) -> None:
    """Write a pytest regression test that replays the load that broke the service and asserts the SLO."""
    from tracehound.gentest import write_test

    t = write_test(report, output, env_var=env_var, slo=slo, flow=flow, headers=header or [], data=data,
                   json_body=json_body, force=force)
    console.out.print(f"wrote {t.path}: {t.replay.experiment} again ({t.replay.load_words}), asserting "
                      f"{t.slo.text()}", markup=False, highlight=False, soft_wrap=True)
    needs = " ".join(f"{n}=…" for n in t.needs[1:])
    console.out.print(f"run it: {t.env_var}=http://127.0.0.1:8000 {needs + ' ' if needs else ''}pytest {t.path}",
                      markup=False, highlight=False, soft_wrap=True)


def report(
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
            console.err.print("no web browser to open it with; open the file above", style="dim", markup=False)
