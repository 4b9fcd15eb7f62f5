"""Limits that more than one layer decides by: set once here, read everywhere."""

from __future__ import annotations

#: Fewer failures than this, across everything sent, is not a reproduction: one failure is a lead,
#: two are a pattern worth ranking causes for.
MIN_FAILURES = 2


def reproduced(failures: int) -> bool:
    """Whether this many failures count as a reproduction (and so get a ranking of causes)."""
    return failures >= MIN_FAILURES


__all__ = ["MIN_FAILURES", "reproduced"]
