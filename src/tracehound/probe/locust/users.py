"""The Locust users that carry a run (closed model, flow, open arrivals) and the closed model's stages."""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, LoadTestShape, constant, task
from locust.exception import StopUser

from tracehound.probe.locust.flow import FlowVU
from tracehound.probe.locust.request import send
from tracehound.probe.locust.worker import W
from tracehound.probe.shapes import ArrivalSchedule, LoadShape, Stage


def configure_users(spec: dict[str, Any]) -> None:
    """Set the user classes' client options from the spec (before any user is created)."""
    ca = spec.get("ca_file")
    for cls in (TargetUser, FlowUser, ArrivalUser):
        cls.host = spec["origin"]
        cls.network_timeout = spec["timeout"]
        cls.connection_timeout = spec["connect_timeout"]
        cls.insecure = bool(spec["insecure"])
        cls.max_retries = 0
        if ca:
            cls.ssl_context_factory = staticmethod(lambda: gevent.ssl.create_default_context(cafile=ca))
    ArrivalUser.concurrency = max(1, int(spec["open_connections"]))


def target_request(t: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """Method, URL, headers and body of the spec's ``target``."""
    return (t["method"], t["url"], [(k, v) for k, v in t["headers"]],
            t["body"].encode("latin-1") if t["body"] is not None else None)


class _User(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    concurrency = 1
    #: The variables captures fill (a flow's virtual user's, or empty).
    env: dict[str, Any]


class TargetUser(_User):
    """Closed model, one request: send, wait for the answer, send again."""

    def on_start(self) -> None:
        self.vu = next(W.vus)
        self.env = {}

    @task
    def iteration(self) -> None:
        W.go.wait()
        seq = W.admit()
        if seq is None:
            raise StopUser()
        method, url, headers, body = target_request(W.spec["target"])
        send(self, seq, self.vu, time.time_ns(), None, method, url, headers, body)


class FlowUser(_User):
    """Closed model, a flow: setup once, then the steps every iteration."""

    def on_start(self) -> None:
        assert W.flow is not None
        self.state = FlowVU(W.flow, next(W.vus))
        self.env = self.state.env

    @task
    def iteration(self) -> None:
        W.go.wait()
        bound = self.state.flow.iterations
        if bound is not None and self.state.iteration >= bound or not self.state.iterate(self, None, 0):
            raise StopUser()


class ArrivalUser(_User):
    """Open model: one per worker sends this worker's share of the arrivals, each in its own greenlet."""

    def on_start(self) -> None:
        self.env = {}

    @task
    def iteration(self) -> None:
        W.go.wait()
        if W.arrival_running:
            raise StopUser()
        W.arrival_running = True
        assert W.shape is not None
        s = W.shape
        stages = [Stage(st.duration, st.target * W.share, st.ramp) for st in s.stages] if s.stages else None
        mine = LoadShape(rate=s.rate * W.share if s.rate else None, duration=s.duration, open_model=True,
                         stages=stages)
        schedule = ArrivalSchedule(mine)
        cap = max(1, int(W.spec["open_connections"]))
        pool = Pool(cap)
        idle: list[FlowVU] = []
        vus = itertools.count()
        t0 = W.t_go_ns
        t0_mono = time.monotonic() - (time.time_ns() - t0) / 1e9
        k = 0
        while True:
            off = schedule.offset_ns(k)
            if not math.isfinite(off):
                break
            due = t0_mono + off / 1e9
            if due >= W.deadline:
                break
            wait = due - time.monotonic()
            if wait > 0:
                gevent.sleep(wait)
            if W.stopping:
                break
            if pool.full():
                pool.wait_available(timeout=max(0.0, W.deadline - time.monotonic()))
                if pool.full() or W.stopping:
                    W.dropped += 1
                    k += 1
                    continue
            seq = W.admit()
            if seq is None:
                break
            intended = t0 + int(off)
            if W.flow is None:
                pool.spawn(self.one, seq, intended)
            else:
                pool.spawn(self.one_flow, seq, intended, idle, vus)
            k += 1
        pool.join()
        raise StopUser()

    def one(self, seq: int, intended: int) -> None:
        method, url, headers, body = target_request(W.spec["target"])
        send(self, seq, -1, intended, None, method, url, headers, body)

    def one_flow(self, seq: int, intended: int, idle: list[FlowVU], vus: itertools.count[int]) -> None:
        assert W.flow is not None
        vu = idle.pop() if idle else FlowVU(W.flow, next(vus))
        try:
            vu.iterate(_GreenletUser(self, vu), seq, intended)
        finally:
            idle.append(vu)


class _GreenletUser:
    """The arrival user's client, seen by one flow iteration with its own variables."""

    def __init__(self, user: ArrivalUser, vu: FlowVU) -> None:
        self.user = user
        self.env = vu.env

    @property
    def client(self) -> Any:
        return self.user.client


class StagesShape(LoadTestShape):
    """Closed model with stages: the run's VU level, read once a second by Locust's master."""

    shape: LoadShape | None = None

    def tick(self) -> tuple[int, float] | None:
        s = self.shape
        assert s is not None and s.stages
        t: float = self.get_run_time()  # type: ignore[no-untyped-call]  # Locust leaves it unannotated
        level = s.level_at(min(t, s.planned_duration or 0.0))
        return max(0, math.ceil(level - 1e-9)), 10_000.0
