"""The fields listings read from an investigation's ``report.json``, for ``tracehound runs`` and ``sql``.

:class:`ReportDigest` reads what is there and makes nothing up: a field a report cannot give is
``None``. (A run's ``run.json`` is read as :class:`tracehound.probe.meta.RunMeta`.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracehound.report.model import REPORT_FILE


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or an empty one when it cannot be read (a listing skips nothing)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class ReportDigest:
    """An investigation's ``report.json``: its verdict, figures and leading failure mode."""

    started_at: Any
    verdict: Any
    requests: Any
    failures: Any
    failure_rate: Any
    seconds: Any
    method: Any
    url: Any
    #: With a flow: the flow file and the base URL it ran on.
    flow: Any
    base_url: Any
    top_cause: Any
    confidence: Any

    @classmethod
    def read(cls, folder: Path) -> ReportDigest:
        """The digest of ``folder/report.json``; every field ``None`` when it cannot be read."""
        from tracehound.errors import BadReport
        from tracehound.report.model import load_report

        try:
            r = load_report(folder)
        except BadReport:
            return cls(*([None] * 12))
        c, top = r.case, r.top
        return cls(r.started_at, r.verdict, r.requests, r.failures, r.failure_rate, r.seconds, c.method, c.url, c.flow,
                   c.base_url, top.id if top else None, top.confidence if top else None)


__all__ = ["REPORT_FILE", "ReportDigest", "read_json"]
