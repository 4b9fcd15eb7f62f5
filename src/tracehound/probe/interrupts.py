"""SIGINT and SIGTERM from a probe's first instruction to its last byte written.

Python turns Ctrl-C into a ``KeyboardInterrupt`` wherever the main thread happens to be, and
SIGTERM kills it outright: a signal between the run folder's first ``run.json`` and its last
byte left ``"running"`` behind and no records. Inside :class:`Interrupts` both signals stop the
probe the same way: before the run folder exists, as a ``KeyboardInterrupt`` (nothing was
collected, and a slow DNS answer is not waited for); once :meth:`Interrupts.hold` is called, as a
flag only. The engines install their own handlers while they run (they stop the load) and give
this one back afterwards, and the run is marked interrupted if the flag was set at any point.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """A context that stops on SIGINT and SIGTERM alike, and notes them once held (main thread only; elsewhere
    a no-op)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.holding = False
        self._previous: dict[int, Any] = {}

    def hold(self) -> None:
        """From now on a signal is noted, not raised: there is a run folder to finish."""
        self.holding = True

    @property
    def received(self) -> bool:
        """Whether a signal arrived since the context was entered."""
        return self.signum is not None

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if not self.holding:
            raise KeyboardInterrupt  # SIGTERM too: nothing collected yet, stopped as Ctrl-C stops it
        self.signum = signum

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:  # a signal ignored (nohup, `cmd &`) stays so
                    self._previous[sig] = signal.signal(sig, self._note)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: not set from Python
        self._previous.clear()


__all__ = ["SIGNALS", "Interrupts"]
