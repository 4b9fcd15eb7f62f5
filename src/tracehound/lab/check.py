"""Checking that each scenario still does what its metadata says, under its declared load.

The faulty version must fail within its expected range, its fixed twin and every healthy control
not at all — except, for the twin, as far as the machine explains: measured right after the
faulty version, on the same machine, a twin may lose a few requests to a starved CPU. Those
failures look like waiting (the client's timeout, a gateway's 504), and they are far rarer than
the faulty version's or unlike them; a twin that is not fixed fails as the faulty version does.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tracehound.errors import TracehoundError
from tracehound.failure_modes import NONE
from tracehound.lab import servers
from tracehound.lab.instance import up
from tracehound.lab.scenario import Scenario, get_scenario, scenarios
from tracehound.probe import probe
from tracehound.probe.summary import summarize_run


@dataclass
class Measurement:
    """What one probe of one version measured."""

    requests: int
    failed: int
    failure_rate: float
    status_counts: dict[str, int]
    error_kinds: dict[str, int]
    errors: list[str]
    p50_ms: float | None
    run_dir: Path | None = None


class Outcome(Protocol):
    """What :func:`twin_verdict` reads of a run (a :class:`Measurement` or a probe's ``Summary``)."""

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


@dataclass
class CheckResult:
    """The verdict on one scenario: the faulty version in range, the twin (if any) clean."""

    scenario: str
    failure_mode: str
    expected: tuple[float, float]
    faulty: Measurement | None = None
    twin: Measurement | None = None
    problems: list[str] = field(default_factory=list)
    #: What the verdict let pass and why (a twin's failures put down to a busy machine).
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    @property
    def healthy(self) -> bool:
        return self.failure_mode == NONE


def measure(scenario: Scenario, fixed: bool = False, log_dir: Path | None = None) -> Measurement:
    """Start one version of ``scenario``, probe it with its declared load, and stop it."""
    keep = log_dir is not None
    work = Path(log_dir) if log_dir is not None else servers.temp_dir(f"check-{scenario.name}")
    try:
        with up(scenario, fixed=fixed, log_dir=work / "logs") as inst:
            config = scenario.probe_config(inst.url, out=work / "run", label=f"lab-{scenario.name}")
            try:
                run = probe(config)
            finally:
                servers.guard()  # the probe's event loop resets SIGTERM to its default
            if run.interrupted:
                raise KeyboardInterrupt
            s = summarize_run(run)
        latency = s.latency_ok or s.latency_failed
        return Measurement(
            requests=s.requests,
            failed=s.failed,
            failure_rate=s.failure_rate,
            status_counts=dict(s.status_counts),
            error_kinds=dict(s.error_kinds),
            errors=[f"{e['count']} × {_first_line(e['message'])}" for e in s.errors[:3]],
            p50_ms=latency.percentiles_ms.get("p50") if latency is not None else None,
            run_dir=run.path if keep else None,
        )
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _first_line(message: str, limit: int = 160) -> str:
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def check_one(scenario: Scenario, log_dir: Path | None = None) -> CheckResult:
    """Reproduce one scenario and verify its twin; errors starting it become the result's ``error``.

    A twin that only waited, and too often to put down to the machine, is measured once more with
    its faulty version (a busy machine's load comes and goes; a twin that is not fixed fails again).
    """
    result = _check_pair(scenario, log_dir)
    if result.error is None and result.twin is not None and result.problems and waited_only(result.twin):
        again = _check_pair(scenario, log_dir / "again" if log_dir else None)
        again.notes.insert(0, f"measured twice: the first time, {'; '.join(result.problems)}")
        result = again
    return result


def _check_pair(scenario: Scenario, log_dir: Path | None) -> CheckResult:
    result = CheckResult(scenario.name, scenario.failure_mode, scenario.expected_failure_rate)
    try:
        _measure_pair(scenario, log_dir, result)
    except TracehoundError as e:
        result.error = e.line()
    return result


def _measure_pair(scenario: Scenario, log_dir: Path | None, result: CheckResult) -> None:
    lo, hi = scenario.expected_failure_rate
    out_of_range: str | None = None
    m = result.faulty = measure(scenario, False, log_dir / "faulty" if log_dir else None)
    if m.requests == 0:
        result.problems.append("no request completed")
    elif scenario.healthy:
        if m.failed:
            result.problems.append(f"healthy control failed {m.failed} of {m.requests} requests")
    elif not lo <= m.failure_rate <= hi:
        result.problems.append(out_of_range := f"failure rate {m.failure_rate:.1%} outside the expected "
                                               f"{lo:.0%}–{hi:.0%}")
    if scenario.fixed is not None:
        t = result.twin = measure(scenario, True, log_dir / "fixed" if log_dir else None)
        problem, note = twin_verdict(m, t)
        result.problems.extend([problem] if problem else [])
        result.notes.extend([note] if note else [])
        if note and out_of_range and m.failure_rate > hi and waited_only(m):
            # The twin waited too, right after: the machine, which made the faulty version wait longer still.
            result.problems.remove(out_of_range)
            result.notes.append(f"{out_of_range}, all waiting, on a machine too busy for the fixed twin too")


def check(
    names: Sequence[str] | None = None,
    log_dir: Path | None = None,
    on_result: Callable[[CheckResult], Any] | None = None,
    on_start: Callable[[Scenario], Any] | None = None,
) -> list[CheckResult]:
    """Check the named scenarios (default: all), one after the other.

    ``on_start`` sees each scenario before its check, ``on_result`` each verdict. Logs and run
    folders are kept under ``log_dir/<scenario>/{faulty,fixed}/`` when it is given.
    """
    chosen = [get_scenario(n) for n in names] if names else scenarios()
    results = []
    for sc in chosen:
        if on_start is not None:
            on_start(sc)
        r = check_one(sc, Path(log_dir) / sc.name if log_dir else None)
        results.append(r)
        if on_result is not None:
            on_result(r)
    return results
