"""Every agent an investigation runs, declared once: its name, the flag and source it needs, the signals it may emit.

The orchestrator runs the agents of this list (:func:`tracehound.agents.run.run_agents`), starts
the samplers it declares before the experiments, and says ``skipped: no --x given`` for each
source the case lacks; the CLI's source flags and the MCP tools can read it too. A test checks
that every registered signal is declared by some agent here and named by some catalog entry.

Importing this module imports every agent, and so registers every namespaced signal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tracehound.agents import access_log, browser, code, har, logs, metrics, postgres, redis, traffic
from tracehound.agents.base import Agent, AgentContext, AgentResult, RecordedRun
from tracehound.case import Case, Sources
from tracehound.sources import AnySampler, MetricsSampler, PostgresSampler, RedisSampler

SamplerT = TypeVar("SamplerT", bound=AnySampler)
#: How an investigation runs an agent: with its context (the case, the runs, the sampler it ran, if any).
AgentRunner = Callable[[AgentContext], Awaitable[AgentResult]]
_SOURCES = frozenset(f.name for f in dataclasses.fields(Sources))


@dataclass(frozen=True)
class AgentSpec:
    """One agent, as the orchestrator, the CLI and the MCP tools see it."""

    name: str
    #: The command-line flag that gives its source (``--logs``); None for the traffic agent, which always runs.
    flag: str | None
    #: The attribute of :class:`~tracehound.case.Sources` it reads; None for the traffic agent.
    source: str | None
    run: AgentRunner
    #: Every signal it may emit (each registered in :mod:`tracehound.diagnosis.signals`).
    signals: tuple[str, ...]
    #: Builds the sampler the orchestrator runs in the background during the experiments, from the source's address.
    sampler: Callable[[str], AnySampler] | None = None
    #: Seconds to wait after the experiments before running it (a Prometheus server scrapes on its own schedule).
    settle_s: float = 0.0

    def __post_init__(self) -> None:
        if self.source is not None and self.source not in _SOURCES:
            raise ValueError(f"agent {self.name!r}: Sources has no {self.source!r}")
        if (self.source is None) != (self.flag is None):
            raise ValueError(f"agent {self.name!r}: a source needs its flag, and a flag its source")

    def given(self, case: Case) -> object:
        """What the case gives this agent (its source's value); None when the agent needs no source."""
        return getattr(case.sources, self.source) if self.source is not None else None

    def runs_for(self, case: Case) -> bool:
        """Whether an investigation of ``case`` runs this agent: it needs no source, or the case gives it."""
        return self.source is None or bool(self.given(case))

    @property
    def skipped_why(self) -> str:
        """The line shown for this agent when its source is not given."""
        return f"no {self.flag} given"


def plain(agent: Agent) -> AgentRunner:
    """An agent of (case, runs) alone, as an investigation runs it."""

    async def run(ctx: AgentContext) -> AgentResult:
        return await agent(ctx.case, ctx.runs)

    return run


def sampled(agent: Callable[[Case, Sequence[RecordedRun], SamplerT | None], Awaitable[AgentResult]],
            kind: type[SamplerT]) -> AgentRunner:
    """An agent that reads the sampler of its ``kind`` the investigation ran (a snapshot of its own without one)."""

    async def run(ctx: AgentContext) -> AgentResult:
        return await agent(ctx.case, ctx.runs, ctx.sampler_as(kind))

    return run


AGENTS: list[AgentSpec] = [
    AgentSpec("traffic", None, None, plain(traffic.traffic_agent), traffic.SIGNALS),
    AgentSpec("logs", "--logs", "logs", plain(logs.logs_agent), tuple(logs.SIGNALS)),
    AgentSpec("postgres", "--db", "db", sampled(postgres.postgres_agent, PostgresSampler), tuple(postgres.SIGNALS),
              sampler=PostgresSampler),
    AgentSpec("redis", "--redis", "redis", sampled(redis.redis_agent, RedisSampler), tuple(redis.SIGNALS),
              sampler=RedisSampler),
    AgentSpec("code", "--code", "code", plain(code.code_agent), tuple(code.SIGNALS)),
    AgentSpec("metrics", "--metrics", "metrics", sampled(metrics.metrics_agent, MetricsSampler),
              tuple(metrics.SIGNALS), sampler=MetricsSampler),
    AgentSpec("prometheus", "--prometheus", "prometheus", plain(metrics.prometheus_stored), tuple(metrics.SIGNALS),
              settle_s=metrics.PROMETHEUS_SETTLE_S),
    AgentSpec("browser", "--browser", "browser", plain(browser.browser_agent), tuple(browser.SIGNALS)),
    AgentSpec("har", "--har", "har", plain(har.har_agent), (*har.SIGNALS, *traffic.SIGNALS)),
    AgentSpec("access_log", "--access-log", "access_logs", plain(access_log.access_log_agent), access_log.SIGNALS),
]


def spec(name: str) -> AgentSpec:
    """The agent called ``name``; :class:`KeyError` when there is none."""
    for s in AGENTS:
        if s.name == name:
            return s
    raise KeyError(name)


def source_flags() -> dict[str, tuple[str, ...]]:
    """Signal → the flags of the sources whose agents emit it; none for a wire signal (the traffic agent's)."""
    wire = {n for a in AGENTS if a.flag is None for n in a.signals}
    out: dict[str, tuple[str, ...]] = {}
    for a in AGENTS:
        if a.flag is None:
            continue
        for n in a.signals:
            if n not in wire:
                out[n] = (*out.get(n, ()), a.flag)
    return out


__all__ = ["AGENTS", "AgentRunner", "AgentSpec", "plain", "sampled", "source_flags", "spec"]
