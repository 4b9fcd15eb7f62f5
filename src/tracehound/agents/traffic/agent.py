"""The traffic agent: :func:`~tracehound.agents.traffic.analyze` over the runs, in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tracehound.agents.base import AgentResult, RecordedRun
from tracehound.agents.traffic.analysis import analyze
from tracehound.agents.traffic.signals import NAME
from tracehound.case import Case


async def traffic_agent(case: Case | None, runs: Sequence[RecordedRun]) -> AgentResult:
    """The traffic agent: :func:`analyze` in a worker thread, as an :class:`AgentResult`."""
    del case  # the records say everything this agent uses
    if not runs:
        return AgentResult(NAME, "skipped", "no runs to analyse")
    res = await asyncio.to_thread(analyze, list(runs))
    if res.requests == 0:
        return AgentResult(NAME, "skipped", "the runs hold no requests", tested=[])
    return AgentResult(NAME, "ok", res.detail, res.findings, tested=sorted(set(res.tested)))


__all__ = ["traffic_agent"]
