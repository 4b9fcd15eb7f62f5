"""What every section of the PostgreSQL analysis reads: the recording, the samples that matter, the findings so far."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

import numpy as np

from tracehound.agents.base import Analysis, Finding
from tracehound.agents.postgres.signals import TIMELESS
from tracehound.agents.sampled import during
from tracehound.diagnosis.signals import Signal
from tracehound.sources.postgres import PostgresInfo, PostgresReading
from tracehound.sources.sampler import Recording, Sample

RowT = TypeVar("RowT")


class PostgresAnalysis(Analysis):
    """What :func:`~tracehound.agents.postgres.analyze_postgres` found."""


@dataclass
class View:
    """One analysis: the recording, its answered samples, those taken while requests ran, and the output."""

    rec: Recording[PostgresReading, PostgresInfo]
    ok: list[Sample[PostgresReading]]
    #: The answered samples taken while requests ran (all of them when none were).
    now: list[Sample[PostgresReading]]
    #: Sorted start times (ns) of the probed requests, and the span they cover.
    times: np.ndarray
    window: tuple[int, int] | None
    out: PostgresAnalysis = field(default_factory=PostgresAnalysis)

    @property
    def info(self) -> PostgresInfo:
        return self.rec.info

    @property
    def settings(self) -> Mapping[str, float | None]:
        return self.rec.info.settings

    @cached_property
    def blind(self) -> bool:
        """Other roles' sessions hide their state from a role without pg_read_all_stats."""
        peak_hidden = max(s.data.activity.hidden for s in self.now)
        peak_sessions = max(s.data.activity.sessions for s in self.now)
        return peak_sessions > 0 and peak_hidden >= 0.5 * peak_sessions

    @cached_property
    def covers_load(self) -> bool:
        return self.window is None or bool(during(self.ok, self.window))

    def tested(self, *names: str) -> None:
        if not self.covers_load:  # samples taken after the requests: only the settings speak for that time
            names = tuple(n for n in names if n in TIMELESS)
        self.out.tested.extend(names)

    def finding(self, title: str, detail: str, signals: list[Signal] | None = None,
                exemplars: list[str] | None = None) -> None:
        sigs = signals or []
        ex = exemplars if exemplars is not None else [e for s in sigs for e in s.exemplars][:5]
        self.out.findings.append(Finding(title, detail, ex, sigs))


def spread(rows: Sequence[RowT], pid: Callable[[RowT], int], longest: Callable[[RowT], float],
           k: int = 5) -> list[RowT]:
    """Up to ``k`` rows, one per pid, the longest first."""
    seen: set[int] = set()
    out: list[RowT] = []
    for r in sorted(rows, key=lambda r: -longest(r)):
        if pid(r) not in seen:
            seen.add(pid(r))
            out.append(r)
        if len(out) == k:
            break
    return out


def short(text: str, n: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def ms(v: float) -> str:
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.1f} ms" if v >= 1 else f"{v:.3f} ms"


def secs(v: float | None) -> str:
    if not isinstance(v, int | float):
        return str(v)
    return "off" if v == 0 else f"{v:g} s"


__all__ = ["PostgresAnalysis", "View", "ms", "secs", "short", "spread"]
