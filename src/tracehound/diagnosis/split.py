"""When the first two causes stay close: say so, and name the source that would split them.

Two failure modes whose scores (log-odds) lie within :data:`SCORE_MARGIN` of each other are not
told apart by the evidence collected. The gap is judged on the scores, not on the reported
confidences, so that calibrating the confidences (a temperature) never changes what the evidence
can tell. The catalog says what would: the signals one mode weighs and the other
does not (or weighs the other way). Each such signal comes from some agent, and each agent from
a source the user can give (``--logs``, ``--redis`` …); the sources whose signals weigh most
between the two are the ones to add. The caller supplies which source emits which signal (the
agent registry is above this layer); nothing here names a pair by hand.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tracehound.failure_modes import NONE

#: Confidence (as a fraction) within which two causes sharing all the belief are "too close to tell"…
MARGIN = 0.15
#: …and the same as a gap in score (log-odds), which is what is judged: 0.575 against 0.425.
SCORE_MARGIN = math.log((1 + MARGIN) / (1 - MARGIN))
#: A signal splits two modes when their weights for it differ by at least this much.
MIN_SPLIT = 0.7
#: Sources named in the line, at most (besides those reading the very same signals).
MAX_SOURCES = 2
#: A source's worth for a pair: the gaps of its this many most telling signals.
TELLING = 3


class Weighed(Protocol):
    """What this module reads of a catalog entry: the weights of the signals it names."""

    @property
    def signals(self) -> Mapping[str, float]: ...

    @property
    def absent(self) -> Mapping[str, float]: ...


class Ranked(Protocol):
    """What this module reads of a ranked hypothesis."""

    @property
    def id(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class Split:
    """A signal that tells two modes apart: how each weighs it when seen, and by how much they differ."""

    signal: str
    first: float
    second: float

    @property
    def gap(self) -> float:
        return abs(self.first - self.second)


@dataclass(frozen=True)
class CannotTell:
    """The first two causes stay within :data:`SCORE_MARGIN`: which sources would split them, and by which signals."""

    first: str
    second: str
    first_confidence: float
    second_confidence: float
    #: Source flags (``--logs``), most telling first; empty when no source beyond the ones given splits them.
    sources: tuple[str, ...] = ()
    #: Per source flag, the signals of it that split the pair, most telling first.
    signals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Wire signals (from the experiments) that split the pair, most telling first.
    wire: tuple[str, ...] = ()

    @property
    def gap_points(self) -> float:
        """The distance between the two, in confidence points (0-100)."""
        return 100 * (self.first_confidence - self.second_confidence)

    def line(self) -> str:
        """One sentence for the CLI and the report."""
        head = (f"cannot tell {self.first} ({self.first_confidence:.0%}) from {self.second} "
                f"({self.second_confidence:.0%}): {self.gap_points:.0f} points apart")
        if self.sources:
            names = " or ".join(f"`{s}`" for s in self.sources)
            return f"{head}; {names} tells {self.first} from {self.second}"
        if self.wire:
            return f"{head}; no source left to add splits them, experiments showing {', '.join(self.wire[:2])} would"
        return f"{head}; nothing in the catalog splits them"

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second,
                "first_confidence": round(self.first_confidence, 4),
                "second_confidence": round(self.second_confidence, 4),
                "gap_points": round(self.gap_points, 1), "sources": list(self.sources),
                "signals": {k: list(v) for k, v in self.signals.items()}, "wire": list(self.wire),
                "line": self.line()}


def splitting_signals(first: Weighed, second: Weighed, min_split: float = MIN_SPLIT) -> list[Split]:
    """The signals whose weight (when seen) differs by at least ``min_split`` between two entries, most telling first.

    A signal one entry expects and counts against itself when absent splits them too: its absent
    weight stands in when the entry does not weigh it seen.
    """
    def w(e: Weighed, name: str) -> float:
        return e.signals.get(name, -e.absent.get(name, 0.0))

    names = set(first.signals) | set(second.signals) | set(first.absent) | set(second.absent)
    out = [Split(n, w(first, n), w(second, n)) for n in names]
    return sorted((s for s in out if s.gap >= min_split), key=lambda s: (-s.gap, s.signal))


def cannot_tell(ranked: Sequence[Ranked], catalog: Mapping[str, Weighed], emitters: Mapping[str, Collection[str]],
                given: Collection[str] = (), margin: float = SCORE_MARGIN) -> CannotTell | None:
    """The first two causes when their scores lie within ``margin``; None when the first clearly leads.

    ``emitters`` maps a signal to the source flags whose agents emit it (none for a wire signal);
    ``given`` holds the flags the case already gave (their agents ran: they did not split the pair).
    """
    if len(ranked) < 2:
        return None
    a, b = ranked[0], ranked[1]
    if NONE in (a.id, b.id) or a.score - b.score >= margin:
        return None
    ea, eb = catalog.get(a.id), catalog.get(b.id)
    if ea is None or eb is None:
        return CannotTell(a.id, b.id, a.confidence, b.confidence)
    gaps: dict[str, list[float]] = {}
    by_source: dict[str, list[str]] = {}
    wire: list[str] = []
    for s in splitting_signals(ea, eb):
        if not emitters.get(s.signal):
            wire.append(s.signal)
        for f in emitters.get(s.signal, ()):
            if f not in given:
                gaps.setdefault(f, []).append(s.gap)
                by_source.setdefault(f, []).append(s.signal)
    # A source tells as much as its few most telling signals (not as many as it has), and two
    # sources reading the same signals (a /metrics page and a Prometheus scraping it) go together.
    worth = {f: sum(g[:TELLING]) for f, g in gaps.items()}
    sources: list[str] = []
    kinds: list[tuple[str, ...]] = []
    for f in sorted(worth, key=lambda f: (-worth[f], f)):
        kind = tuple(by_source[f])
        if kind in kinds:
            sources.append(f)
        elif len(kinds) < MAX_SOURCES:
            kinds.append(kind)
            sources.append(f)
    return CannotTell(a.id, b.id, a.confidence, b.confidence, tuple(sources),
                      {f: tuple(by_source[f][:4]) for f in sources}, tuple(wire[:4]))

__all__ = ["MARGIN", "MIN_SPLIT", "CannotTell", "Split", "cannot_tell", "splitting_signals"]
