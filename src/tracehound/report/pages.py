"""The rendered report: ``report.md`` with its charts, and ``report.html``, written into the folder."""

from __future__ import annotations

import os
from pathlib import Path

from tracehound.errors import OutputNotWritable
from tracehound.report.content import gather
from tracehound.report.render import render_html, render_markdown

CHART_DIR = "charts"


def write_report(folder: Path) -> tuple[Path, Path]:
    """Write ``report.md`` (charts as ``charts/*.svg`` beside it) and ``report.html`` into ``folder``.

    Re-rendering an existing investigation overwrites them. :class:`~tracehound.errors.BadReport`
    when the folder holds no readable ``report.json``.
    """
    folder = Path(folder)
    content = gather(folder)
    md_path, html_path = folder / "report.md", folder / "report.html"
    try:
        charts = folder / CHART_DIR
        charts.mkdir(exist_ok=True)
        for ch in content.charts:
            stale = charts / f"{ch.name}.svg"
            if ch.drawn:
                _write(stale, ch.svg_file())
            elif stale.exists():
                stale.unlink()
        _write(md_path, render_markdown(content, CHART_DIR))
        _write(html_path, render_html(content))
    except OSError as e:
        raise OutputNotWritable(f"cannot write the report into {str(folder)!r}: {e.strerror or e}") from None
    return md_path, html_path


def _write(path: Path, text: str) -> None:
    """Write atomically, so a reader never sees half a report."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


__all__ = ["CHART_DIR", "write_report"]
