"""Checking that each scenario still does what its metadata says, under its declared load.

The faulty version must fail within its expected range, its fixed twin and every healthy control
not at all — except, for the twin, as far as a busy machine explains (:mod:`.verdict`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.errors import TracehoundError
from tracehound.failure_modes import NONE
from tracehound.lab import servers
from tracehound.lab.family import resolve_many
from tracehound.lab.instance import up
from tracehound.lab.scenario import Scenario, scenarios
from tracehound.lab.verdict import (
    BUSY_SHARE,
    Key,
    cpu_share,
    failure_keys,
    over_range_allowed,
    twin_verdict,
    waited_only,
)
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
    #: The share of a core a busy loop got right after the probe (:func:`~.verdict.cpu_share`).
    cpu_share: float = 1.0
    #: Failed requests by step and kind (:func:`~.verdict.failure_keys`).
    failures: dict[Key, int] = field(default_factory=dict)


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
    #: Why the problems say nothing of the scenario: the machine was too busy to judge it by.
    inconclusive: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    @property
    def healthy(self) -> bool:
        return self.failure_mode == NONE


def measure(scenario: Scenario, fixed: bool = False, log_dir: Path | None = None) -> Measurement:
    """Start one version of ``scenario``, probe it with its declared load, and stop it."""
    keep = log_dir is not None
    work = Path(log_dir) if log_dir is not None else servers.temp_dir(f"check-{scenario.slug}")
    try:
        with up(scenario, fixed=fixed, log_dir=work / "logs") as inst:
            config = scenario.probe_config(inst.url, out=work / "run", label=f"lab-{scenario.slug}")
            try:
                run = probe(config)
            finally:
                servers.guard()  # the probe's event loop resets SIGTERM to its default
            if run.interrupted:
                raise KeyboardInterrupt
            share = cpu_share()
            s = summarize_run(run)
            failures = failure_keys(run.read(["step", "status", "error_kind"]))
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
            cpu_share=share,
            failures=failures,
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
    measured = [m for m in (result.faulty, result.twin) if m is not None]
    if result.problems and measured and all(not m.failed or waited_only(m) for m in measured):
        share = min(m.cpu_share for m in measured)
        if share < BUSY_SHARE:
            result.inconclusive = (f"inconclusive: a busy loop got {share:.0%} of a core beside the probes, too "
                                   "little to tell waiting on a starved CPU from the scenario's own")
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
    elif m.failure_rate > hi and over_range_allowed(m, hi):
        result.notes.append(f"failure rate {m.failure_rate:.1%} above the expected {lo:.0%}–{hi:.0%}, all waiting: "
                            "a busy machine makes a waiting bug fail more often")
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
    """Check the named scenarios (default: all), one after the other; a family's variant is named
    ``family/variant``, and a family's name alone stands for all its variants.

    ``on_start`` sees each scenario before its check, ``on_result`` each verdict. Logs and run
    folders are kept under ``log_dir/<scenario>/{faulty,fixed}/`` when it is given.
    """
    chosen = resolve_many(list(names)) if names else scenarios()
    results = []
    for sc in chosen:
        if on_start is not None:
            on_start(sc)
        r = check_one(sc, Path(log_dir) / sc.name if log_dir else None)
        results.append(r)
        if on_result is not None:
            on_result(r)
    return results
