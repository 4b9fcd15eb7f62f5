"""Experiments that split causes the fixed script cannot: each varies one condition of a load already run.

- :func:`fresh_connections`: the same load with a new connection per request. Failures that need a
  reused connection (a keep-alive race) vanish; a server-side fault stays.
- :func:`timeout_varied`: the condition that failed, with another client timeout. Do failures end
  at our timeout (the request hangs), succeed when we wait longer (slow work, a queue), or end at a
  fixed latency of the service or its gateway (its own timeout)?
- :func:`bursts`: a steady run's mean arrival rate, sent in bursts. Windows, queues, pools and rate
  limits answer to the peak, not the mean.
- :func:`knee_levels`: the concurrency levels that narrow where failures begin, between the
  highest level that held and the lowest that failed: an estimate of a pool or worker count.

:data:`SIGNALS` says which signal names each kind's analysis (in the traffic agent) can emit or
test; the planner weighs an experiment by what the catalog's failure modes predict for them.
"""

from __future__ import annotations

import math
from dataclasses import replace

from tracehound.analysis.knee import knee
from tracehound.case import Case
from tracehound.errors import BadShape
from tracehound.experiments import Experiment
from tracehound.probe import LoadShape
from tracehound.probe.shapes import Stage, check_timeout

#: Experiment kind → the signals its analysis can emit or test. ``knee`` is the levels of
#: :func:`knee_levels` (sweep levels, kind ``sweep``): what they add to the levels already run.
SIGNALS: dict[str, tuple[str, ...]] = {
    "fresh_conn": ("failures_need_reused_connection", "failures_persist_on_fresh_connections"),
    "timeout_varied": ("failures_follow_client_timeout", "slow_not_stuck", "failure_latency_fixed_by_server"),
    "burst": ("failures_follow_bursts",),
    "knee": ("failures_begin_at_fixed_concurrency",),
}

def fresh_connections(case: Case, like: Experiment) -> Experiment:
    """``like``'s load (an idle-gap probe, a sweep level, the low-rate probe) with a new connection per request."""
    del case  # the load is like's; only the connections change
    return Experiment(
        "fresh_conn", f"the load of {like.name} with a new connection per request (Connection: close): do the "
        "failures need a reused connection?",
        replace(like.shape), concurrency=like.concurrency, rate=like.rate, gap_s=like.gap_s,
        gaps=list(like.gaps) if like.gaps else None, gap_spread_s=like.gap_spread_s, delay_s=like.delay_s,
        flow=like.flow, keepalive=False,
        timeout_s=like.timeout_s, like=like.like or like.kind, burst_s=like.burst_s, period_s=like.period_s)


def timeout_varied(case: Case, like: Experiment, timeout_s: float) -> Experiment:
    """The condition of ``like`` (one that failed) with the client timeout ``timeout_s``."""
    check_timeout(timeout_s)
    ours = like.timeout_s if like.timeout_s is not None else case.timeout_s
    # The run must last long enough for its last requests to reach the longer timeout.
    shape = replace(like.shape)
    if shape.duration is not None and timeout_s > ours:
        shape = replace(shape, max_duration=max(shape.max_duration, shape.duration + timeout_s))
    return Experiment(
        "timeout_varied", f"{like.name} again with a {timeout_s:g} s client timeout instead of {ours:g} s: do the "
        "failures follow our timeout, succeed when we wait longer, or end at a fixed time of the service?",
        shape, concurrency=like.concurrency, rate=like.rate, gap_s=like.gap_s,
        gaps=list(like.gaps) if like.gaps else None, gap_spread_s=like.gap_spread_s, delay_s=like.delay_s,
        flow=like.flow, keepalive=like.keepalive,
        timeout_s=timeout_s, like=like.like or like.kind, burst_s=like.burst_s, period_s=like.period_s)


def bursts(case: Case, rate: float, seconds: float, burst_s: float, period_s: float = 1.0) -> Experiment:
    """``rate`` requests/s on average for ``seconds``, each ``period_s``'s arrivals all within its first ``burst_s``.

    Compare it with a steady open-model run at the same ``rate`` (``experiments.rate_level``, or
    :func:`steady`): the same number of requests, the same connections; only their spacing differs.
    """
    if not 0 < burst_s < period_s:
        raise BadShape(f"a burst of {burst_s:g} s must be shorter than its period of {period_s:g} s")
    periods = max(1, math.ceil(seconds / period_s))
    stages: list[Stage] = []
    for _ in range(periods):
        stages += [Stage(burst_s, rate * period_s / burst_s, ramp=False), Stage(period_s - burst_s, 0.0, ramp=False)]
    peak = rate * period_s / burst_s
    return Experiment(
        "burst", f"{rate:g} requests/s on average, sent in bursts ({peak:g}/s for {burst_s:g} s of every "
        f"{period_s:g} s): do bursts fail where steady arrivals at the same mean rate do not?",
        LoadShape(stages=stages, open_model=True, concurrency=case.max_concurrency,
                  max_connections=case.max_concurrency, duration=periods * period_s),
        rate=rate, concurrency=case.max_concurrency, burst_s=burst_s, period_s=period_s)


def steady(case: Case, rate: float, seconds: float) -> Experiment:
    """The steady open-model run a burst experiment is compared with (a sweep level by arrival rate)."""
    return Experiment("sweep", f"{rate:g} requests/s arriving steadily: the reference for bursts at that mean rate",
                      LoadShape(rate=rate, duration=seconds, open_model=True, concurrency=case.max_concurrency,
                                max_connections=case.max_concurrency),
                      rate=rate, concurrency=case.max_concurrency)


def knee_levels(case: Case, levels_run: list[Experiment], most: int = 3) -> list[int]:
    """Concurrency levels to try between the highest that held and the lowest that failed (at most ``most``).

    The interval is split evenly; levels already run are left out. Empty when the knee is already
    found to one level, or nothing brackets it.
    """
    found = knee([(e.concurrency, e.failures, e.requests) for e in levels_run
                  if e.concurrency is not None and e.rate is None and e.kind in KNEE_KINDS and e.requests])
    if found is None:
        return []
    lo, hi = found.held, found.failed
    if hi - lo <= 1:
        return []
    done = {e.concurrency for e in levels_run}
    parts = min(most, hi - lo - 1) + 1
    picks = sorted({round(lo + (hi - lo) * i / parts) for i in range(1, parts)} - done - {lo, hi})
    return [c for c in picks if lo < c < hi and c <= case.max_concurrency]


#: The kinds whose runs are closed-model concurrency levels.
KNEE_KINDS = ("baseline", "sweep", "confirm")

__all__ = ["KNEE_KINDS", "SIGNALS", "bursts", "fresh_connections", "knee_levels", "steady", "timeout_varied"]
