"""One source inspected on its own, outside an investigation: ``tracehound analyze`` and ``tracehound db``.

An investigation runs every agent under one budget; these run one agent on what the user points
at (a run or import folder, a database) and, for traffic, rank the catalog's causes from that
evidence alone, as the investigation does from all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracehound.agents.base import AgentResult
    from tracehound.agents.traffic import TrafficAnalysis
    from tracehound.diagnosis.scoring import Hypothesis

#: How many ranked causes a folder's analysis keeps.
TOP_CAUSES = 5


@dataclass(frozen=True)
class FolderAnalysis:
    """The traffic analysis of one run or import folder, and the causes it ranks."""

    path: Path
    #: run | import
    kind: str
    result: TrafficAnalysis
    hypotheses: list[Hypothesis] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        res = self.result
        return {"path": str(self.path), "kind": self.kind, "requests": res.requests, "failures": res.failures,
                "detail": res.detail, "tested": sorted(set(res.tested)),
                "signals": [s.to_dict() for s in res.signals],
                "findings": [f.to_dict() for f in res.findings],
                "hypotheses": [h.to_dict() for h in self.hypotheses]}


def analyze_folder(folder: Path) -> FolderAnalysis:
    """Analyse a run folder or an access-log import folder without probing, and rank the causes."""
    from tracehound.access import ImportFolder
    from tracehound.diagnosis.rank import rank

    if ImportFolder.holds(folder):
        from tracehound.agents.access_log import analyze_import

        kind = "import"
        res = analyze_import(ImportFolder.load(folder))
    else:
        from tracehound.agents.traffic import analyze
        from tracehound.probe import Run
        from tracehound.wrong_body import mark_wrong_bodies

        kind = "run"
        runs = [Run.load(folder)]
        runs[0].table  # noqa: B018 - read now: records that are missing or corrupt are one line, not an empty analysis
        mark_wrong_bodies(runs, write=False)  # minority bodies count, as in an investigation; the folder stays
        res = analyze(runs)
    return FolderAnalysis(folder, kind, res, rank(res.signals, res.tested, res.failures)[:TOP_CAUSES])


def is_redis_url(dsn: str) -> bool:
    """Whether a ``--db`` source names a Redis server rather than PostgreSQL."""
    return dsn.strip().lower().startswith(("redis://", "rediss://", "unix://"))


def inspect_db(dsn: str, duration_s: float, interval_s: float) -> AgentResult:
    """Sample the PostgreSQL or Redis server ``dsn`` names for ``duration_s`` (read-only) and analyse it."""
    if is_redis_url(dsn):
        from tracehound.agents.redis import inspect_redis

        return inspect_redis(dsn, duration_s, interval_s)
    from tracehound.agents.postgres import inspect_postgres

    return inspect_postgres(dsn, duration_s, interval_s)


__all__ = ["TOP_CAUSES", "FolderAnalysis", "analyze_folder", "inspect_db", "is_redis_url"]
