"""What the agents of sampled sources (PostgreSQL, Redis, metrics) share: their samples lined up with the requests.

A sampler's recording covers the experiments and a little before and after; these helpers take
the probed requests' start times from the runs, pick the samples taken while requests ran, and
turn a recording into an agent's result (failed, in one line, when nothing could be sampled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow.compute as pc

from tracehound.agents.base import AgentResult, Analysis, RecordedRun, is_canary
from tracehound.errors import BadRun, BadSource, SourceUnreachable
from tracehound.sources.sampler import AnySampler, FailedSample, Recording, Sample, sample_for

DataT = TypeVar("DataT")
InfoT = TypeVar("InfoT")
SamplerT = TypeVar("SamplerT", bound=AnySampler)
TimedT = TypeVar("TimedT", bound=Sample[Any] | FailedSample)
ConnectError = Callable[[str, BaseException], BadSource | SourceUnreachable]


def request_times(runs: Sequence[RecordedRun]) -> np.ndarray:
    """Sorted wall-clock start times (ns) of the requests the experiments sent at the target.

    Canary runs are left out: their requests are meant to touch nothing. Unreadable runs too.
    """
    parts: list[np.ndarray] = []
    for run in runs:
        if is_canary(run):
            continue
        try:
            table = run.table
        except BadRun:
            continue
        if table.num_rows and "start_ns" in table.column_names:
            parts.append(pc.drop_null(table.column("start_ns")).to_numpy().astype(np.int64, copy=False))
    if not parts:
        return np.zeros(0, np.int64)
    t = np.concatenate(parts)
    t = t[t > 0]
    t.sort()
    return t


def load_window(times: np.ndarray) -> tuple[int, int] | None:
    """The span the requests cover, or None without requests."""
    if times.size == 0:
        return None
    return int(times[0]), int(times[-1])


def count_between(times: np.ndarray, t0: int, t1: int) -> int:
    """How many of the sorted ``times`` fall in [t0, t1)."""
    return int(np.searchsorted(times, t1, "left") - np.searchsorted(times, t0, "left"))


def during(samples: Sequence[TimedT], window: tuple[int, int] | None, slack_ns: int = 1_000_000_000) -> list[TimedT]:
    """The samples taken while requests were being sent (all of them without a window)."""
    if window is None:
        return list(samples)
    t0, t1 = window[0] - slack_ns, window[1] + slack_ns
    return [s for s in samples if t0 <= s.t_ns <= t1]


def aligned(n: int, window: tuple[int, int] | None) -> str:
    """How many samples fell while requests ran, for a detail line."""
    if window is None:
        return "no probed requests to align with"
    return f"{n} while requests ran" if n else "none while requests ran: a snapshot taken after them"


def recording_result(name: str, rec: Recording[DataT, InfoT], address: str,
                     analyze: Callable[[Recording[DataT, InfoT]], Analysis],
                     connect_error: ConnectError) -> AgentResult:
    """An agent's result from a recording: failed in one line when nothing was sampled, else the analysis."""
    if rec.crash:
        return AgentResult(name, "failed", f"the sampler stopped on an internal error: {rec.crash}")
    if not rec.ok_samples:
        err = rec.first_error()
        return AgentResult(name, "failed",
                           connect_error(address, RuntimeError(err)).line() if err else "no sample was taken")
    return analyze(rec).result(name)


async def sampler_or_snapshot(name: str, address: str | None, flag: str, sampler: SamplerT | None,
                              make: Callable[[str], SamplerT]) -> SamplerT | AgentResult:
    """The sampler that ran during the experiments, or, without one, a snapshot taken now.

    An :class:`AgentResult` instead when there is nothing to sample (skipped) or the address is
    unusable (failed, in one line).
    """
    if sampler is not None:
        return sampler
    if not address:
        return AgentResult(name, "skipped", f"no {flag} given")
    try:
        snapshot = make(address)
    except BadSource as e:
        return AgentResult(name, "failed", e.line())
    await asyncio.to_thread(snapshot.sample_once)
    return snapshot


def inspect_for(sampler: SamplerT, duration_s: float, result: Callable[[SamplerT], AgentResult]) -> AgentResult:
    """Sample for ``duration_s`` and analyse (the ``tracehound db`` command); connection errors raise.

    Ctrl-C stops the sampling early and keeps the samples.
    """
    sampler.check()
    seconds, interrupted = sample_for(sampler, duration_s)
    res = result(sampler)
    res.seconds = seconds
    if interrupted:
        res.detail += " (interrupted)"
    return res


__all__ = ["aligned", "count_between", "during", "inspect_for", "load_window", "recording_result", "request_times",
           "sampler_or_snapshot"]
