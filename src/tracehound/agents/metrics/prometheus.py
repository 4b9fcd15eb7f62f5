"""The metrics agent over a Prometheus server's stored series (``--prometheus URL``), for services already scraped."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from tracehound.agents.base import AgentResult, RecordedRun
from tracehound.agents.metrics.agent import metrics_result
from tracehound.agents.metrics.signals import NAME
from tracehound.agents.metrics.timeline import Timeline
from tracehound.case import Case
from tracehound.errors import BadSource, SourceUnreachable
from tracehound.redact import redact_url
from tracehound.sources.prometheus import query_prometheus

#: Seconds an investigation waits after the experiments for the Prometheus server's next scrapes.
PROMETHEUS_SETTLE_S = 3.0
#: The window read around the runs' requests, either side (ns).
MARGIN_NS = 5 * 10**9


async def prometheus_agent(url: str, runs: Sequence[RecordedRun], since_ns: int | None = None,
                           until_ns: int | None = None, step_s: float = 1.0) -> AgentResult:
    """The metrics agent over a Prometheus server's stored series; the window defaults to the runs' span (±5 s)."""
    runs = list(runs)
    if since_ns is None or until_ns is None:
        window = (await asyncio.to_thread(Timeline.of, runs)).window
        if window is None:
            return AgentResult(NAME, "skipped", "no --since/--until given and no requests to take the window from")
        since_ns = since_ns if since_ns is not None else window[0] - MARGIN_NS
        until_ns = until_ns if until_ns is not None else window[1] + MARGIN_NS
    try:
        rec = await asyncio.to_thread(query_prometheus, url, since_ns, until_ns, step_s)
    except (BadSource, SourceUnreachable) as e:
        return AgentResult(NAME, "failed", e.line())
    if not rec.samples:
        return AgentResult(NAME, "skipped", f"Prometheus at {redact_url(url)} holds none of the series tracehound "
                           "reads (pool, event-loop lag, process CPU or memory) in that window")
    return await asyncio.to_thread(metrics_result, rec, runs, url)


async def prometheus_stored(case: Case, runs: Sequence[RecordedRun]) -> AgentResult:
    """:func:`prometheus_agent` over ``case.sources.prometheus`` and the runs' window."""
    if not case.sources.prometheus:
        return AgentResult(NAME, "skipped", "no --prometheus given")
    return await prometheus_agent(case.sources.prometheus, runs)


__all__ = ["PROMETHEUS_SETTLE_S", "prometheus_agent", "prometheus_stored"]
