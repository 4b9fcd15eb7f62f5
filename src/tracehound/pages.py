"""Generated docs pages on disk: which are out of date, and writing them (strays removed).

The catalog's pages, the review rules' pages and ``docs/architecture.md`` are each a mapping of
file names to text; these two functions are how every generator compares and writes its set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def generated_header(source: str, command: str) -> str:
    """The first line of a generated page: where it comes from and how to regenerate it."""
    return f"<!-- Generated from {source} by `{command}`. Do not edit by hand. -->\n\n"


def stale_pages(out_dir: Path, pages: Mapping[str, str], owned: str = "*.md") -> list[str]:
    """The pages missing or differing under ``out_dir``, and files matching ``owned`` that no page names."""
    stale = [name for name, text in pages.items()
             if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != text]
    strays = [p.relative_to(out_dir).as_posix() for p in out_dir.glob(owned)] if out_dir.is_dir() else []
    return sorted(stale + [s for s in strays if s not in pages])


def write_pages(out_dir: Path, pages: Mapping[str, str], owned: str = "*.md") -> list[Path]:
    """Write the pages that changed under ``out_dir`` and remove the files matching ``owned`` no page names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for p in out_dir.glob(owned):
        if p.relative_to(out_dir).as_posix() not in pages:
            p.unlink()
    written = []
    for name, text in pages.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


__all__ = ["generated_header", "stale_pages", "write_pages"]
