"""The knee: the concurrency where failures begin, bracketed by the levels run (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: A level "fails" with at least this many failures, and at least this share of its requests.
MIN_FAILURES = 2
MIN_RATE = 0.01


def level_fails(failures: int, requests: int) -> bool:
    """Whether a concurrency level counts as failing (a stray failure among hundreds does not)."""
    return failures >= MIN_FAILURES and failures >= MIN_RATE * requests


@dataclass(frozen=True)
class Knee:
    """Failures begin above ``held`` users and at ``failed``; counts pooled below and from there up."""

    held: int
    failed: int
    below: tuple[int, int]
    above: tuple[int, int]
    #: Every level at or above ``failed`` failed (a step, not a level that failed by chance).
    monotone: bool
    #: ``(concurrency, failures, requests)`` per level, pooled, in order.
    levels: tuple[tuple[int, int, int], ...]


def knee(levels: Sequence[tuple[int, int, int]]) -> Knee | None:
    """The knee from ``(concurrency, failures, requests)`` per level run; None when nothing brackets it.

    Levels at the same concurrency are pooled. None when no level failed, or none below the
    first failing one held.
    """
    pooled: dict[int, list[int]] = {}
    for c, k, n in levels:
        acc = pooled.setdefault(int(c), [0, 0])
        acc[0] += int(k)
        acc[1] += int(n)
    ordered = [(c, k, n) for c, (k, n) in sorted(pooled.items()) if n > 0]
    failing = [c for c, k, n in ordered if level_fails(k, n)]
    if not failing:
        return None
    hi = failing[0]
    held = [c for c, k, n in ordered if c < hi and not level_fails(k, n)]
    if not held:
        return None
    lo = held[-1]
    below = [(k, n) for c, k, n in ordered if c <= lo]
    above = [(k, n) for c, k, n in ordered if c >= hi]
    return Knee(held=lo, failed=hi, below=(sum(k for k, _ in below), sum(n for _, n in below)),
                above=(sum(k for k, _ in above), sum(n for _, n in above)),
                monotone=all(level_fails(k, n) for c, k, n in ordered if c >= hi), levels=tuple(ordered))


__all__ = ["MIN_FAILURES", "MIN_RATE", "Knee", "knee", "level_fails"]
