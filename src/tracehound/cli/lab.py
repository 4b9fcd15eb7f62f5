"""``tracehound lab list|up|check``: the lab's faulty services and their fixed twins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracehound.cli import console, render


def lab_list() -> None:
    """List the lab's scenarios, then its families' variants (FAMILY/VARIANT) with their split."""
    from tracehound import lab

    render.print_scenarios(lab.scenarios())
    render.print_families(lab.families())


def lab_up(
    name: Annotated[str, typer.Argument(help="Scenario name, or FAMILY/VARIANT (see `tracehound lab list`).")],
    fixed: Annotated[bool, typer.Option("--fixed", help="Start the fixed twin instead of the faulty version.")] = False,
    logs: Annotated[
        Path | None,
        typer.Option("--logs", help="Keep the logs in this folder (default: a temp folder, removed)."),
    ] = None,
) -> None:
    """Start a scenario on 127.0.0.1 and keep it up until Ctrl-C."""
    import time

    from tracehound import lab

    with lab.up(name, fixed=fixed, log_dir=logs) as inst:
        render.print_instance(inst)
        console.out.print("[dim]Up. Ctrl-C stops everything.[/]")
        try:
            while not inst.dead():
                time.sleep(0.5)
        except KeyboardInterrupt:
            console.out.print("stopping…")
            return
        console.err.print(f"tracehound: error: {', '.join(inst.dead())} exited; see {inst.log_dir}", markup=False)
        raise typer.Exit(1)


def lab_check(
    names: Annotated[list[str] | None, typer.Argument(
        help="Scenarios, FAMILY/VARIANT, or a FAMILY for all its variants (default: every scenario).")] = None,
    logs: Annotated[Path | None, typer.Option("--logs", help="Keep logs and run folders in this folder.")] = None,
) -> None:
    """Reproduce each scenario under its declared load; its fixed twin and the controls must not fail."""
    from tracehound import lab

    results = lab.check(names or None, log_dir=logs, on_result=render.check_line, on_start=render.check_starting)
    render.print_check_table(results)
    if not all(r.ok for r in results):
        raise typer.Exit(1)
