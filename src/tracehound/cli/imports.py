"""``tracehound import``: another tool's output or an access log, made a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render


def import_(
    file: Annotated[
        Path,
        typer.Argument(help="File to import: HAR, hey CSV, k6 JSON, vegeta JSON, request CSV, or an access log "
                            "(nginx, Apache, ALB, CloudFront, JSON lines; gzip too)."),
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="auto|har|hey|k6|vegeta|csv|nginx|apache|alb|cloudfront|jsonl")
    ] = "auto",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run folder to create.")] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--map", help="JSON-lines access logs: which key holds each field, e.g. "
                                   "time=ts,status=code,path=uri,latency_ms=dur."),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the run folder.")] = False,
) -> None:
    """Turn another tool's output or an access log into a run folder (access logs: partitioned Parquet)."""
    from tracehound import spool

    try:
        with spool.regular(file) as real:  # a pipe (``<(zcat …)``, a FIFO) is read once, into a file
            _import(real, fmt, out_dir, mapping, quiet)
    except spool.PipeUnreadable as e:
        from tracehound.errors import BadImport

        raise BadImport(f"cannot import {str(file)!r}: {e.strerror}") from None


def _import(file: Path, fmt: str, out_dir: Path | None, mapping: str | None, quiet: bool) -> None:
    from tracehound.access import import_access_log, parse_mapping
    from tracehound.access.claim import is_access_log

    if is_access_log(file, fmt):
        imp = import_access_log(file, fmt, out_dir, parse_mapping(mapping),
                                on_progress=None if quiet else render.import_progress())
        if quiet:
            print(imp.path)
        else:
            render.print_access_import(imp)
        return
    from tracehound.probe.importers import import_file
    from tracehound.probe.summary import summarize_run
    from tracehound.run_view import print_summary

    run = import_file(file, fmt, out_dir)
    if quiet:
        print(run.path)
    else:
        print_summary(run, summarize_run(run), console.out)
