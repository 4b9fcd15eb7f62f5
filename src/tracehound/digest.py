"""The fields listings and summaries read from the files tracehound wrote: ``run.json`` and ``report.json``.

:class:`RunDigest` is the one place where ``run.json`` (a run's or an import folder's) is read as a
dict for ``tracehound show``, ``runs`` and ``sql``; :class:`ReportDigest` the one place where
``report.json`` is, for ``runs`` and ``sql``. Both read what is there and make nothing up: a field
the file lacks is ``None``. When the typed run and report models come, these two classes are what
changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracehound.probe.run import META_FILE
from tracehound.report.model import REPORT_FILE


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file, or an empty one when it cannot be read (a listing skips nothing)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _part(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """The object under ``key``, or an empty one."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ImportDigest:
    """The ``import`` block of an imported run's or an access-log import's ``run.json``."""

    file: Any
    format: Any
    #: ``relative`` when the imported format has no clock time.
    time_base: Any
    rows: Any
    bytes: Any
    seconds: Any
    mb_per_s: Any
    compression: Any
    first: Any
    last: Any
    bad_lines: Any
    bad_examples: Any

    @classmethod
    def of(cls, block: dict[str, Any]) -> ImportDigest:
        g = block.get
        return cls(g("file"), g("format"), g("time_base"), g("rows"), g("bytes"), g("seconds"), g("mb_per_s"),
                   g("compression"), g("first"), g("last"), g("bad_lines"), g("bad_examples"))


@dataclass(frozen=True)
class RunDigest:
    """A run's ``run.json``, field by field (``meta`` is the whole document, for ``tracehound sql``)."""

    meta: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> RunDigest:
        """The digest of ``folder/run.json``; every field ``None`` when it cannot be read."""
        return cls(read_json(folder / META_FILE))

    # -- what ran
    @property
    def run_id(self) -> Any:
        return self.meta.get("run_id")

    @property
    def kind(self) -> Any:
        return self.meta.get("kind")

    @property
    def experiment(self) -> Any:
        return _part(self.meta, "experiment").get("kind")

    @property
    def role(self) -> Any:
        return _part(self.meta, "experiment").get("role")

    @property
    def engine(self) -> Any:
        return self.meta.get("engine")

    @property
    def locust_workers(self) -> Any:
        return _part(self.meta, "locust").get("workers")

    # -- when, and how it ended
    @property
    def started_at(self) -> Any:
        return self.meta.get("started_at")

    @property
    def ended_at(self) -> Any:
        return self.meta.get("ended_at")

    @property
    def duration_s(self) -> Any:
        return self.meta.get("duration_s")

    @property
    def status(self) -> Any:
        return self.meta.get("status")

    @property
    def complete(self) -> Any:
        return self.meta.get("complete")

    @property
    def stop_reason(self) -> Any:
        return self.meta.get("stop_reason")

    @property
    def partial(self) -> Any:
        """Set when a Locust worker was lost: the run is kept, and said to be partial."""
        return self.meta.get("partial")

    @property
    def partial_reason(self) -> Any:
        return self.meta.get("partial_reason")

    @property
    def requests(self) -> Any:
        """The request count run.json recorded (the Parquet file is the truth)."""
        return _part(self.meta, "counts").get("requests")

    # -- the target
    @property
    def method(self) -> Any:
        return _part(self.meta, "target").get("method")

    @property
    def url(self) -> Any:
        return _part(self.meta, "target").get("url")

    @property
    def has_flow(self) -> bool:
        return "flow" in _part(self.meta, "target")

    @property
    def flow_source(self) -> Any:
        """The flow file a flow run replayed; ``None`` for a single target."""
        return _part(_part(self.meta, "target"), "flow").get("source")

    @property
    def distinct_urls(self) -> Any:
        """An imported run's number of distinct URLs (it has no single one)."""
        return _part(self.meta, "target").get("distinct_urls")

    # -- the load shape
    @property
    def model(self) -> Any:
        """closed | open | imported."""
        return _part(self.meta, "shape").get("model")

    @property
    def concurrency(self) -> Any:
        return _part(self.meta, "shape").get("concurrency")

    @property
    def max_connections(self) -> Any:
        return _part(self.meta, "shape").get("max_connections")

    @property
    def rate(self) -> Any:
        return _part(self.meta, "shape").get("rate")

    @property
    def stages(self) -> list[dict[str, Any]]:
        """Each stage as ``{"duration_s", "target", "ramp"}``; empty without stages."""
        stages = _part(self.meta, "shape").get("stages")
        return stages if isinstance(stages, list) else []

    @property
    def imported(self) -> ImportDigest:
        return ImportDigest.of(_part(self.meta, "import"))


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


__all__ = ["REPORT_FILE", "ImportDigest", "ReportDigest", "RunDigest", "read_json"]
