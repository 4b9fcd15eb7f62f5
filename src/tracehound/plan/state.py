"""What the runs so far show, as the plan reads it to choose the next experiment."""

from __future__ import annotations

from dataclasses import dataclass

from tracehound.diagnosis.scoring import Hypothesis
from tracehound.diagnosis.signals import Signal
from tracehound.limits import reproduced
from tracehound.plan.leads import Lead


@dataclass
class State:
    """What the runs so far show, for choosing the next experiment."""

    failures: int
    #: 2xx answers with a minority body shape (counted as failures at the end of the investigation).
    minority: int
    signals: list[Signal]
    tested: set[str]
    scores: dict[str, float]
    ranking: list[Hypothesis]
    leads: list[Lead]

    @property
    def reproduced(self) -> bool:
        return reproduced(self.failures + self.minority)

    @property
    def leader(self) -> Hypothesis | None:
        return self.ranking[0] if self.ranking else None

    def seen(self, name: str) -> Signal | None:
        best = None
        for s in self.signals:
            if s.name == name and s.strength > 0 and (best is None or s.strength > best.strength):
                best = s
        return best


__all__ = ["State"]
