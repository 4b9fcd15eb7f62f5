"""What an agent is and returns: findings for a person, each carrying signals for the diagnoser.

An agent is an ``async`` function of the case and the runs (:class:`Agent`); an agent that reads
a sampled source also gets the sampler the orchestrator ran during the experiments, through an
:class:`AgentContext`. Agents are declared once, in :mod:`tracehound.agents.registry`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tracehound.diagnosis.signals import Signal
from tracehound.sources.sampler import AnySampler

if TYPE_CHECKING:
    import pyarrow as pa

    from tracehound.case import Case
    from tracehound.probe.meta import RunMeta

SamplerT = TypeVar("SamplerT", bound=AnySampler)


@dataclass
class Finding:
    title: str
    detail: str = ""
    exemplars: list[str] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "detail": self.detail, "exemplars": self.exemplars[:5],
                "signals": [s.to_dict() for s in self.signals]}


@dataclass
class AgentResult:
    name: str
    #: ok | skipped | failed
    status: str
    detail: str = ""
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    #: Signal names the agent's data could have shown; the diagnoser counts the expected ones
    #: among them that did not show as evidence against.
    tested: list[str] = field(default_factory=list)

    @property
    def signals(self) -> list[Signal]:
        return [s for f in self.findings for s in f.signals]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "seconds": round(self.seconds, 2), "tested": sorted(self.tested),
                "findings": [f.to_dict() for f in self.findings]}


@dataclass
class Analysis:
    """What an agent's analysis found: findings for a person, and the signal names its data could show."""

    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def signals(self) -> list[Signal]:
        return [s for f in self.findings for s in f.signals]

    def result(self, name: str) -> AgentResult:
        """The analysis as agent ``name``'s result."""
        return AgentResult(name, "ok", self.detail, self.findings, tested=sorted(set(self.tested)))


class RecordedRun(Protocol):
    """A run as agents read it: its ``run.json`` and its records (a :class:`tracehound.probe.run.Run`)."""

    @property
    def path(self) -> Path: ...

    @property
    def meta(self) -> RunMeta: ...

    @property
    def table(self) -> pa.Table: ...


class Agent(Protocol):
    """A specialist: the case and the runs in, findings carrying signals out. Never names a cause."""

    def __call__(self, case: Case, runs: Sequence[RecordedRun], /) -> Awaitable[AgentResult]: ...


@dataclass(frozen=True)
class AgentContext:
    """What an investigation hands an agent: the case, the runs, and the sampler it ran for that agent, if any."""

    case: Case
    runs: Sequence[RecordedRun]
    sampler: AnySampler | None = None

    def sampler_as(self, kind: type[SamplerT]) -> SamplerT | None:
        """The sampler, when it is a ``kind`` (the agent's own kind of sampler)."""
        return self.sampler if isinstance(self.sampler, kind) else None


def is_canary(run: RecordedRun) -> bool:
    """A canary run's requests are meant to touch nothing of the target: analyses of the target leave them out."""
    return run.meta.is_canary


__all__ = ["Agent", "AgentContext", "AgentResult", "Analysis", "Finding", "RecordedRun", "is_canary"]
