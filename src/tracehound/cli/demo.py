"""``tracehound demo``: the lab's demo scenario, probed (or, with --investigate, investigated)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render


def demo(
    duration: Annotated[str, typer.Option("-d", "--duration", help="How long to probe.")] = "8s",
    investigate: Annotated[
        bool,
        typer.Option("--investigate", help="Start the lab's demo scenario and investigate it (what `make demo` "
                                           "runs)."),
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="With --investigate: folder for report.json and the runs.")
    ] = None,
) -> None:
    """Start the lab's demo scenario and probe it (with --investigate: investigate it)."""
    from tracehound.demo import investigate_demo, run_demo

    if not investigate:
        run_demo(duration, console.out, console.err)
        return
    render.print_investigation(investigate_demo(out_dir, on_event=console.note))
