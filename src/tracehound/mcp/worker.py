"""The tools' work, off the event loop: in worker threads, load one call at a time, user errors as one line."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from tracehound.errors import TracehoundError
from tracehound.redact import redact_text

if TYPE_CHECKING:
    from tracehound.probe import Progress

T = TypeVar("T")


class Worker:
    """Runs blocking work in a thread; load-sending work one call at a time; user errors as one line."""

    def __init__(self) -> None:
        self.load_lock = anyio.Lock()

    async def run(self, fn: Callable[[], T], sends_load: bool = False) -> T:
        try:
            if sends_load:
                async with self.load_lock:
                    return await anyio.to_thread.run_sync(fn)
            return await anyio.to_thread.run_sync(fn)
        except TracehoundError as e:
            raise ToolError(redact_text(e.line())) from None
        except ImportError as e:
            raise ToolError(f"a library this tool needs is missing: {e.name or e}") from None


def say(ctx: Context | None) -> Callable[[str], None]:
    """An ``on_event`` callback for a worker thread: each line goes to the client as a log message."""
    def say(msg: str) -> None:
        if ctx is None:
            return
        with contextlib.suppress(Exception):  # a client gone or not listening costs the message, not the work
            anyio.from_thread.run(ctx.info, redact_text(msg))

    return say


def progress(ctx: Context | None, planned_s: float | None) -> Callable[[Progress], None] | None:
    """Progress notifications every two seconds or so, for a client that asked for them."""
    if ctx is None:
        return None
    last = [0.0]

    def report(p: Progress) -> None:
        now = time.monotonic()
        if now - last[0] < 2.0:
            return
        last[0] = now
        msg = f"{p.completed:,} requests, {p.failed:,} failed, {p.rps:,.0f} req/s"
        with contextlib.suppress(Exception):  # progress is a courtesy; the probe goes on without it
            anyio.from_thread.run(ctx.report_progress, p.elapsed_s, planned_s, msg)

    return report
