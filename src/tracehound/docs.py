"""The generated docs: ``docs/architecture.md`` and ``docs/failure-modes/``, from the registries themselves.

``python -m tracehound.docs`` writes them; ``--check`` lists the pages out of date (exit 1), as the
tests do. This module sits above the agents and the catalog (it loads every agent, so that the
namespaced signals are described), which neither of them may do.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from tracehound.agents.registry import AGENTS, AgentSpec
from tracehound.diagnosis import docs as catalog_docs
from tracehound.diagnosis.catalog import load_catalog
from tracehound.diagnosis.signals import REGISTRY, SignalDef
from tracehound.pages import stale_pages, write_pages
from tracehound.review.registry import RULES

COMMAND = catalog_docs.DOCS_COMMAND
ARCHITECTURE = "architecture.md"
FAILURE_MODES = "failure-modes"

_LAYERS = """\
```
 cli/ · mcp/ · pytest_plugin            parse, call, print: no computation of their own
        │
 orchestrator · plan of experiments     one investigation under one budget
 verify · gentest · report/             what an investigation leaves behind
        │
 agents/  (registry.AGENTS)             specialists: (Case, runs) → findings carrying signals;
        │                               never import each other, the catalog, or anything above
 sources/ (samplers)  · review/ · logs/ · browser/ · access/
        │
 diagnosis/ (signals · catalog · scoring · rank)    the catalog maps signals to causes
 analysis/  (pure, vectorised over Arrow/NumPy columns)
 probe/     (engine, shapes, records, run folders, importers)
        │
 case · flow · limits · document · errors · redact  the nouns every layer shares
```
"""

_INTRO = """\
# Architecture

tracehound reproduces, diagnoses and verifies intermittent failures of web APIs. A **Case** (the
target or a **Flow**, the user's sources, a budget) goes to the **orchestrator**, which runs
**experiments** through the **prober**; every request becomes a row of a **Run** (Arrow columns in
Parquet, `run.json` beside it). The **agents** read the runs and the sources concurrently and
report **findings** carrying **signals**; the **catalog** weighs the signals for each failure mode,
and **scoring** turns them into ranked **hypotheses** with the evidence for and against each. The
**report** (`report.json`, one pydantic model and one loader) is rendered to Markdown and HTML and
read back by `verify`, `gen-test` and the MCP tools.

## Layers

Each layer imports only those below it; `tests/test_architecture.py` walks the import graph and
fails on any circle, and on any module over 600 lines.

"""

_REGISTRIES = "\n".join([
    "## Registries", "",
    "Every list the code dispatches on is declared once, as data, and held to the others by tests:", "",
    "| registry | where | what reads it | what checks it |",
    "| --- | --- | --- | --- |",
    "| agents | `tracehound.agents.registry.AGENTS` | the orchestrator (which agents run, their samplers, the "
    "\"skipped: no --x given\" lines), `investigate`'s source flags | `tests/test_agents_registry.py` |",
    "| signals | `tracehound.diagnosis.signals.REGISTRY` | every agent (an unregistered name raises), the catalog's "
    "validation, these docs | every signal documented, declared by the agent that emits it, named by a catalog "
    "entry |",
    "| failure modes | `src/tracehound/diagnosis/catalog/*.yaml` | scoring, `tracehound explain`, "
    "[failure-modes/](failure-modes/README.md) | every weight has its `why`; docs checked for drift |",
    "| review rules | `tracehound.review.registry.CHECKS` | `tracehound review`, the code agent, "
    "[rules/](rules/README.md) | every check defined is listed; each rule's fixture marks what it must find |",
    "| documents | `tracehound.document.load_document` | `report.json` (`tracehound.report.load_report`), "
    "`run.json` | one schema check for every reader |",
    "| shared limits | `tracehound.limits` | the reproduction threshold, sampling intervals | - |", "", "",
])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def agents_table(agents: list[AgentSpec]) -> str:
    """The agent registry as a table: what each needs and how much it may say."""
    lines = ["| agent | needs | background sampler | signals it may emit |", "| --- | --- | --- | --- |"]
    for s in agents:
        needs = f"`{s.flag}` (`Sources.{s.source}`)" if s.flag else "nothing: always runs"
        sampler = s.sampler.__name__ if s.sampler is not None else "-"
        lines.append(f"| `{s.name}` | {needs} | {sampler} | {len(s.signals)} |")
    return "\n".join(lines) + "\n"


def signals_table(signals: Mapping[str, SignalDef]) -> str:
    """How many signals each agent family registers."""
    by_source = Counter(d.source for d in signals.values())
    lines = ["| family | signals |", "| --- | ---: |"]
    lines += [f"| {_cell(src)} | {n} |" for src, n in sorted(by_source.items())]
    lines.append(f"| **all** | **{sum(by_source.values())}** |")
    return "\n".join(lines) + "\n"


def architecture_markdown() -> str:
    """``docs/architecture.md``: the layers drawn by hand, the registries' tables generated."""
    catalog = load_catalog()
    return "".join([
        f"<!-- Generated by `{COMMAND}` from the registries; the prose lives in src/tracehound/docs.py. -->\n\n",
        _INTRO, _LAYERS, "\n", _REGISTRIES,
        "## Agents\n\n", agents_table(AGENTS), "\n",
        f"## Signals\n\n{len(REGISTRY)} signals, by the family that emits them; "
        "[failure-modes/signals.md](failure-modes/signals.md) shows which failure mode each one moves.\n\n",
        signals_table(REGISTRY), "\n",
        f"## The catalog and the reviewer\n\n{len(catalog)} failure modes "
        f"([failure-modes/](failure-modes/README.md)) and {len(RULES)} code-review rules "
        "([rules/](rules/README.md)).\n",
    ])


def pages() -> dict[str, str]:
    """Every generated page, by its path under ``docs/``."""
    out = {ARCHITECTURE: architecture_markdown()}
    for name, text in catalog_docs.render_docs(signals=REGISTRY).items():
        out[f"{FAILURE_MODES}/{name}"] = text
    return out


def stale(docs_dir: Path) -> list[str]:
    """The generated pages under ``docs_dir`` that are missing or out of date, and stray catalog pages."""
    return stale_pages(docs_dir, pages(), owned=f"{FAILURE_MODES}/*.md")


def write(docs_dir: Path) -> list[Path]:
    """Write every generated page under ``docs_dir``; remove catalog pages of entries that are gone."""
    return write_pages(docs_dir, pages(), owned=f"{FAILURE_MODES}/*.md")


def main(argv: list[str] | None = None) -> int:
    """``python -m tracehound.docs [--out DOCS] [--check]``."""
    ap = argparse.ArgumentParser(prog="python -m tracehound.docs",
                                 description="Generate docs/architecture.md and docs/failure-modes/.")
    ap.add_argument("--out", type=Path, default=Path("docs"), metavar="DIR", help="the docs folder (default: docs)")
    ap.add_argument("--check", action="store_true", help="only list the pages out of date (exit 1)")
    args = ap.parse_args(argv)
    if args.check:
        out = stale(args.out)
        for name in out:
            print(f"out of date: {args.out / name}")
        if out:
            print(f"regenerate with: {COMMAND}")
        return 1 if out else 0
    for p in write(args.out):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["ARCHITECTURE", "COMMAND", "agents_table", "architecture_markdown", "main", "pages", "signals_table",
           "stale", "write"]
