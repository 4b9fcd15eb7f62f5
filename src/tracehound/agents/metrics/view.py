"""What every section of the metrics analysis reads: the scrapes as series, and the intervals between them.

Each interval between two consecutive scrapes either overlapped failing requests (``bad``), or
overlapped requests that all succeeded (``calm``), or no request at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from tracehound.agents.base import Analysis, Finding
from tracehound.agents.metrics.timeline import Timeline
from tracehound.diagnosis.signals import Signal
from tracehound.sources.metric_roles import RoleValue
from tracehound.sources.metrics import MetricsInfo, Scrape
from tracehound.sources.sampler import Recording, Sample, clock

#: Fewer failing intervals than this, and the signals that compare them are not tested.
MIN_FAILING = 2


class MetricsAnalysis(Analysis):
    """What :func:`~tracehound.agents.metrics.analyze_metrics` found."""


class Series:
    """The role values of the scrapes, as arrays over the samples (NaN where a scrape lacked one)."""

    def __init__(self, samples: list[Sample[Scrape]]) -> None:
        self.t = np.array([s.t_ns for s in samples], np.int64)
        self._samples = samples

    def has(self, role: str) -> bool:
        return any(role in s.data.roles for s in self._samples)

    def value(self, role: str) -> np.ndarray:
        return np.array([_scalar(s.data.roles.get(role)) for s in self._samples], np.float64)

    def increase(self, role: str) -> np.ndarray:
        """A counter's increase over each interval (a counter that went down restarted from zero)."""
        v = self.value(role)
        d = np.diff(v)
        return np.where(d < 0, v[1:], d)

    def interval_mean(self, role: str) -> np.ndarray:
        """A histogram's mean observation over each interval (NaN for an interval without one)."""
        pairs = [_pair(s.data.roles.get(role)) for s in self._samples]
        sums = np.array([p[0] for p in pairs], np.float64)
        counts = np.array([p[1] for p in pairs], np.float64)
        ds, dc = np.diff(sums), np.diff(counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(dc > 0, ds / dc, np.nan)


def _scalar(v: RoleValue | None) -> float:
    """A gauge's or counter's value; a histogram's mean so far; NaN when the scrape lacked it."""
    if v is None:
        return np.nan
    if isinstance(v, int | float):
        return float(v)
    return float(v[0] / v[1]) if v[1] else np.nan


def _pair(v: RoleValue | None) -> tuple[float, float]:
    """A histogram's (sum, count); NaNs when the scrape lacked it (or held a plain value)."""
    if v is None or isinstance(v, int | float):
        return np.nan, np.nan
    return float(v[0]), float(v[1])


@dataclass
class View:
    """One analysis: the answered scrapes, the requests, and the intervals between scrapes."""

    rec: Recording[Scrape, MetricsInfo]
    ok: list[Sample[Scrape]]
    tl: Timeline
    out: MetricsAnalysis = field(default_factory=MetricsAnalysis)

    @cached_property
    def s(self) -> Series:
        return Series(self.ok)

    @property
    def t0(self) -> np.ndarray:
        return self.s.t[:-1]

    @property
    def t1(self) -> np.ndarray:
        return self.s.t[1:]

    @property
    def window(self) -> tuple[int, int] | None:
        return self.tl.window

    @cached_property
    def inflight(self) -> np.ndarray:
        return self.tl.overlapping(self.t0, self.t1) if self.s.t.size > 1 else np.zeros(0, np.int64)

    @cached_property
    def failing_n(self) -> np.ndarray:
        return self.tl.overlapping(self.t0, self.t1, failed_only=True) if self.s.t.size > 1 else np.zeros(0, np.int64)

    @property
    def bad(self) -> np.ndarray:
        """Intervals (between consecutive scrapes) that overlapped failing requests."""
        return self.failing_n > 0

    @property
    def calm(self) -> np.ndarray:
        """Intervals that overlapped requests, none of them failing."""
        calm: np.ndarray = (self.inflight > 0) & ~self.bad
        return calm

    @property
    def loaded(self) -> np.ndarray:
        return self.inflight > 0

    @property
    def enough_failures(self) -> bool:
        return int(self.bad.sum()) >= MIN_FAILING

    def tested(self, *names: str) -> None:
        self.out.tested.extend(names)

    def finding(self, title: str, detail: str, sigs: list[Signal], exemplars: list[str] | None = None) -> None:
        ex = exemplars if exemplars is not None else [e for s in sigs for e in s.exemplars][:5]
        self.out.findings.append(Finding(title, detail, ex, sigs))

    def named(self, *roles: str) -> str:
        """The metric names behind ``roles``, for a detail line."""
        names = sorted({n for r in roles for n in self.rec.info.roles.get(r, ())})
        return ", ".join(names[:4]) + (" …" if len(names) > 4 else "")

    def when(self, i: int) -> str:
        """Interval ``i`` for an exemplar: its end, and the requests in flight and failing."""
        return (f"{clock(int(self.t1[i]))} ({int(self.failing_n[i])} failing of {int(self.inflight[i])} requests "
                "in flight)")


def fmt(v: float | None) -> str:
    return "?" if v is None or not np.isfinite(v) else f"{v:.0f}"


def secs(s: float) -> str:
    if not np.isfinite(s):
        return "?"
    return f"{s:.2f} s" if s >= 1 else f"{s * 1000:.0f} ms" if s >= 0.001 else f"{s * 1000:.2f} ms"


__all__ = ["MIN_FAILING", "MetricsAnalysis", "Series", "View", "fmt", "secs"]
