"""What an agent returns: findings for a person, each carrying signals for the diagnoser."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracehound.diagnosis.signals import Signal


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
                "seconds": round(self.seconds, 2), "tested": sorted(self.tested), "findings": [f.to_dict() for f in self.findings]}
