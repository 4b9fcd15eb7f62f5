"""SIGINT and SIGTERM while a run folder is open: noted, not raised, so the run is written whole and marked.

Python turns Ctrl-C into a ``KeyboardInterrupt`` wherever the main thread happens to be, and
SIGTERM kills it outright: a signal between the run folder's first ``run.json`` and its last
byte left ``"running"`` behind and no records. Inside :class:`Interrupts` both only set a flag;
the engines install their own handlers while they run (they stop the load) and give this one
back afterwards, and the run is marked interrupted if the flag was set at any point.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """A context that notes SIGINT and SIGTERM instead of raising (main thread only; elsewhere a no-op)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def received(self) -> bool:
        """Whether a signal arrived since the context was entered."""
        return self.signum is not None

    def _note(self, signum: int, frame: FrameType | None) -> None:
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
