"""Judging a fixed twin beside its faulty version, on a machine that may be busy with other work.

Measured right after the faulty version, on the same machine, a fixed twin may lose a few
requests to a starved CPU. Those failures look like waiting (the client's timeout, a gateway's
504, and the flow steps that needed what a timed-out step would have captured), and they are
unlike the faulty version's or far rarer; a twin that is not fixed fails as the faulty version
does, whatever the machine. When the machine gives a process less than half a core, neither
version's failures say anything of the fix: the verdict is then inconclusive, not a pass.
"""

from __future__ import annotations

import statistics
import time
from typing import Protocol


class Outcome(Protocol):
    """What a verdict reads of a run (a check's ``Measurement`` or a probe's ``Summary``)."""

    requests: int
    failed: int
    failure_rate: float
    status_counts: dict[str, int]
    error_kinds: dict[str, int]


#: How a starved machine makes a healthy service fail: requests that wait too long, given up by the
#: client (its timeout) or by a gateway (504).
SLOW_FAILURES = frozenset({"timeout", "connect_timeout", "504"})
#: Failures that only follow another one: a flow step not sent because the step that captures its
#: variable failed.
FOLLOWING = frozenset({"capture"})
#: A twin failing like the faulty version may fail at most this share of the faulty version's rate
#: (a twin that is not fixed fails about as often, whatever the machine).
MACHINE_SHARE = 0.5


def failure_kinds(m: Outcome) -> dict[str, int]:
    """The run's failures by kind: an HTTP error status, or the error kind of a request without one."""
    kinds = {s: n for s, n in m.status_counts.items() if s.isdigit() and int(s) >= 400}
    if m.status_counts.get("none"):
        kinds.update(m.error_kinds)
    return kinds


def waited_only(m: Outcome) -> bool:
    """Whether every failure of the run is waiting (:data:`SLOW_FAILURES`), or followed from one."""
    kinds = set(failure_kinds(m))
    return bool(kinds & SLOW_FAILURES) and kinds <= SLOW_FAILURES | FOLLOWING


def twin_verdict(faulty: Outcome, twin: Outcome) -> tuple[str | None, str | None]:
    """``(problem, note)`` on a fixed twin measured right after its faulty version.

    No failure: clean. Failures that are all waiting (:data:`SLOW_FAILURES`, and the flow steps that
    followed them) and either unlike the faulty version's or at most :data:`MACHINE_SHARE` of its
    rate: clean, with a note that the machine was too busy. Anything else is the problem a twin
    that is not fixed shows.
    """
    if twin.requests == 0:
        return "fixed twin: no request completed", None
    if not twin.failed:
        return None, None
    kinds = failure_kinds(twin)
    said = ", ".join(f"{n} × {k}" for k, n in sorted(kinds.items()))
    problem = f"fixed twin failed {twin.failed} of {twin.requests} requests ({said})"
    if not waited_only(twin):
        return problem, None
    alike = set(kinds) & SLOW_FAILURES & set(failure_kinds(faulty))
    if alike and twin.failure_rate > MACHINE_SHARE * faulty.failure_rate:
        return problem, None
    than = "far fewer than" if alike else "unlike"  # far fewer: at most MACHINE_SHARE of
    return None, (f"fixed twin: {twin.failed} of {twin.requests} requests waited too long ({said}), {than} the "
                  "faulty version's failures: the machine was too busy, not the bug")


#: A faulty version whose failures are all waiting may go this far past its expected range towards
#: 100 % (a busy machine makes a waiting bug fail more often): 0.5 is halfway.
WAITING_MARGIN = 0.5


def over_range_allowed(m: Outcome, hi: float) -> bool:
    """Whether a failure rate above ``hi`` is what a busy machine does to a waiting bug."""
    return waited_only(m) and m.failure_rate <= hi + WAITING_MARGIN * (1 - hi)


#: Below this share of a core for a plain busy loop, the machine is too busy to judge a twin by.
BUSY_SHARE = 0.5


def cpu_share(samples: int = 5, slice_s: float = 0.02) -> float:
    """The share of one core this process gets now: a few short busy loops, CPU time over wall time."""
    shares = []
    for _ in range(samples):
        wall, cpu = time.perf_counter(), time.process_time()
        while time.process_time() - cpu < slice_s:
            pass
        shares.append(slice_s / max(time.perf_counter() - wall, 1e-9))
        time.sleep(slice_s)
    return min(1.0, statistics.median(shares))


__all__ = ["BUSY_SHARE", "FOLLOWING", "MACHINE_SHARE", "SLOW_FAILURES", "WAITING_MARGIN", "Outcome", "cpu_share",
           "failure_kinds", "over_range_allowed", "twin_verdict", "waited_only"]
