"""The RCA report: an investigation folder rendered as ``report.md`` and a self-contained ``report.html``.

>>> from tracehound.report import write_report
>>> md, html = write_report(Path(".tracehound/runs/20260210T142300000Z-investigation"))  # doctest: +SKIP

The sections follow the write-ups of hand-run investigations: the symptom and the case, the
evidence per agent, the experiments, the ranked hypotheses with the evidence for and against,
the root cause and contributing factors, the fix (immediate, short term, long term, with code),
verification with success criteria and the ``tracehound verify`` command, rollback, prevention
and follow-up tasks; a report that did not reproduce says what was tried and what to try next
instead, and names no cause. Secrets are redacted before anything is rendered.
"""

from __future__ import annotations

import os
from pathlib import Path

from tracehound.errors import OutputNotWritable
from tracehound.report.content import Content, gather
from tracehound.report.model import Report, load_report
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


__all__ = ["Content", "Report", "gather", "load_report", "render_html", "render_markdown", "write_report"]
