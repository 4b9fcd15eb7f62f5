"""Flows: virtual users that run a flow's steps, one coroutine each, on the engine's connections.

Flows need captures between steps, so unlike the closed and open models' callbacks each virtual
user awaits its responses. With data, a virtual user draws a row of each pool its setup uses when
it sets up, and a row of each other pool its steps use at every iteration; every request records
the rows its virtual user holds.
"""

from __future__ import annotations

import asyncio
import re
from collections import ChainMap, deque
from typing import Any

from tracehound.flow import Flow, MissingVariable, Step
from tracehound.params import Draws
from tracehound.probe.engine.connection import Conn, ConnectFailure, perf_ns
from tracehound.probe.engine.core import Engine
from tracehound.probe.engine.spec import Spec
from tracehound.probe.target import Endpoint, build_request, split_url

#: The scheme and host of an absolute URL, cut off to record its path.
ORIGIN = re.compile(r"^https?://[^/?#]*")


class _Waiter:
    """Owner of a flow request: resolves a future when the response (or failure) is in."""

    __slots__ = ("fut", "vu")

    def __init__(self, fut: asyncio.Future[Conn | None], vu: FlowVU) -> None:
        self.fut = fut
        self.vu = vu

    def on_response(self, conn: Conn) -> None:
        if not self.fut.done():
            self.fut.set_result(conn)

    def on_idle_lost(self, conn: Conn) -> None:
        self.vu.conns.pop(conn.ep, None)

    def retry(self, conn: Conn) -> None:
        """The request is to be sent again on a new connection: :meth:`FlowVU.step` does it."""
        if not self.fut.done():
            self.fut.set_result(None)


class FlowVU:
    """A virtual user running a flow: setup once, then steps every iteration."""

    def __init__(self, engine: Engine, vu: int, flow: Flow, base: Endpoint, base_path: str,
                 draws: Draws | None = None) -> None:
        self.e = engine
        self.id = vu
        self.flow = flow
        self.base = base
        self.base_path = base_path.rstrip("/")
        self.env: dict[str, Any] = dict(flow.vars)
        self.env["vu"] = vu
        self.iteration = 0
        self.need_setup = True
        self.conns: dict[Endpoint, Conn] = {}
        self.active = True
        self.running = False
        self.draws = draws
        #: The row of each pool this virtual user holds (-1: none yet), and the pools setup and steps draw.
        self.rows = [-1] * len(draws) if draws else []
        self.setup_pools = _pools_of(draws, flow.setup)
        self.step_pools = [j for j in _pools_of(draws, flow.steps) if j not in self.setup_pools]
        #: Data variables: percent-encoded in a target, and recorded as placeholders in the path.
        self.encode = flow.data_vars if draws else frozenset()
        self.placeholders = {n: "{" + n + "}" for n in self.encode}

    def start(self) -> None:
        """Run closed-model iterations in a task until a bound or deactivation stops it."""
        self.running = True
        self.e.driver_started()
        self.e.loop.create_task(self._run_closed())

    async def _run_closed(self) -> None:
        bound = self.flow.iterations
        try:
            while self.active and (bound is None or self.iteration < bound):
                if not await self.iterate(None, 0):
                    break
        finally:
            self.running = False
            self.close()
            self.e.driver_exited()

    def close(self) -> None:
        for c in self.conns.values():
            c.close()
        self.conns.clear()

    async def iterate(self, seq: int | None, intended: int) -> bool:
        """One iteration (with setup first if needed); False when a bound stopped it."""
        self.env["iter"] = self.iteration
        if self.need_setup and self.flow.setup:
            self._draw(self.setup_pools)
            ok = True
            for step in self.flow.setup:
                res = await self.step(step, seq, intended)
                seq, intended = None, 0
                if res is None:
                    return False
                ok = ok and res
            self.need_setup = not ok
        self._draw(self.step_pools)
        for i, step in enumerate(self.flow.steps):
            pause = step.pause_for(self.id, self.iteration, i)
            if pause > 0:
                await asyncio.sleep(pause)
            res = await self.step(step, seq, intended)
            seq, intended = None, 0
            if res is None:
                return False
        self.iteration += 1
        return True

    def _draw(self, pools: list[int]) -> None:
        draws = self.draws
        if draws is not None:
            for j in pools:
                self.rows[j] = draws.draw(j, self.id, self.env)

    async def step(self, step: Step, seq: int | None, intended: int) -> bool | None:
        """Run one step; True if it succeeded, False if it failed, None if a bound stopped it."""
        e = self.e
        if seq is None:
            seq = e.admit()
            if seq is None:
                return None
        self.env["seq"] = seq
        if self.draws is not None:
            self.draws.record(seq, self.rows)
        for cap in step.captures:
            self.env.pop(cap.var, None)
        start = perf_ns()
        try:
            target, headers, body = step.render(self.env, self.encode)
            if step.absolute:
                ep, path = split_url(target)
            else:
                ep, path = self.base, self.base_path + target
            data = build_request(step.method, ep, path, headers, body, e.keepalive)
            if self.encode & step.target.names:
                path = self._recorded_path(step)
        except MissingVariable as mv:
            unsent = step.target.render({**_placeholders(step), **self.env})
            spec = Spec(e.buf, b"", self.base, step.method, unsent, step.name, [], self.env)
            e.record_unsent(spec, seq, self.id, intended, start, "capture",
                            f"variable {{{mv.name}}} has no value: the step that captures it failed")
            return False
        except Exception as exc:  # a URL or header that renders into something unusable
            spec = Spec(e.buf, b"", self.base, step.method, "/", step.name, [], self.env)
            e.record_unsent(spec, seq, self.id, intended, start, "other",
                            f"step {step.name!r} cannot be sent: {exc}")
            return False
        spec = Spec(e.buf, data, ep, step.method, path, step.name, step.captures, self.env, step.expect)
        while True:
            conn = self.conns.get(ep)
            cns = 0
            if conn is None or conn.closed:
                try:
                    conn, cns = await e.connect(ep)
                except ConnectFailure as f:
                    e.record_unsent(spec, seq, self.id, intended, start, f.kind, f.message, perf_ns() - start)
                    return False
                self.conns[ep] = conn
            if e.stopping and e.interrupted:
                e.record_unsent(spec, seq, self.id, intended, start, "cancelled",
                                "run ended before the request was sent")
                return None
            fut: asyncio.Future[Conn | None] = e.loop.create_future()
            conn.send(spec, seq, self.id, intended, cns, _Waiter(fut, self))
            answered = await fut
            if conn.closed and self.conns.get(ep) is conn:
                del self.conns[ep]
            if answered is not None:
                return conn.result_ok and 0 < conn.result_status < 400
            # A reused connection closed under the request (Conn._retry_elsewhere): once more on
            # a new connection, which carries nothing yet and so is never retried again.
            intended = conn.intended
            start = perf_ns()


    def _recorded_path(self, step: Step) -> str:
        """The step's path with its data values left as placeholders: the values are in the data columns."""
        shown = step.target.render(ChainMap(self.placeholders, self.env))
        if step.absolute:
            return ORIGIN.sub("", shown) or "/"
        return self.base_path + shown


def _pools_of(draws: Draws | None, steps: list[Step]) -> list[int]:
    """The pools whose variables ``steps`` use."""
    if not draws:
        return []
    needs = set().union(*(s.needs for s in steps)) if steps else set()
    return [j for j, p in enumerate(draws.pools) if needs & set(p.used_columns)]


def _placeholders(step: Step) -> dict[str, str]:
    return {n: "{" + n + "}" for n in step.needs}


class FlowPool:
    """Open model with a flow: each arrival runs one iteration on an idle virtual user."""

    def __init__(self, engine: Engine, flow: Flow, base: Endpoint, base_path: str, max_vus: int,
                 draws: Draws | None = None) -> None:
        self.e = engine
        self.draws = draws
        self.flow = flow
        self.base = base
        self.base_path = base_path
        self.max_vus = max_vus
        self.idle: list[FlowVU] = []
        self.all: list[FlowVU] = []
        self.pending: deque[tuple[int, int]] = deque()
        self.tasks: set[asyncio.Task[None]] = set()

    def dispatch(self, seq: int, intended: int) -> None:
        if self.idle:
            vu = self.idle.pop()
        elif len(self.all) < self.max_vus:
            vu = FlowVU(self.e, len(self.all), self.flow, self.base, self.base_path, self.draws)
            self.all.append(vu)
        else:
            self.pending.append((seq, intended))
            return
        self._start(vu, seq, intended)

    def _start(self, vu: FlowVU, seq: int, intended: int) -> None:
        self.e.driver_started()
        t = self.e.loop.create_task(self._iterate(vu, seq, intended))
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    async def _iterate(self, vu: FlowVU, seq: int, intended: int) -> None:
        try:
            await vu.iterate(seq, intended)
        finally:
            if self.pending and not self.e.stopping:
                s, i = self.pending.popleft()
                self._start(vu, s, i)
            else:
                self.idle.append(vu)
            self.e.driver_exited()

    def close(self) -> None:
        self.e.dropped += len(self.pending)
        self.pending.clear()
        for vu in self.all:
            vu.close()
