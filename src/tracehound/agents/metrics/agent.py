"""The metrics agent: the service's own Prometheus metrics, scraped while the experiments ran."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tracehound.agents.base import AgentResult, RecordedRun
from tracehound.agents.metrics.analysis import analyze_metrics
from tracehound.agents.metrics.signals import NAME
from tracehound.agents.metrics.timeline import Timeline
from tracehound.agents.sampled import inspect_for, recording_result, sampler_or_snapshot
from tracehound.case import Case
from tracehound.sources.metrics import MetricsInfo, MetricsSampler, Scrape, connect_error
from tracehound.sources.sampler import Recording


async def metrics_agent(case: Case | None, runs: Sequence[RecordedRun],
                        sampler: MetricsSampler | None = None) -> AgentResult:
    """The metrics agent: the sampler's scrapes (or, without one, two taken now) against the runs."""
    url = case.sources.metrics if case is not None else None
    got = await sampler_or_snapshot(NAME, url, "--metrics", sampler, MetricsSampler)
    if isinstance(got, AgentResult):
        return got
    return await asyncio.to_thread(metrics_result, got.recording(), list(runs), got.address)


def metrics_result(rec: Recording[Scrape, MetricsInfo], runs: Sequence[RecordedRun], url: str) -> AgentResult:
    """The metrics agent's result from a recording (scraped, or read from Prometheus) and the runs."""
    timeline = Timeline.of(runs)
    return recording_result(NAME, rec, url, lambda r: analyze_metrics(r, timeline), connect_error)


def inspect_metrics(url: str, duration_s: float = 10.0, interval_s: float = 0.5) -> AgentResult:
    """Scrape an endpoint for ``duration_s`` and report what it shows (no requests to align with)."""
    sampler = MetricsSampler(url, interval_s=interval_s)
    return inspect_for(sampler, duration_s, lambda s: metrics_result(s.recording(), [], s.address))


__all__ = ["inspect_metrics", "metrics_agent", "metrics_result"]
