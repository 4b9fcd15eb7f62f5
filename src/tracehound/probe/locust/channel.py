"""What the master tells its parent (JSON lines on stdout), and what both processes share: timings, the shape."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import gevent

from tracehound.probe.shapes import LoadShape, Stage

FLUSH_S = 0.5
PROGRESS_S = 0.5
#: Seconds the master waits for a worker to report its users spawned.
SPAWN_TIMEOUT_S = 30.0


def emit(event: str, **data: Any) -> None:
    """One JSON line to the parent (the master's stdout)."""
    try:
        sys.stdout.write(json.dumps({"event": event, **data}, default=str) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass  # the parent is gone; the parent watch ends this process


def shape_of(d: dict[str, Any]) -> LoadShape:
    """The :class:`LoadShape` of a spec's ``shape`` (``d`` loses its ``stages`` key)."""
    stages = [Stage(**s) for s in d.pop("stages")] if d.get("stages") else None
    return LoadShape(**{**d, "stages": stages})


def watch_parent(parent: int, on_gone: Callable[[], object]) -> None:
    """Call ``on_gone`` once process ``parent`` is no longer this one's parent (checked every half second)."""
    while True:
        gevent.sleep(0.5)
        if os.getppid() != parent:
            on_gone()
            return
