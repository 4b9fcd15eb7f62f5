"""The load a lab scenario declares, parsed once from its ``load:`` section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracehound.probe import LoadShape
from tracehound.probe.shapes import Stage


@dataclass(frozen=True)
class Load:
    """The load a scenario declares (``load:``): what ``lab check`` sends, and the peak a user reports.

    ``concurrency`` is None when the scenario does not give it (one virtual user then).
    """

    concurrency: int | None = None
    duration: float | None = None
    requests: int | None = None
    rate: float | None = None
    stages: tuple[Stage, ...] | None = None
    open_model: bool = False
    max_connections: int | None = None

    def shape(self) -> LoadShape:
        """A new shape of this load, bounded by its own planned duration."""
        shape = LoadShape(
            concurrency=self.concurrency if self.concurrency is not None else 1,
            requests=self.requests,
            duration=self.duration,
            rate=self.rate,
            stages=list(self.stages) if self.stages is not None else None,
            open_model=self.open_model or self.rate is not None,
            max_connections=self.max_connections,
        )
        planned = shape.planned_duration
        if planned is not None:
            shape.max_duration = planned
        return shape

    def text(self) -> str:
        """The load in a few words: ``24 VUs for 6s``, ``30 req/s for 8s``, ``stages 2s:4,6s:=24``."""
        if self.rate is not None:
            what = f"{self.rate:g} req/s"
        elif self.stages is not None:
            what = f"stages {_stages_text(self.stages)}"
        else:
            what = f"{self.concurrency if self.concurrency is not None else 1} VUs"
        return what if self.duration is None else f"{what} for {self.duration:g}s"


def _stages_text(stages: Sequence[Stage]) -> str:
    return ",".join(f"{s.duration:g}s:{'' if s.ramp else '='}{s.target:g}" for s in stages)
