"""How much an experiment is expected to tell: its information gain over the current ranking.

The catalog's weights are natural-log likelihood ratios (:mod:`tracehound.diagnosis.scoring`), so
they already say what each failure mode predicts an experiment will show. For a signal ``s`` the
experiment can emit, a mode ``m`` with weight ``w`` predicts it present with probability

    q(m, s) = clamp(BASE · e^(w · STRENGTH), LOW, HIGH)

(``BASE`` the chance of a signal a mode says nothing about). The ranking after each outcome is the
one :func:`~tracehound.diagnosis.scoring.score` would give: a seen signal moves each mode by
``w · STRENGTH``, a tested and absent one by its ``absent:`` weight. The expected gain is the
ranking's entropy now minus its expected entropy after the experiment, over the joint outcomes
of its signals (taken as independent given the mode). A signal already tested counts for less,
since a second look mostly confirms the first.

The same numbers answer a second question while nothing has failed yet: how likely an experiment
is to show anything at all (:func:`chance_of_showing`), under the priors and the user's words.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracehound.diagnosis.scoring import Entry

#: The chance that a mode shows a signal its entry says nothing about.
BASE = 0.15
LOW, HIGH = 0.02, 0.95
#: The strength an emitted signal is assumed to have when predicting its effect on the ranking.
STRENGTH = 0.7
#: A signal already tested weighs this much in a new experiment's gain.
RETEST = 0.3
#: Modes considered: the leaders, the rest pooled (they add entropy but no contrast worth the cost).
TOP = 8


def predicts(entry: Entry, signal: str) -> float:
    """The chance that ``entry``'s failure mode shows ``signal`` in an experiment that tests it."""
    w = entry.signals.get(signal, 0.0)
    if not w:
        a = entry.absent.get(signal, 0.0)
        # An ``absent:`` penalty alone says the mode expects the signal.
        w = -a if a < 0 else 0.0
    return min(HIGH, max(LOW, BASE * math.exp(w * STRENGTH)))


def entropy(p: Sequence[float]) -> float:
    return -sum(x * math.log2(x) for x in p if x > 0)


def posterior(scores: Mapping[str, float]) -> dict[str, float]:
    """The softmax of ``scores`` (the ranking's confidences)."""
    if not scores:
        return {}
    top = max(scores.values())
    z = sum(math.exp(s - top) for s in scores.values())
    return {k: math.exp(s - top) / z for k, s in scores.items()}


@dataclass
class Gain:
    """What one experiment is expected to tell."""

    bits: float
    #: The two leading modes whose predictions differ most: the pair it is meant to split.
    splits: tuple[str, ...]
    #: The chance that at least one of its signals shows, under the current ranking.
    shows: float


def expected_gain(scores: Mapping[str, float], entries: Mapping[str, Entry], signals: Sequence[str],
                  tested: frozenset[str] | set[str] = frozenset()) -> Gain:
    """The expected information gain (bits) of an experiment that tests ``signals``, over ``scores``.

    ``scores`` are the modes' current log-odds scores (``none`` included when it is ranked).
    """
    signals = [s for s in dict.fromkeys(signals)][:4]
    p_all = posterior(scores)
    if not p_all or not signals:
        return Gain(0.0, (), 0.0)
    lead = sorted(p_all, key=lambda k: -p_all[k])
    kept = [m for m in lead[:TOP] if m in entries]
    rest = 1.0 - sum(p_all[m] for m in kept)
    p = [p_all[m] for m in kept] + ([rest] if rest > 1e-9 else [])
    h0 = entropy(p)
    q = [[predicts(entries[m], s) for s in signals] for m in kept]
    # The pooled rest predicts the base rate and does not move.
    moves_seen = [[entries[m].signals.get(s, 0.0) * STRENGTH for s in signals] for m in kept]
    moves_absent = [[entries[m].absent.get(s, 0.0) for s in signals] for m in kept]
    expected_h = 0.0
    shows = 0.0
    for outcome in itertools.product((True, False), repeat=len(signals)):
        like = []
        for i in range(len(kept)):
            li = 1.0
            for j, seen in enumerate(outcome):
                li *= q[i][j] if seen else 1 - q[i][j]
            like.append(li)
        rest_like = math.prod(BASE if seen else 1 - BASE for seen in outcome)
        p_out = sum(pi * li for pi, li in zip(p, like, strict=False)) + (p[-1] * rest_like if rest > 1e-9 else 0.0)
        if p_out <= 0:
            continue
        if any(outcome):
            shows += p_out
        # The ranking after this outcome, as the scorer would move it.
        post = []
        for i, m in enumerate(kept):
            delta = sum(moves_seen[i][j] if seen else moves_absent[i][j] for j, seen in enumerate(outcome))
            post.append(p_all[m] * math.exp(delta))
        if rest > 1e-9:
            post.append(rest)
        z = sum(post)
        expected_h += p_out * entropy([x / z for x in post])
    bits = max(0.0, h0 - expected_h)
    retested = sum(s in tested for s in signals) / len(signals)
    bits *= 1 - (1 - RETEST) * retested
    return Gain(bits, _split_pair(kept, p_all, q), shows)


def chance_of_showing(scores: Mapping[str, float], entries: Mapping[str, Entry], signals: Sequence[str]) -> float:
    """The chance that an experiment testing ``signals`` shows at least one of them, under ``scores``."""
    return expected_gain(scores, entries, signals).shows


def _split_pair(kept: Sequence[str], p: Mapping[str, float], q: Sequence[Sequence[float]]) -> tuple[str, ...]:
    """Of the leading modes, the two most likely whose predictions differ most (weighted by their chances)."""
    best: tuple[float, tuple[str, ...]] = (0.0, ())
    n = min(len(kept), 5)
    for i in range(n):
        for j in range(i + 1, n):
            diff = max(abs(a - b) for a, b in zip(q[i], q[j], strict=True))
            w = diff * math.sqrt(p[kept[i]] * p[kept[j]])
            if w > best[0]:
                best = (w, (kept[i], kept[j]))
    return best[1]


__all__ = ["BASE", "Gain", "chance_of_showing", "entropy", "expected_gain", "posterior", "predicts"]
