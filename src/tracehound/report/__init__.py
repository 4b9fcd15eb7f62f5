"""The RCA report: an investigation folder rendered as ``report.md`` and a self-contained ``report.html``.

>>> from tracehound.report import write_report
>>> md, html = write_report(Path(".tracehound/runs/20260210T142300000Z-investigation"))  # doctest: +SKIP

The sections follow the write-ups of hand-run investigations: the symptom and the case, the
evidence per agent, the experiments, the ranked hypotheses with the evidence for and against,
the root cause and contributing factors, the fix (immediate, short term, long term, with code),
verification with success criteria and the ``tracehound verify`` command, rollback, prevention
and follow-up tasks; a report that did not reproduce says what was tried and what to try next
instead, and names no cause. Secrets are redacted before anything is rendered.

The package loads its rendering (Jinja2, the charts, the catalog) on first use, so that a reader
of ``report.json`` alone (:func:`load_report`, :class:`Report`) does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tracehound.report.model import Report, load_report

if TYPE_CHECKING:
    from tracehound.report.content import Content, gather
    from tracehound.report.pages import CHART_DIR, write_report
    from tracehound.report.render import render_html, render_markdown

#: The names rendering needs, by the module that defines them.
_RENDERING = {"Content": "content", "gather": "content", "CHART_DIR": "pages", "write_report": "pages",
              "render_html": "render", "render_markdown": "render"}


def __getattr__(name: str) -> Any:
    if name in _RENDERING:
        return getattr(importlib.import_module(f"{__name__}.{_RENDERING[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CHART_DIR", "Content", "Report", "gather", "load_report", "render_html", "render_markdown", "write_report"]
