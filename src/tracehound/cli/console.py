"""The command's two consoles: ``out`` for results (stdout), ``err`` for progress, notices and errors (stderr).

Modules print through ``console.out`` and ``console.err`` (attribute lookups, never copies), so a
test can swap either for one of its own.
"""

from __future__ import annotations

from rich.console import Console

out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


def wide() -> Console:
    """The output console; piped, one wide enough that a table's rows stay whole lines (for grep)."""
    return out if out.is_terminal else Console(highlight=False, emoji=False, width=4000)


def note(line: str) -> None:
    """A progress line on stderr, dimmed."""
    err.print(line, style="dim", markup=False, highlight=False)


__all__ = ["err", "note", "out", "wide"]
