"""The diagnoser: scores every catalog entry from the signals seen, explaining every point.

A hypothesis' score is a log-odds sum, as a naive-Bayes reader would keep it:

    score = ln(prior)
          + symptom points                          the user's words matched to the entry's
                                                    symptom phrases, bounded (diagnosis.symptom)
          + Σ weight(signal) × strength(signal)     for each signal seen that the entry names
          + Σ ½ weight(signal) × strength(twin)     for each signal whose events also line up with
                                                    the failing requests (its ``@failures`` twin)
          + Σ absent_weight(signal)                 for each signal the entry expects that the data
                                                    could have shown (it was *tested*) and did not

Weights are natural-log likelihood ratios at full strength, kept in the catalog. Confidence is
the softmax of the scores over every entry, ``none`` included, so the confidences add up to one.
Each term becomes one line of evidence for (positive) or against (negative) the hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tracehound.diagnosis.signals import Signal, lined_up
from tracehound.diagnosis.symptom import SymptomMatch

#: The evidence line of the symptom read: its ``signal`` and ``kind``.
SYMPTOM = "symptom"
#: A signal's lined-up twin (``X@failures``, :data:`tracehound.diagnosis.signals.LINED_UP`) adds this
#: share of the signal's own weight again, for an entry that does not weigh the twin itself.
LINED_UP_SHARE = 0.5


class Entry(Protocol):
    """What the diagnoser reads of a catalog entry (a :class:`~tracehound.diagnosis.catalog.FailureMode`)."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def prior(self) -> float: ...

    #: Signal name → weight when seen (natural-log likelihood ratio at full strength).
    @property
    def signals(self) -> Mapping[str, float]: ...

    #: Signal name → weight when it could have been seen and was not.
    @property
    def absent(self) -> Mapping[str, float]: ...

    @property
    def why(self) -> Mapping[str, str]: ...

    #: Generic user wording → points, read by :func:`tracehound.diagnosis.symptom.match_symptom`.
    @property
    def symptom_phrases(self) -> Mapping[str, float]: ...


@dataclass
class Evidence:
    signal: str
    points: float
    #: seen | absent | symptom
    kind: str
    strength: float
    why: str
    detail: str = ""
    exemplars: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"signal": self.signal, "points": round(self.points, 3), "kind": self.kind,
                "strength": round(self.strength, 3), "why": self.why, "detail": self.detail,
                "exemplars": self.exemplars[:3]}


@dataclass
class Hypothesis:
    id: str
    title: str
    score: float
    prior_points: float
    confidence: float = 0.0
    evidence_for: list[Evidence] = field(default_factory=list)
    evidence_against: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "confidence": round(self.confidence, 4),
                "score": round(self.score, 3), "prior_points": round(self.prior_points, 3),
                "evidence_for": [e.to_dict() for e in self.evidence_for],
                "evidence_against": [e.to_dict() for e in self.evidence_against]}

    def explain(self) -> list[str]:
        """Every point of the score, one line each."""
        lines = [f"{self.prior_points:+.2f}  prior"]
        for e in sorted(self.evidence_for + self.evidence_against, key=lambda e: -abs(e.points)):
            if e.kind == SYMPTOM:
                lines.append(f"{e.points:+.2f}  symptom: {e.detail}")
                continue
            what = "seen" if e.kind == "seen" else "expected, not seen"
            lines.append(f"{e.points:+.2f}  {e.signal} ({what}, strength {e.strength:.2f}): {e.why}")
        lines.append(f"={self.score:+.2f}  score, confidence {self.confidence:.0%}")
        return lines


def strongest(signals: Iterable[Signal]) -> dict[str, Signal]:
    """One signal per name: the strongest seen."""
    best: dict[str, Signal] = {}
    for s in signals:
        if s.name not in best or s.strength > best[s.name].strength:
            best[s.name] = s
    return best


def score(entries: Sequence[Entry], signals: Iterable[Signal], tested: Iterable[str] = (),
          symptom: SymptomMatch | None = None, temperature: float = 1.0) -> list[Hypothesis]:
    """Every entry scored and ranked best first, with confidences adding up to one.

    ``symptom``, the user's words matched to the catalog, moves each entry it names by its bounded
    points, as one line of evidence. ``temperature`` divides the scores in the softmax: above one
    the confidences spread, below one they sharpen; the ranking stays the same.
    """
    seen = strongest(signals)
    tested_set = set(tested) | set(seen)
    out: list[Hypothesis] = []
    for e in entries:
        prior = math.log(max(e.prior, 1e-6))
        h = Hypothesis(e.id, e.title, prior, prior)
        said = symptom.for_mode(e.id) if symptom is not None else 0.0
        if said:
            why = ("the user's words match this failure mode's symptom phrases" if said > 0 else
                   "the user's words go against this failure mode's symptom phrases")
            ev = Evidence(SYMPTOM, said, SYMPTOM, 1.0, why, symptom.quote(e.id) if symptom is not None else "")
            (h.evidence_for if said > 0 else h.evidence_against).append(ev)
            h.score += said
        for name, w in e.signals.items():
            s = seen.get(name)
            if s is None or s.strength <= 0:
                continue
            pts = w * s.strength
            ev = Evidence(name, pts, "seen", s.strength, e.why.get(name, ""), s.detail, s.exemplars)
            (h.evidence_for if pts > 0 else h.evidence_against).append(ev)
            h.score += pts
            twin = lined_up(name)
            t = seen.get(twin)
            if t is not None and t.strength > 0 and twin not in e.signals:
                pts = LINED_UP_SHARE * w * t.strength
                ev = Evidence(twin, pts, "seen", t.strength, f"its events line up with the failing requests, "
                              f"so it bears on them more than events that merely occur: {e.why.get(name, '')}",
                              t.detail, t.exemplars)
                (h.evidence_for if pts > 0 else h.evidence_against).append(ev)
                h.score += pts
        for name, w in e.absent.items():
            if name in tested_set and (name not in seen or seen[name].strength <= 0):
                ev = Evidence(name, w, "absent", 0.0, e.why.get(name, ""))
                (h.evidence_for if w > 0 else h.evidence_against).append(ev)
                h.score += w
        h.evidence_for.sort(key=lambda x: -x.points)
        h.evidence_against.sort(key=lambda x: x.points)
        out.append(h)
    if out:
        top = max(h.score for h in out)
        z = sum(math.exp((h.score - top) / temperature) for h in out)
        for h in out:
            h.confidence = math.exp((h.score - top) / temperature) / z
    out.sort(key=lambda h: (-h.score, h.id))
    return out


__all__ = ["LINED_UP_SHARE", "SYMPTOM", "Entry", "Evidence", "Hypothesis", "score", "strongest"]
