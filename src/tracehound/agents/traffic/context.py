"""What every section of the traffic analysis reads: the records as a frame, and the masks they share.

Strength, throughout: 0 is not emitted; a signal is emitted only past a significance test and a
minimum count, and its strength grows with the effect, taken at a cautious bound (lower 80 %
Wilson bounds for rates) so that a handful of requests gives a modest strength and hundreds give
nearly the point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from tracehound.agents.base import Finding
from tracehound.analysis.contrast import Attribute, attributes
from tracehound.analysis.distribution import Distribution, distribution
from tracehound.analysis.frame import Frame, RunInfo, spread_pick
from tracehound.analysis.load import LoadDependence, load_dependence
from tracehound.analysis.stats import wilson
from tracehound.diagnosis.signals import Signal

#: Experiment kinds whose load is steady enough to read time and load structure from.
LOAD_KINDS = (None, "baseline", "sweep", "confirm", "low_rate", "probe")
#: Runs whose shape is designed to change the outcome (pauses, fresh connections, another client timeout,
#: bursts), kept out of time and load analyses.
SHAPED_KINDS = ("idle_gap", "flow_delay", "fresh_conn", "timeout_varied", "burst")
#: Rows a rank test or a correlation looks at, at most.
SAMPLE_ROWS = 100_000


def is_shaped(r: RunInfo) -> bool:
    """A run shaped to change the outcome: one of :data:`SHAPED_KINDS`, or a confirmation of bursts or of fresh
    connections."""
    return r.kind in SHAPED_KINDS or r.burst_s is not None or not r.keepalive


@dataclass
class Section:
    """What one section of the analysis found, and the signal names its data could have shown."""

    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)

    def test(self, *names: str) -> None:
        self.tested.extend(names)

    def add(self, title: str, detail: str, signals: list[Signal], exemplars: list[str] | None = None) -> None:
        """A finding; its exemplars are its first signal's unless given."""
        ex = exemplars if exemplars is not None else (signals[0].exemplars if signals else [])
        self.findings.append(Finding(title, detail, ex, signals))


class Context:
    """One analysis: the target's frame, the canary's, and the masks every section shares."""

    def __init__(self, frame: Frame, canary: Frame | None) -> None:
        self.f = frame
        self.canary = canary
        shaped = np.array([is_shaped(r) for r in frame.runs])
        #: Requests of runs with steady load, and of runs whose time structure can be read.
        self.in_load_run: np.ndarray = (np.array([r.kind in LOAD_KINDS for r in frame.runs]) & ~shaped)[frame.run]
        self.in_time_run: np.ndarray = ~shaped[frame.run]
        #: Requests that count (not the ones a failed earlier step kept from being sent), and the failures among them.
        self.counted: np.ndarray = frame.counted & ~frame.cascaded
        self.fail: np.ndarray = frame.primary
        self.dist: Distribution = distribution(frame)

    @cached_property
    def attributes(self) -> list[Attribute]:
        return attributes(self.f)

    @cached_property
    def load(self) -> LoadDependence:
        """Failures and latency against the requests in flight, over the steady runs."""
        use = self.counted & self.in_load_run
        return load_dependence(np.where(use, self.f.inflight, -1), self.fail, use, self.f.ok, self.f.latency_ms)

    def ex(self, rows: np.ndarray, k: int = 5) -> list[str]:
        """Up to ``k`` of ``rows``, spread over them, described for a person."""
        return self.f.describe(spread_pick(np.asarray(rows), k))

    def alone(self) -> np.ndarray:
        """Requests sent one at a time: a sequential run's, or any with nothing else of ours in flight."""
        f = self.f
        seq_run = np.array([r.sequential for r in f.runs])[f.run]
        alone: np.ndarray = self.counted & self.in_load_run & (seq_run | (f.inflight == 1))
        return alone

    def request_groups(self) -> tuple[np.ndarray | None, list[str]]:
        """Each request's step of the flow (or path), as codes, and the names of the codes."""
        enc = self.f.codes("step")
        if enc is not None and len(enc[1]) >= 1:
            return enc[0], [str(v) for v in enc[1]]
        for a in self.attributes:
            if a.name == "path":
                return a.codes, a.values
        return None, []


def wilson_lo(k: int, n: int) -> float:
    return float(wilson(k, n)[0])


def sample(x: np.ndarray, k: int = 20_000, seed: int = 0) -> np.ndarray:
    """Up to ``k`` values of ``x``, drawn without replacement (the same ones every time)."""
    x = np.asarray(x)
    if x.size <= k:
        return x
    return np.random.default_rng(seed).choice(x, k, replace=False)


def sample_rows(rows: np.ndarray, k: int = SAMPLE_ROWS) -> np.ndarray:
    """Up to ``k`` of ``rows``, drawn without replacement, in order."""
    if rows.size <= k:
        return rows
    return np.sort(np.random.default_rng(0).choice(rows, k, replace=False))


__all__ = ["LOAD_KINDS", "SAMPLE_ROWS", "SHAPED_KINDS", "Context", "Section", "is_shaped", "sample", "sample_rows",
           "wilson_lo"]
