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
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from tracehound.probe.summary import summarize_run

#: A failure's signature: the flow step (None for a single request) and its kind, an HTTP error
#: status (``"504"``) or the error kind of a request without a response (``"timeout"``).
Key = tuple[str | None, str]


class Outcome(Protocol):
    """What a verdict reads of a run (a check's ``Measurement``, or :class:`RunOutcome`)."""

    requests: int
    failed: int
    failure_rate: float
    #: How many requests failed with each signature.
    failures: dict[Key, int]


@dataclass(frozen=True)
class RunOutcome:
    """A run's :class:`Outcome`, read from its records."""

    requests: int
    failed: int
    failure_rate: float
    failures: dict[Key, int]

    @classmethod
    def of(cls, run: Any) -> RunOutcome:
        """The outcome of a run folder (:class:`tracehound.probe.Run`)."""
        s = summarize_run(run)
        return cls(s.requests, s.failed, s.failure_rate, failure_keys(run.read(["step", "status", "error_kind"])))


def failure_keys(table: pa.Table) -> dict[Key, int]:
    """The failed requests of a run's records (``step``, ``status``, ``error_kind``) by signature."""
    status = pc.fill_null(table.column("status"), 0)
    failed = pc.or_(pc.or_(pc.equal(status, 0), pc.greater_equal(status, 400)), pc.is_valid(table.column("error_kind")))
    rows = table.filter(pc.and_(failed, pc.invert(pc.equal(pc.fill_null(table.column("error_kind"), ""),
                                                          "cancelled"))))
    kind = pc.if_else(pc.greater_equal(pc.fill_null(rows.column("status"), 0), 400),
                      pc.cast(rows.column("status"), pa.string()), pc.cast(rows.column("error_kind"), pa.string()))
    steps = pc.cast(rows.column("step"), pa.string()) if rows.num_rows else pa.array([], pa.string())
    counts = pa.table({"step": steps, "kind": pc.fill_null(kind, "other")}).group_by(["step", "kind"]).aggregate(
        [("kind", "count")])
    return {(r["step"], r["kind"]): r["kind_count"] for r in counts.to_pylist()}


#: How a starved machine makes a healthy service fail: requests that wait too long, given up by the
#: client (its timeout) or by a gateway (504).
SLOW_FAILURES = frozenset({"timeout", "connect_timeout", "504"})
#: Failures that only follow another one: a flow step not sent because the step that captures its
#: variable failed.
FOLLOWING = frozenset({"capture"})
#: A twin failing like the faulty version may fail at most this share of the faulty version's rate
#: (a twin that is not fixed fails about as often, whatever the machine).
MACHINE_SHARE = 0.5


def waited_only(m: Outcome) -> bool:
    """Whether every failure of the run is waiting (:data:`SLOW_FAILURES`), or followed from one."""
    kinds = {kind for _, kind in m.failures}
    return bool(kinds & SLOW_FAILURES) and kinds <= SLOW_FAILURES | FOLLOWING


def _said(failures: dict[Key, int]) -> str:
    return ", ".join(f"{n} × {kind}" + (f" at {step}" if step else "")
                     for (step, kind), n in sorted(failures.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])))


def twin_verdict(faulty: Outcome, twin: Outcome) -> tuple[str | None, str | None]:
    """``(problem, note)`` on a fixed twin measured right after its faulty version.

    No failure: clean. Failures that are all waiting (:data:`SLOW_FAILURES`, and the flow steps that
    followed them) and either unlike the faulty version's (other steps: a sign-in that a starved CPU
    makes slow in both versions, where the bug fails the cheap calls behind it) or at most
    :data:`MACHINE_SHARE` as frequent as the faulty version's on the same steps: clean, with a note
    that the machine was too busy. Anything else is the problem a twin that is not fixed shows.
    """
    if twin.requests == 0:
        return "fixed twin: no request completed", None
    if not twin.failed:
        return None, None
    said = _said(twin.failures)
    problem = f"fixed twin failed {twin.failed} of {twin.requests} requests ({said})"
    if not waited_only(twin):
        return problem, None
    alike = {key for key in twin.failures if key[1] in SLOW_FAILURES and key in faulty.failures}
    twin_rate = sum(twin.failures[k] for k in alike) / twin.requests
    faulty_rate = sum(faulty.failures[k] for k in alike) / max(faulty.requests, 1)
    if alike and twin_rate > MACHINE_SHARE * faulty_rate:
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


__all__ = ["BUSY_SHARE", "FOLLOWING", "MACHINE_SHARE", "SLOW_FAILURES", "WAITING_MARGIN", "Key", "Outcome",
           "RunOutcome", "cpu_share", "failure_keys", "over_range_allowed", "twin_verdict", "waited_only"]
