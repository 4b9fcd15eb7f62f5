"""Sampling a data store in the background, before, during and after the experiments.

A database's views say what it is doing *now*: who holds a connection, who waits on whom. To
compare that with the requests, a sampler polls on its own connection from a thread, every
``interval_s``, and stamps each sample with the wall clock in ns, the same clock as the run
records' ``start_ns``. Cumulative counters that are costly to read (statement statistics, slow
logs) are read less often, on "heavy" samples: the first, the last, every ``heavy_every_s`` and
right after each :meth:`Sampler.mark`, so that phases have their own deltas.

A failing connection is an observation, not a crash: the sample records the error, the next
tick reconnects. A source that rejects the very first connection for good (a wrong password) is
not retried; only a bug in the sampler itself ends it otherwise (kept in ``crash``)::

    sampler = PostgresSampler(dsn).start()
    sampler.mark("baseline")      # the orchestrator tags each experiment as it begins
    ...
    sampler.stop()
    result = await postgres_agent(case, runs, sampler)
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow.compute as pc

from tracehound.errors import BadRun
from tracehound.redact import redact_text

#: Samples kept at most; past it the older half is thinned (heavy samples are always kept).
MAX_SAMPLES = 20_000


@dataclass
class Sample:
    """One poll: when (wall clock, ns), during which phase, what was read, or why it failed."""

    t_ns: int
    phase: str
    data: dict[str, Any] | None = None
    error: str | None = None
    heavy: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Recording:
    """What a sampler collected: its samples and marks, plus what it read once on connecting."""

    source: str
    samples: list[Sample]
    marks: list[tuple[int, str]]
    #: Read once, on the first connection (server settings, version, privileges).
    info: dict[str, Any] = field(default_factory=dict)
    #: Set when the sampler stopped on a bug of its own (not on a connection failure).
    crash: str | None = None

    @property
    def ok_samples(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    def first_error(self) -> str | None:
        return next((s.error for s in self.samples if s.error), None)


class Sampler(ABC):
    """A background poller with its own connection; subclasses say how to connect and what to read."""

    #: The source's name in findings and errors ("PostgreSQL", "Redis").
    source = "source"
    #: Driver exceptions that mean "the server or the connection failed": recorded, not raised.
    driver_errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, interval_s: float = 0.5, heavy_every_s: float = 5.0) -> None:
        if not 0.05 <= interval_s <= 60:
            raise ValueError("interval_s must be between 0.05 and 60 seconds")
        self.interval_s = interval_s
        self.heavy_every_s = heavy_every_s
        self.info: dict[str, Any] = {}
        self.crash: str | None = None
        self._samples: list[Sample] = []
        self._marks: list[tuple[int, str]] = []
        self._phase = "before"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._heavy_due = True
        self._last_heavy = 0.0
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._ever_ok = False
        self._gave_up = False

    # -- what subclasses provide -----------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """A new connection; on the first one, also fill ``self.info`` (settings, version …)."""

    @abstractmethod
    def _read(self, conn: Any, heavy: bool) -> dict[str, Any]:
        """One sample's data; the cumulative, costlier reads only when ``heavy``."""

    def _fatal(self, error: BaseException) -> bool:
        """True when ``error`` will not go away by retrying (wrong password, bad DSN): stop trying."""
        return False

    def _close(self, conn: Any) -> None:
        close = getattr(conn, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
                pass

    #: Where the source is (a DSN or URL), as given; subclasses set it.
    address: str = ""

    # -- the public surface ----------------------------------------------------------------
    def start(self) -> Sampler:
        """Begin sampling in a daemon thread (returns at once; the first sample follows)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"tracehound-{self.source}-sampler", daemon=True)
            self._thread.start()
        return self

    def mark(self, label: str) -> None:
        """Tag the samples from now on with ``label`` (an experiment's name); takes a heavy sample now."""
        with self._lock:
            self._marks.append((time.time_ns(), label))
            self._phase = label
            self._heavy_due = True
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> Sampler:
        """Take a last (heavy) sample, close the connection and end the thread."""
        if self._thread is not None:
            with self._lock:
                self._phase = "after" if self._marks else self._phase
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout_s)
        return self

    def sample_once(self) -> Sampler:
        """Two heavy samples ``interval_s`` apart, in the calling thread: a snapshot without a thread."""
        self._tick(heavy=True)
        time.sleep(self.interval_s)
        self._tick(heavy=True)
        self._disconnect()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def samples(self) -> list[Sample]:
        with self._lock:
            return list(self._samples)

    @property
    def marks(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._marks)

    def recording(self) -> Recording:
        return Recording(self.source, self.samples, self.marks, dict(self.info), self.crash)

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the thread --------------------------------------------------------------------------
    def _loop(self) -> None:
        next_t = time.monotonic()
        try:
            while not self._stop.is_set():
                self._tick()
                next_t += self.interval_s
                now = time.monotonic()
                if next_t < now:  # a slow sample: skip the ticks it overran rather than bunch them
                    next_t = now + self.interval_s
                if self._wake.wait(next_t - now):
                    self._wake.clear()
            if not self._gave_up:
                self._tick(heavy=True)
        except Exception as e:  # noqa: BLE001 - a sampler bug must not kill the investigation; it is reported
            self.crash = f"{type(e).__name__}: {e}"
        finally:
            self._disconnect()

    def _tick(self, heavy: bool | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            if heavy is None:
                heavy = self._heavy_due or now - self._last_heavy >= self.heavy_every_s
            self._heavy_due = False
            phase = self._phase
        t_ns = time.time_ns()
        try:
            if self._conn is None:
                self._conn = self._connect()
                heavy = True  # a new connection starts with a full read
            data = self._read(self._conn, heavy)
            # Stamped when the answer came: the server read its state just before answering, which for a
            # service whose thread was blocked is long after the question was sent.
            sample = Sample(time.time_ns(), phase, data, heavy=heavy)
            if heavy:
                self._last_heavy = now
        except self.driver_errors as e:
            sample = Sample(t_ns, phase, error=one_line(e))
            self._disconnect()
            if not self._ever_ok and self._fatal(e):
                self._gave_up = True  # retrying a wrong password every tick only fills the server's log
                self._stop.set()
        else:
            self._ever_ok = True
        with self._lock:
            self._samples.append(sample)
            if len(self._samples) > MAX_SAMPLES:
                self._samples = _thinned(self._samples)

    def _disconnect(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._close(conn)


def _thinned(samples: list[Sample]) -> list[Sample]:
    """Every other light sample of the older half dropped: long recordings keep their shape."""
    half = len(samples) // 2
    older = [s for i, s in enumerate(samples[:half]) if s.heavy or not s.ok or i % 2 == 0]
    return older + samples[half:]


def sample_for(sampler: Sampler, duration_s: float) -> tuple[float, bool]:
    """Run ``sampler`` for ``duration_s`` in the background and stop it: (seconds, interrupted by Ctrl-C).

    Ctrl-C ends the sampling early and keeps what was collected.
    """
    t0 = time.monotonic()
    sampler.start()
    interrupted = False
    try:
        while time.monotonic() - t0 < duration_s and sampler.running:
            time.sleep(min(0.2, duration_s))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        sampler.stop()
    return time.monotonic() - t0, interrupted


def aligned(n: int, window: tuple[int, int] | None) -> str:
    """How many samples fell while requests ran, for a detail line."""
    if window is None:
        return "no probed requests to align with"
    return f"{n} while requests ran" if n else "none while requests ran: a snapshot taken after them"


def clock(t_ns: int) -> str:
    """A sample's wall-clock time, UTC, to the millisecond."""
    return time.strftime("%H:%M:%S", time.gmtime(t_ns / 1e9)) + f".{t_ns // 1_000_000 % 1000:03d}Z"


def one_line(e: BaseException) -> str:
    """An exception as one redacted line (drivers put hints and context on later lines)."""
    text = str(e).strip().splitlines()
    msg = text[0].strip() if text else type(e).__name__
    return redact_text(msg)


def request_times(runs: Sequence[Any]) -> np.ndarray:
    """Sorted wall-clock start times (ns) of the requests the experiments sent at the target.

    Canary runs are left out: their requests are meant to touch nothing. Unreadable runs too.
    """
    parts: list[np.ndarray] = []
    for run in runs:
        if ((getattr(run, "meta", None) or {}).get("experiment") or {}).get("role") == "canary":
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


def during(samples: Sequence[Sample], window: tuple[int, int] | None, slack_ns: int = 1_000_000_000) -> list[Sample]:
    """The samples taken while requests were being sent (all of them without a window)."""
    if window is None:
        return list(samples)
    t0, t1 = window[0] - slack_ns, window[1] + slack_ns
    return [s for s in samples if t0 <= s.t_ns <= t1]



# -- the agent and the command, for any sampled source -------------------------------------------


def recording_result(name: str, rec: Recording, times: np.ndarray, address: str,
                     analyze: Callable[[Recording, np.ndarray], Any],
                     connect_error: Callable[[str, BaseException], Any]) -> Any:
    """An agent's result from a recording: failed in one line when nothing was sampled, else the analysis."""
    from tracehound.agents.base import AgentResult

    if rec.crash:
        return AgentResult(name, "failed", f"the sampler stopped on an internal error: {rec.crash}")
    if not rec.ok_samples:
        err = rec.first_error()
        return AgentResult(name, "failed", connect_error(address, RuntimeError(err)).line() if err else "no sample was taken")
    res = analyze(rec, times)
    return AgentResult(name, "ok", res.detail, res.findings, tested=sorted(set(res.tested)))


async def sampled_agent(name: str, address: str | None, flag: str, sampler: Sampler | None,
                        make: Callable[[str], Sampler], runs: Sequence[Any],
                        result: Callable[[Recording, np.ndarray, str], Any]) -> Any:
    """The agent of a sampled source: the sampler's recording (or, without one, a snapshot taken now) against the runs."""
    import asyncio

    from tracehound.agents.base import AgentResult
    from tracehound.errors import BadSource

    if sampler is None:
        if not address:
            return AgentResult(name, "skipped", f"no {flag} given")
        try:
            sampler = make(address)
        except BadSource as e:
            return AgentResult(name, "failed", e.line())
        await asyncio.to_thread(sampler.sample_once)
    return await asyncio.to_thread(result, sampler.recording(), request_times(runs), sampler.address)


def inspect_for(sampler: Sampler, duration_s: float, result: Callable[[Recording, np.ndarray, str], Any]) -> Any:
    """Sample for ``duration_s`` and analyse (the ``tracehound db`` command); connection errors raise.

    Ctrl-C stops the sampling early and keeps the samples.
    """
    sampler.check()
    seconds, interrupted = sample_for(sampler, duration_s)
    res = result(sampler.recording(), np.zeros(0, np.int64), sampler.address)
    res.seconds = seconds
    if interrupted:
        res.detail += " (interrupted)"
    return res

__all__ = ["Recording", "Sample", "Sampler", "aligned", "inspect_for", "recording_result", "sampled_agent", "clock", "count_between", "during", "load_window", "one_line", "request_times",
           "sample_for"]
