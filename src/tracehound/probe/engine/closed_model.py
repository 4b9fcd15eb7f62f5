"""The closed model: a fixed (or staged) number of virtual users, each sending when its last answer is in."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Protocol

from tracehound.probe.engine.connection import Conn, ConnectFailure, perf_ns
from tracehound.probe.engine.core import Engine
from tracehound.probe.engine.spec import Spec


class ClosedVU:
    """A closed-model virtual user sending one fixed request in a loop, from callbacks."""

    def __init__(self, engine: Engine, vu: int, spec: Spec) -> None:
        self.e = engine
        self.id = vu
        self.spec = spec
        self.conn: Conn | None = None
        self.active = True
        self.running = False

    def start(self) -> None:
        self.running = True
        self.e.driver_started()
        self.go()

    def go(self) -> None:
        e = self.e
        seq = e.admit() if self.active else None
        if seq is None:
            self.running = False
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            e.driver_exited()
            return
        c = self.conn
        if c is not None and not c.closed:
            c.send(self.spec, seq, self.id, 0, 0, self)
        else:
            e.loop.create_task(self._connect_send(seq))

    async def _connect_send(self, seq: int, intended: int = 0) -> None:
        e = self.e
        start = perf_ns()
        intended = intended or start
        try:
            conn, cns = await e.connect(self.spec.ep)
        except ConnectFailure as f:
            e.record_unsent(self.spec, seq, self.id, intended, start, f.kind, f.message, perf_ns() - start)
            self.conn = None
            self.go()
            return
        if e.stopping and e.interrupted:
            conn.close()
            e.record_unsent(self.spec, seq, self.id, intended, start, "cancelled",
                            "run ended before the request was sent")
            self.go()
            return
        conn.owner = self
        self.conn = conn
        conn.send(self.spec, seq, self.id, intended, cns, self)

    def on_response(self, conn: Conn) -> None:
        e = self.e
        if not conn.closed and self.active and not e.closed_window and e.issued < e.limit:
            seq = e.issued  # the hot path: admit() and go() inlined
            e.issued = seq + 1
            conn.resend(seq)
            return
        if conn.closed:
            self.conn = None
        self.go()

    def on_idle_lost(self, conn: Conn) -> None:
        if self.conn is conn:
            self.conn = None

    def retry(self, conn: Conn) -> None:
        """Send ``conn``'s request again on a new connection (``Conn._retry_elsewhere``)."""
        if self.conn is conn:
            self.conn = None
        self.e.loop.create_task(self._connect_send(conn.seq, conn.intended))


class VirtualUser(Protocol):
    """A closed-model virtual user (:class:`ClosedVU`, or a flow's ``FlowVU``)."""

    active: bool
    running: bool

    def start(self) -> None: ...


class ClosedController:
    """Keeps the number of active closed-model VUs on the staged target."""

    def __init__(self, engine: Engine, make_vu: Callable[[int], VirtualUser]) -> None:
        self.e = engine
        self.make_vu = make_vu
        self.vus: list[VirtualUser] = []

    def set_level(self, n: int) -> None:
        for i, vu in enumerate(self.vus):
            if i < n and not vu.active:
                vu.active = True
                if not vu.running:
                    vu.start()
            elif i >= n and vu.active:
                vu.active = False
        while len(self.vus) < n:
            vu = self.make_vu(len(self.vus))
            self.vus.append(vu)
            vu.start()

    async def run(self) -> None:
        e = self.e
        shape = e.shape
        e.driver_started()
        try:
            while not e.stopping and perf_ns() < e.end_ns and e.issued < e.limit:
                t = (perf_ns() - e.t0) / 1e9
                self.set_level(max(0, math.ceil(shape.level_at(t) - 1e-9)))
                await asyncio.sleep(0.05)
        finally:
            for vu in self.vus:
                vu.active = False
            e.driver_exited()
