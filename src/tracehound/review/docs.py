"""The rules' pages: ``docs/rules/``, one page per rule and an index, generated from the rules'
declarations (:mod:`tracehound.review.checks`) by::

    python -m tracehound.review --docs docs/rules

and checked for drift by the tests (``--check`` reports the pages out of date).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tracehound.pages import generated_header, stale_pages, write_pages
from tracehound.review.registry import all_rules
from tracehound.review.rules import Rule

DOCS_COMMAND = "python -m tracehound.review --docs docs/rules"


def _generated(source: str) -> str:
    return generated_header(source, DOCS_COMMAND)


def index_markdown(rules: dict[str, Rule]) -> str:
    lines = ["# Code-review rules", "",
             "`tracehound review DIR` reads a Python web backend (FastAPI, Flask, Django) without running it "
             "and reports the patterns that make services fail intermittently under load. Inside "
             "`tracehound investigate --code DIR`, each rule's findings become a `code:` signal, stronger "
             "when the finding lies on the code path of the endpoint that was probed.", "",
             "| code | name | severity | what it flags | failure modes |", "| --- | --- | --- | --- | --- |"]
    for r in rules.values():
        links = ", ".join(f"[`{i}`](../failure-modes/{i}.md)" for i in r.links)
        lines.append(f"| [{r.code}]({r.code}.md) | `{r.name}` | {r.severity} | {r.summary} | {links} |")
    return "\n".join(lines) + "\n"


def render_docs() -> dict[str, str]:
    rules = all_rules()
    pages = {"README.md": _generated("src/tracehound/review/checks/") + index_markdown(rules)}
    for r in rules.values():
        pages[f"{r.code}.md"] = _generated("src/tracehound/review/checks/") + r.to_markdown()
    return pages


def stale_docs(out_dir: str | Path) -> list[str]:
    """The rules' pages in ``out_dir`` that are missing, out of date, or of no rule."""
    return stale_pages(Path(out_dir), render_docs())


def write_docs(out_dir: str | Path) -> list[Path]:
    """Write the rules' pages into ``out_dir`` and remove those of rules that are gone."""
    return write_pages(Path(out_dir), render_docs())


def main(argv: list[str] | None = None) -> int:
    """``python -m tracehound.review --docs DIR [--check]``."""
    ap = argparse.ArgumentParser(prog="python -m tracehound.review",
                                 description="Generate the code-review rules' docs pages.")
    ap.add_argument("--docs", type=Path, metavar="DIR", required=True, help="write the pages into DIR")
    ap.add_argument("--check", action="store_true", help="only report pages out of date (exit 1)")
    args = ap.parse_args(argv)
    if args.check:
        stale = stale_docs(args.docs)
        for name in stale:
            print(f"out of date: {args.docs / name}")
        if stale:
            print(f"regenerate with: {DOCS_COMMAND}")
        return 1 if stale else 0
    for p in write_docs(args.docs):
        print(f"wrote {p}")
    return 0


__all__ = ["DOCS_COMMAND", "index_markdown", "main", "render_docs", "stale_docs", "write_docs"]
