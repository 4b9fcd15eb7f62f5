"""The catalog's pages in ``docs/failure-modes/``: one per entry, an index and a signal table.

Generated from the YAML entries and checked for drift by the tests; regenerate them with
:data:`DOCS_COMMAND` after editing an entry. The signal descriptions come from the signal registry
as the caller has filled it: :mod:`tracehound.docs` loads every agent first, so that the namespaced
signals (``log:``, ``pg:`` …) are described too; this layer imports no agent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from tracehound.diagnosis.entries import load_catalog
from tracehound.diagnosis.failure_mode import FailureMode
from tracehound.diagnosis.markdown import cell, percent, weight
from tracehound.diagnosis.signals import REGISTRY, SignalDef
from tracehound.pages import generated_header, stale_pages, write_pages

DOCS_COMMAND = "python -m tracehound.docs"


def _generated(source: str) -> str:
    return generated_header(source, DOCS_COMMAND)


def index_markdown(catalog: Mapping[str, FailureMode]) -> str:
    """The catalog's index page: every failure mode with its prior and summary."""
    lines = ["# Failure modes", "",
             "The causes of intermittent failure tracehound knows, one catalog entry each "
             "(`src/tracehound/diagnosis/catalog/<id>.yaml`). `tracehound explain ID` prints an entry.", "",
             "The diagnoser scores every entry from the signals the agents report:", "",
             "```", "score = ln(prior)",
             "      + Σ weight(signal) × strength(signal)   for each signal seen that the entry weighs",
             "      + Σ absent weight(signal)               "
             "for each expected signal the data could have shown, not seen",
             "```", "",
             "and turns the scores into confidences that add up to one. "
             "[signals.md](signals.md) shows which signal moves which score.", "",
             "| id | failure mode | prior | what it is |", "| --- | --- | ---: | --- |"]
    for m in catalog.values():
        first = re.split(r"(?<=[a-z0-9)\"'][.!?])\s+(?=[A-Z])", m.summary, maxsplit=1)[0]
        lines.append(f"| [`{m.id}`]({m.id}.md) | {cell(m.title)} | {percent(m.prior)} | {cell(first)} |")
    return "\n".join(lines) + "\n"


def signals_markdown(catalog: Mapping[str, FailureMode], signals: Mapping[str, SignalDef] | None = None) -> str:
    """Every signal the catalog weighs, with the failure modes it moves and by how much."""
    names = sorted(set().union(*(m.signal_names() for m in catalog.values())))
    lines = ["# Signals and the failure modes they move", "",
             "For each signal: the entries it supports or refutes when seen, and the entries that "
             "count it against themselves when the data could have shown it and did not.", "",
             "| signal | what it means | seen: for | seen: against | not seen: against |",
             "| --- | --- | --- | --- | --- |"]
    for name in names:
        known = REGISTRY if signals is None else signals
        desc = known[name].description if name in known else ""
        pos = sorted(((m.signals[name], m.id) for m in catalog.values() if m.signals.get(name, 0) > 0), reverse=True)
        neg = sorted((m.signals[name], m.id) for m in catalog.values() if m.signals.get(name, 0) < 0)
        gone = sorted((m.absent[name], m.id) for m in catalog.values() if name in m.absent)
        lines.append(f"| `{name}` | {cell(desc)} | {_weights(pos)} | {_weights(neg)} | {_weights(gone)} |")
    return "\n".join(lines) + "\n"


def _weights(pairs: list[tuple[float, str]]) -> str:
    return ", ".join(f"{i} {weight(w)}" for w, i in pairs)


def render_docs(catalog: Mapping[str, FailureMode] | None = None,
                signals: Mapping[str, SignalDef] | None = None) -> dict[str, str]:
    """The docs pages by file name: one per entry, ``README.md`` (the index) and ``signals.md``.

    ``signals`` describes the signals (default: the registry as it is filled now).
    """
    catalog = load_catalog() if catalog is None else catalog
    pages = {"README.md": _generated("src/tracehound/diagnosis/catalog/") + index_markdown(catalog),
             "signals.md": _generated("src/tracehound/diagnosis/catalog/") + signals_markdown(catalog, signals)}
    for m in catalog.values():
        pages[f"{m.id}.md"] = _generated(f"src/tracehound/diagnosis/catalog/{m.id}.yaml") + m.to_markdown()
    return pages


def stale_docs(out_dir: str | Path, catalog: Mapping[str, FailureMode] | None = None,
               signals: Mapping[str, SignalDef] | None = None) -> list[str]:
    """The pages in ``out_dir`` that are missing, differ from the catalog, or have no entry."""
    return stale_pages(Path(out_dir), render_docs(catalog, signals))


def write_docs(out_dir: str | Path, catalog: Mapping[str, FailureMode] | None = None,
               signals: Mapping[str, SignalDef] | None = None) -> list[Path]:
    """Write the pages into ``out_dir`` and remove pages of entries that no longer exist."""
    return write_pages(Path(out_dir), render_docs(catalog, signals))


__all__ = ["DOCS_COMMAND", "index_markdown", "render_docs", "signals_markdown", "stale_docs", "write_docs"]
