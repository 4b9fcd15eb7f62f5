"""The open model: requests leave on an arrival schedule, whatever the server does."""

from __future__ import annotations

import asyncio
import math
from collections import deque

from tracehound.probe.engine.connection import Conn, ConnectFailure, perf_ns
from tracehound.probe.engine.core import Engine
from tracehound.probe.engine.flow import FlowPool
from tracehound.probe.engine.spec import Spec
from tracehound.probe.shapes import ArrivalSchedule


class OpenDispatcher:
    """Open model: requests leave at their intended times whatever the server does.

    Latency is measured from the intended time, so a stall shows up in every request scheduled
    during it (no coordinated omission). When all ``max_conns`` connections are busy, due requests
    queue; they are sent late and counted. Those still queued when the send window closes are
    dropped and counted.
    """

    def __init__(self, engine: Engine, spec: Spec | None, max_conns: int, flow_pool: FlowPool | None = None) -> None:
        """Send ``spec`` on up to ``max_conns`` connections, or (``spec`` None) hand arrivals to ``flow_pool``."""
        self.e = engine
        self.spec = spec
        self.max_conns = max_conns
        self.idle: list[Conn] = []
        self.pending: deque[tuple[int, int]] = deque()
        self.nconns = 0
        self.schedule = ArrivalSchedule(engine.shape)
        self.flow_pool = flow_pool
        self.queued_total = 0
        self.exited = False

    async def run(self) -> None:
        e = self.e
        e.driver_started()
        try:
            await self._run()
        finally:
            self.exited = True
            self.e.dropped += len(self.pending)
            self.pending.clear()
            for c in self.idle:
                c.close()
            self.idle.clear()
            e.driver_exited()

    async def _run(self) -> None:
        e = self.e
        t0 = e.t0
        stop_ns = e.end_ns - t0
        k = 0
        burst = 0
        while not e.stopping:
            off = self.schedule.offset_ns(k)
            if off == math.inf or off >= stop_ns:
                break
            due = t0 + int(off)
            now = perf_ns()
            while due > now:
                wait = due - now
                if wait > 1_500_000:
                    await asyncio.sleep((wait - 500_000) / 1e9)
                else:
                    await asyncio.sleep(0)
                now = perf_ns()
                burst = 0
                if self.e.stopping:  # not e.stopping: mypy would keep it narrowed to False across the await
                    return
            seq = e.admit()
            if seq is None:
                break
            self.dispatch(seq, due)
            k += 1
            burst += 1
            if burst >= 64:
                burst = 0
                await asyncio.sleep(0)
        if not e.stopping:
            # Arrivals that fell due inside the window but could not even be dispatched (the
            # client itself stalled past the window's end) are counted, not forgotten.
            missed = 0
            while e.issued + missed < e.limit:
                off = self.schedule.offset_ns(k + missed)
                if off == math.inf or off >= stop_ns:
                    break
                missed += 1
            e.issued += missed
            e.dropped += missed
        # wait for the queue to drain or the window to close
        while self.pending and not e.stopping and perf_ns() < e.end_ns:
            await asyncio.sleep(0.005)

    def dispatch(self, seq: int, intended: int) -> None:
        spec = self.spec
        if spec is None:
            pool = self.flow_pool
            assert pool is not None  # the constructor's contract: a spec, or a flow pool that sends
            pool.dispatch(seq, intended)
            return
        if self.idle:
            c = self.idle.pop()
            c.send(spec, seq, c.id, intended, 0, self)
        elif self.nconns < self.max_conns:
            self.nconns += 1
            self._connect_then_send(seq, intended)
        else:
            self.queued_total += 1
            self.pending.append((seq, intended))

    async def _connect_send(self, seq: int, intended: int) -> None:
        e = self.e
        spec = self.spec
        assert spec is not None  # only dispatch() without a flow pool opens connections
        start = perf_ns()
        try:
            conn, cns = await e.connect(spec.ep)
        except ConnectFailure as f:
            self.nconns -= 1
            e.record_unsent(spec, seq, -1, intended, start, f.kind, f.message, perf_ns() - start)
            self._next_pending()
            e.check_done()
            return
        if e.stopping and e.interrupted:
            conn.close()
            self.nconns -= 1
            e.record_unsent(spec, seq, -1, intended, start, "cancelled", "run ended before the request was sent")
            e.check_done()
            return
        conn.owner = self
        conn.send(spec, seq, conn.id, intended, cns, self)

    def retry(self, conn: Conn) -> None:
        """Send ``conn``'s request again on a new connection (``Conn._retry_elsewhere``).

        The new connection takes the lost one's place in ``nconns``; the retry counts as a driver
        meanwhile, so the run cannot end while it connects.
        """
        self._connect_then_send(conn.seq, conn.intended)

    def _connect_then_send(self, seq: int, intended: int) -> None:
        """Send ``seq`` on a new connection; the connecting counts as a driver, so the run cannot end
        (and cancel it, unrecorded) while it connects, as it could when a busy CPU delays the connect."""
        self.e.driver_started()
        self.e.loop.create_task(self._counted_connect_send(seq, intended))

    async def _counted_connect_send(self, seq: int, intended: int) -> None:
        try:
            await self._connect_send(seq, intended)
        finally:
            self.e.driver_exited()

    def _next_pending(self) -> None:
        if self.pending and self.nconns < self.max_conns and not self.e.stopping:
            seq, intended = self.pending.popleft()
            self.nconns += 1
            self._connect_then_send(seq, intended)

    def on_response(self, conn: Conn) -> None:
        if conn.closed:
            self.nconns -= 1
            self._next_pending()
        elif self.pending and not self.e.stopping:
            seq, intended = self.pending.popleft()
            spec = self.spec
            assert spec is not None  # requests queue only in a dispatcher without a flow pool
            conn.send(spec, seq, conn.id, intended, 0, self)
        else:
            self.idle.append(conn)
        if self.exited:
            if not conn.closed:
                self.idle.remove(conn)
                conn.close()
            self.e.check_done()

    def on_idle_lost(self, conn: Conn) -> None:
        try:
            self.idle.remove(conn)
        except ValueError:
            return
        self.nconns -= 1

