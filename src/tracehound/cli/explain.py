"""``tracehound explain``: a failure mode's catalog entry, for a person or as JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from tracehound.cli import console


def explain(
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
        console.out.print(t)
        return
    mode = get(mode_id, catalog)
    if as_json:
        print(json.dumps(mode.to_dict(), indent=2))
    elif console.out.is_terminal:
        console.out.print(Markdown(mode.to_markdown()))
    else:
        print(mode.to_markdown(), end="")  # piped: the Markdown itself, for files and pagers
