"""The PostgreSQL agent, and the ``tracehound db`` command's inspection: a sampler's recording analysed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from tracehound.agents.base import AgentResult, RecordedRun
from tracehound.agents.postgres.findings import analyze_postgres
from tracehound.agents.postgres.signals import NAME
from tracehound.agents.sampled import inspect_for, recording_result, request_times, sampler_or_snapshot
from tracehound.case import Case
from tracehound.sources.postgres import PostgresSampler, connect_error


async def postgres_agent(case: Case | None, runs: Sequence[RecordedRun],
                         sampler: PostgresSampler | None = None) -> AgentResult:
    """The PostgreSQL agent: the sampler's recording (or, without one, a snapshot taken now) against the runs."""
    dsn = case.sources.db if case is not None else None
    got = await sampler_or_snapshot(NAME, dsn, "--db", sampler, PostgresSampler)
    if isinstance(got, AgentResult):
        return got
    return await asyncio.to_thread(_result, got, request_times(runs))


def _result(sampler: PostgresSampler, times: np.ndarray) -> AgentResult:
    return recording_result(NAME, sampler.recording(), sampler.address, lambda rec: analyze_postgres(rec, times),
                            connect_error)


def inspect_postgres(dsn: str, duration_s: float = 10.0, interval_s: float = 0.5) -> AgentResult:
    """Sample a server for ``duration_s`` and analyse it (``tracehound db``); connection errors raise."""
    sampler = PostgresSampler(dsn, interval_s=interval_s, heavy_every_s=max(interval_s, min(5.0, duration_s / 4)))
    return inspect_for(sampler, duration_s, lambda s: _result(s, np.zeros(0, np.int64)))


__all__ = ["inspect_postgres", "postgres_agent"]
