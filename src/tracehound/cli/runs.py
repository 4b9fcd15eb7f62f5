"""``tracehound runs`` and ``sql``: past work under a folder, listed or queried."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render


def runs(
    folder: Annotated[
        Path | None, typer.Argument(metavar="DIR", help="Where to look (default .tracehound/runs).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List past runs, investigations and verifications, newest first."""
    from tracehound.history import past_work

    work = past_work(folder)
    if as_json:
        print(json.dumps([w.to_dict() for w in work], indent=2))
        return
    if not work:
        console.err.print(f"nothing under {folder or '.tracehound/runs'} yet", style="dim", markup=False)
        return
    render.print_past_work(work)


def sql(
    query_text: Annotated[
        str,
        typer.Argument(metavar="SQL", help="A DuckDB query over the relations requests, runs and investigations."),
    ],
    folder: Annotated[
        Path | None, typer.Option("--runs", help="Folder of the run folders (default .tracehound/runs).")
    ] = None,
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
    for line in res.warnings:
        console.err.print(f"tracehound: {line}", markup=False, soft_wrap=True)
    if as_json:
        print(json.dumps(list(res.records()), indent=2, default=str))
    elif as_csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(res.columns)
        w.writerows(res.rows)
    else:
        render.print_query_result(res)
