"""One process's share of a probe: the engine in this process's event loop, with signals and bounds."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from tracehound.errors import TargetUnreachable
from tracehound.params import Draws
from tracehound.probe.config import ProbeConfig
from tracehound.probe.engine import (
    ClosedController,
    ClosedVU,
    Engine,
    FlowPool,
    FlowVU,
    OpenDispatcher,
    RequestPlan,
    Spec,
    VaryingVU,
    perf_ns,
)
from tracehound.probe.interrupts import Interrupts
from tracehound.probe.progress import Progress, ProgressTracker
from tracehound.probe.records import RecordBuffer
from tracehound.probe.target import Endpoint


def new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop's, where it is installed."""
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a dependency; kept for odd platforms
        return asyncio.new_event_loop()


async def preflight(ep: Endpoint) -> None:
    """:class:`TargetUnreachable` when the target's host does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        await loop.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: {e.strerror}", hint="check the URL") from None
    except UnicodeError:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: not a valid host name") from None


#: Virtual users started between two turns of the event loop: a signal is heard while thousands start.
START_BATCH = 500


async def start_vus(e: Engine, start: Callable[[int], None]) -> None:
    """Start the run's virtual users, no more than it has requests for, yielding to the loop between batches."""
    for i in range(min(e.shape.concurrency, e.limit)):
        if e.stopping or e.closed_window:
            return
        start(i)
        if i % START_BATCH == START_BATCH - 1:
            await asyncio.sleep(0)


async def run_engine(
    config: ProbeConfig,
    buf: RecordBuffer,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every: float = 0.5,
    install_signals: bool = True,
    held: Interrupts | None = None,
) -> dict[str, Any]:
    """Run the load in the current event loop, filling ``buf``; returns counts and flags.

    ``held``: the signals noted before this engine's own handlers were in place (it then stops at once).
    """
    shape = config.shape
    ep, base_path = config.endpoint()
    await preflight(ep)
    e = Engine(
        buf,
        shape,
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        keepalive=config.keepalive,
        insecure=config.insecure,
        ca_file=config.ca_file,
    )
    loop = e.loop
    tasks: list[asyncio.Task[None]] = [loop.create_task(e.sweeper())]
    tracker = ProgressTracker(buf)
    t_start = time.perf_counter()
    stop_reason = "bounds"
    previous: dict[int, Any] = {}
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.getsignal(sig)
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, e.stop, True)
    if held is not None and held.received:
        e.stop(True)
    flow_pool: FlowPool | None = None
    max_conns = shape.open_connections
    try:
        if config.flow is None:
            assert config.target is not None
            target = config.target
            spec = Spec(buf, target.request_bytes(config.keepalive), ep, target.method, target.path,
                        expect=config.expect)
            if shape.open_model:
                tasks.append(loop.create_task(OpenDispatcher(e, spec, max_conns).run()))
            elif shape.stages:
                ctl = ClosedController(e, lambda i: ClosedVU(e, i, spec))
                tasks.append(loop.create_task(ctl.run()))
            else:
                await start_vus(e, lambda i: ClosedVU(e, i, spec).start())
        else:
            flow = config.flow
            draws = Draws(flow.data, buf.draws, *config.share,
                          vus=max_conns if shape.open_model else shape.peak_concurrency) if flow.data else None
            # A flow of one plain request with data runs from callbacks, as a fixed target does.
            plan = (RequestPlan.compile(flow, ep, base_path, config.keepalive, draws)
                    if draws is not None and not shape.open_model else None)
            if plan is not None:
                varying = plan
                if shape.stages:
                    ctl = ClosedController(e, lambda i: VaryingVU(e, i, varying))
                    tasks.append(loop.create_task(ctl.run()))
                else:
                    for i in range(shape.concurrency):
                        VaryingVU(e, i, varying).start()
            elif shape.open_model:
                flow_pool = FlowPool(e, flow, ep, base_path, max_conns, draws)
                tasks.append(loop.create_task(OpenDispatcher(e, None, max_conns, flow_pool).run()))
            elif shape.stages:
                ctl = ClosedController(e, lambda i: FlowVU(e, i, flow, ep, base_path, draws))
                tasks.append(loop.create_task(ctl.run()))
            else:
                await start_vus(e, lambda i: FlowVU(e, i, flow, ep, base_path, draws).start())

        # Hard wall: the send window, then the slowest in-flight request's timeout, then a grace.
        hard_deadline = t_start + shape.stop_after + config.timeout + config.connect_timeout + 2.0
        while not e.done.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(e.done), timeout=progress_every)
            if on_progress is not None:
                on_progress(tracker.snapshot(e.issued, e.inflight, shape.planned_duration, t_start))
            if time.perf_counter() > hard_deadline and not e.done.done():
                stop_reason = "hard_deadline"
                e.stop(interrupted=True)
                e.interrupted = False
                break
    except asyncio.CancelledError:
        e.stop(interrupted=True)
        raise
    finally:
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.remove_signal_handler(sig)
                    if previous.get(sig) is not None:
                        signal.signal(sig, previous[sig])  # give the caller's handler back
                except (NotImplementedError, RuntimeError, ValueError, TypeError):
                    pass
        if flow_pool is not None:
            flow_pool.close()
        now = perf_ns()
        for c in e.busy_conns():
            c.cancel(now)
        e.stopping = True
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        for t in others:
            t.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        e.close_all()
        await asyncio.sleep(0)
    if on_progress is not None:
        on_progress(tracker.snapshot(e.issued, e.inflight, shape.planned_duration, t_start))
    if e.interrupted:
        stop_reason = "interrupted"
    elif stop_reason != "hard_deadline":
        stop_reason = "requests" if e.issued >= e.limit else "duration"
    return {
        "issued": e.issued,
        "completed": len(buf),
        "dropped": e.dropped,
        "retried_on_new_connection": e.retried,
        "interrupted": e.interrupted,
        "stop_reason": stop_reason,
        "connections": next(e.conn_ids),
        "elapsed_s": time.perf_counter() - t_start,
    }
