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
    recording = sampler.recording()
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from tracehound.errors import BadSource, SourceUnreachable
from tracehound.limits import INTERVAL_RULE, MAX_INTERVAL_S, MIN_INTERVAL_S, interval_ok
from tracehound.redact import redact_text

#: Samples kept at most; past it the older half is thinned (heavy samples are always kept).
MAX_SAMPLES = 20_000


class Closable(Protocol):
    """A sampler's connection: a driver's, a client's or an HTTP one."""

    def close(self) -> None: ...


#: What one poll reads (a frozen dataclass per source), what is read once on connecting, the connection.
DataT = TypeVar("DataT")
InfoT = TypeVar("InfoT")
ConnT = TypeVar("ConnT", bound=Closable)


@dataclass(frozen=True)
class Sample(Generic[DataT]):
    """One poll that answered: when (wall clock, ns), during which phase, and what was read."""

    t_ns: int
    phase: str
    data: DataT
    heavy: bool = False

    @property
    def ok(self) -> bool:
        return True

    @property
    def error(self) -> str | None:
        return None


@dataclass(frozen=True)
class FailedSample:
    """One poll that failed: when, during which phase, and why (one redacted line)."""

    t_ns: int
    phase: str
    error: str
    heavy: bool = False

    @property
    def ok(self) -> bool:
        return False


@dataclass(frozen=True)
class Recording(Generic[DataT, InfoT]):
    """What a sampler collected: its samples and marks, plus what it read once on connecting."""

    source: str
    samples: Sequence[Sample[DataT] | FailedSample]
    marks: Sequence[tuple[int, str]]
    #: Read once, on the first connection (server settings, version, privileges).
    info: InfoT
    #: Set when the sampler stopped on a bug of its own (not on a connection failure).
    crash: str | None = None

    @property
    def ok_samples(self) -> list[Sample[DataT]]:
        return [s for s in self.samples if isinstance(s, Sample)]

    def first_error(self) -> str | None:
        return next((s.error for s in self.samples if s.error), None)


class Sampler(ABC, Generic[ConnT, DataT, InfoT]):
    """A background poller with its own connection; subclasses say how to connect and what to read."""

    #: The source's name in findings and errors ("PostgreSQL", "Redis").
    source = "source"
    #: Driver exceptions that mean "the server or the connection failed": recorded, not raised.
    driver_errors: tuple[type[BaseException], ...] = (OSError,)
    #: Where the source is (a DSN or URL), as given; subclasses set it.
    address: str = ""

    def __init__(self, interval_s: float = 0.5, heavy_every_s: float = 5.0) -> None:
        if not interval_ok(interval_s):
            raise ValueError(f"interval_s {INTERVAL_RULE}")
        self.interval_s = interval_s
        self.heavy_every_s = heavy_every_s
        self.crash: str | None = None
        self._samples: list[Sample[DataT] | FailedSample] = []
        self._marks: list[tuple[int, str]] = []
        self._phase = "before"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._heavy_due = True
        self._last_heavy = 0.0
        self._thread: threading.Thread | None = None
        self._conn: ConnT | None = None
        self._ever_ok = False
        self._gave_up = False

    # -- what subclasses provide -----------------------------------------------------------
    @abstractmethod
    def _connect(self) -> ConnT:
        """A new connection; on the first one, also read what :meth:`info` reports (settings, version …)."""

    @abstractmethod
    def _read(self, conn: ConnT, heavy: bool) -> DataT:
        """One sample's data; the cumulative, costlier reads only when ``heavy``."""

    @abstractmethod
    def info(self) -> InfoT:
        """What was read once on connecting, and what the sampler learnt it cannot read."""

    @abstractmethod
    def connect_error(self, error: BaseException) -> BadSource | SourceUnreachable:
        """A connection failure as the error a user can act on."""

    def _close(self, conn: ConnT) -> None:
        # Closing a broken connection may fail in any way.
        with contextlib.suppress(Exception):
            conn.close()

    def _fatal(self, error: BaseException) -> bool:
        """True when ``error`` will not go away by retrying (wrong password, bad DSN): stop trying."""
        return isinstance(self.connect_error(error), BadSource)

    # -- the public surface ----------------------------------------------------------------
    def check(self) -> None:
        """Connect once and close: :class:`BadSource` or :class:`SourceUnreachable` when that fails."""
        try:
            conn = self._connect()
        except self.driver_errors as e:
            raise self.connect_error(e) from None
        self._close(conn)

    def start(self) -> Sampler[ConnT, DataT, InfoT]:
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

    def stop(self, timeout_s: float = 10.0) -> Sampler[ConnT, DataT, InfoT]:
        """Take a last (heavy) sample, close the connection and end the thread."""
        if self._thread is not None:
            with self._lock:
                self._phase = "after" if self._marks else self._phase
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout_s)
        return self

    def sample_once(self) -> Sampler[ConnT, DataT, InfoT]:
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
    def samples(self) -> list[Sample[DataT] | FailedSample]:
        with self._lock:
            return list(self._samples)

    @property
    def marks(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(self._marks)

    def recording(self) -> Recording[DataT, InfoT]:
        return Recording(self.source, self.samples, self.marks, self.info(), self.crash)

    def __enter__(self) -> Sampler[ConnT, DataT, InfoT]:
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
        sample: Sample[DataT] | FailedSample
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
            sample = FailedSample(t_ns, phase, one_line(e))
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


#: A sampler of any source, as the orchestrator holds them (it only starts, marks and stops them).
AnySampler = Sampler[Any, Any, Any]


def _thinned(samples: list[Sample[DataT] | FailedSample]) -> list[Sample[DataT] | FailedSample]:
    """Every other light sample of the older half dropped: long recordings keep their shape."""
    half = len(samples) // 2
    older = [s for i, s in enumerate(samples[:half]) if s.heavy or not s.ok or i % 2 == 0]
    return older + samples[half:]


def sample_for(sampler: AnySampler, duration_s: float) -> tuple[float, bool]:
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


def clock(t_ns: int) -> str:
    """A sample's wall-clock time, UTC, to the millisecond."""
    return time.strftime("%H:%M:%S", time.gmtime(t_ns / 1e9)) + f".{t_ns // 1_000_000 % 1000:03d}Z"


def one_line(e: BaseException) -> str:
    """An exception as one redacted line (drivers put hints and context on later lines)."""
    text = str(e).strip().splitlines()
    msg = text[0].strip() if text else type(e).__name__
    return redact_text(msg)


__all__ = ["INTERVAL_RULE", "MAX_INTERVAL_S", "MAX_SAMPLES", "MIN_INTERVAL_S", "AnySampler", "FailedSample",
           "Recording", "Sample", "Sampler", "clock", "interval_ok", "one_line", "sample_for"]
