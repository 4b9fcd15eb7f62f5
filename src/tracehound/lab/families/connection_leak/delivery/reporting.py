"""In-process error reporter: keeps recent exceptions and ships them to the error tracker in batches."""

from __future__ import annotations

import collections
import threading
import traceback

_recent: collections.deque[BaseException] = collections.deque(maxlen=500)
_lock = threading.Lock()


def capture(exc: BaseException) -> None:
    """Remember ``exc`` (with its traceback) for the next batch."""
    with _lock:
        _recent.append(exc)


def batch() -> list[str]:
    """The recent exceptions, formatted, oldest first (what the shipper sends)."""
    with _lock:
        return ["".join(traceback.format_exception(e)) for e in _recent]
