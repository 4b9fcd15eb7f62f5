"""Limits that more than one layer decides by: set once here, read everywhere."""

from __future__ import annotations

#: Fewer failures than this, across everything sent, is not a reproduction: one failure is a lead,
#: two are a pattern worth ranking causes for.
MIN_FAILURES = 2


#: Seconds between two samples of a database, Redis or /metrics, at least and at most: the samplers,
#: the CLI's --interval and the MCP tools' interval_s all hold to them.
MIN_INTERVAL_S = 0.05
MAX_INTERVAL_S = 60.0
INTERVAL_RULE = f"must be between {MIN_INTERVAL_S:g} and {MAX_INTERVAL_S:g} seconds"


def interval_ok(interval_s: float) -> bool:
    """Whether ``interval_s`` is a sampling interval a sampler accepts."""
    return MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S


def reproduced(failures: int) -> bool:
    """Whether this many failures count as a reproduction (and so get a ranking of causes)."""
    return failures >= MIN_FAILURES


__all__ = ["INTERVAL_RULE", "MAX_INTERVAL_S", "MIN_FAILURES", "MIN_INTERVAL_S", "interval_ok", "reproduced"]
