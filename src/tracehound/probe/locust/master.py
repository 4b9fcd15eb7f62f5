"""The Locust master: hands out the spec, starts the users, collects the shards, decides when the run ends."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import STATE_MISSING, STATE_SPAWNING

from tracehound.probe.locust.channel import PROGRESS_S, SPAWN_TIMEOUT_S, emit, shape_of, watch_parent
from tracehound.probe.locust.users import ArrivalUser, FlowUser, StagesShape, TargetUser, configure_users


class Master:
    """Hands the spec to each worker, starts the users, collects shards, decides when the run ends."""

    def __init__(self, spec: dict[str, Any], parts: str, expect: int) -> None:
        self.spec = spec
        self.parts = parts
        self.expect = expect
        self.shape = shape_of(dict(spec["shape"]))
        self.workers: dict[str, dict[str, Any]] = {}  # client id → index, pid, host
        self.done: dict[int, dict[str, Any]] = {}
        self.lost: dict[int, str] = {}
        self.stats: dict[int, dict[str, Any]] = {}
        self.records: dict[int, int] = {}
        self.stop_requested = False
        self.runner: Any = None

    def on_hello(self, environment: Any, msg: Any, **_: Any) -> None:
        cid = msg.node_id
        if cid in self.workers or len(self.workers) >= self.expect:
            return
        index = len(self.workers)
        self.workers[cid] = {"index": index, **msg.data}
        self.runner.send_message("th_spec", {"spec": self.spec, "index": index}, client_id=cid)
        emit("worker", index=index, pid=msg.data.get("pid"), host=msg.data.get("host"))

    def on_records(self, environment: Any, msg: Any, **_: Any) -> None:
        d = msg.data
        index = int(d["index"])
        if d.get("data"):
            name = os.path.join(self.parts, f"worker-{index:03d}-{int(d['part']):06d}.parquet")
            with open(name + ".tmp", "wb") as f:
                f.write(d["data"])
            os.replace(name + ".tmp", name)
        self.stats[index] = d["stats"]

    def on_done(self, environment: Any, msg: Any, **_: Any) -> None:
        self.done[int(msg.data["index"])] = msg.data["counts"]

    def check_lost(self) -> None:
        for cid, w in self.workers.items():
            i = w["index"]
            if i in self.done or i in self.lost:
                continue
            node = self.runner.clients.get(cid)
            if node is None or node.state == STATE_MISSING:
                self.lost[i] = "stopped answering the master (no heartbeat for 3 s)"
                emit("lost", index=i, pid=w.get("pid"), host=w.get("host"), reason=self.lost[i])

    def progress(self, t0: float, last: dict[str, float]) -> None:
        st = list(self.stats.values())
        completed = sum(s["completed"] for s in st)
        now = time.monotonic()
        rps = (completed - last["completed"]) / max(now - last["t"], 1e-6)
        last.update(completed=completed, t=now)
        failures: dict[str, int] = {}
        for s in st:
            for k, v in s["failures"].items():
                failures[k] = failures.get(k, 0) + v
        window = sorted(x for s in st for x in s.get("window") or [])
        p50 = window[len(window) // 2] if window else None
        p99 = window[min(len(window) - 1, int(len(window) * 0.99))] if window else None
        emit("progress", elapsed_s=now - t0, planned_s=self.shape.planned_duration,
             issued=sum(s["issued"] for s in st), completed=completed, inflight=sum(s["inflight"] for s in st),
             rps=rps, failed=sum(s["failed"] for s in st), failures=failures, p50_ms=p50, p99_ms=p99)


def master_main(bind: str, expect: int, parts: str, wait_s: float, parent: int | None) -> int:
    """The master process: reads the run's spec on stdin, reports on stdout; returns the exit status."""
    spec: dict[str, Any] = json.loads(sys.stdin.readline())
    m = Master(spec, parts, expect)
    shape = m.shape
    host, _, port = bind.rpartition(":")
    if spec.get("flow"):
        user_class: type = ArrivalUser if shape.open_model else FlowUser
    else:
        user_class = ArrivalUser if shape.open_model else TargetUser
    configure_users(spec)
    shape_obj = None
    if shape.stages and not shape.open_model:
        StagesShape.shape = shape
        shape_obj = StagesShape()  # type: ignore[no-untyped-call]  # LoadTestShape.__init__ is unannotated
    env = Environment(user_classes=[user_class], shape_class=shape_obj, events=events, host=spec["origin"])
    try:
        runner = env.create_master_runner(host.strip("[]") or "*", int(port))
    except Exception as e:  # noqa: BLE001 - the port is taken, the address is not ours
        emit("error", kind="bind", line=f"the Locust master cannot listen on {bind}: {e}")
        return 3
    m.runner = runner
    runner.register_message("th_hello", m.on_hello)
    runner.register_message("th_records", m.on_records)
    runner.register_message("th_done", m.on_done)
    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, lambda: setattr(m, "stop_requested", True))
    if parent:
        gevent.spawn(watch_parent, parent, lambda: setattr(m, "stop_requested", True))
    emit("listening", bind=bind)

    deadline = time.monotonic() + wait_s
    while len(m.workers) < expect:
        if m.stop_requested:
            emit("error", kind="interrupted", line="interrupted while waiting for Locust workers")
            runner.quit()
            return 130
        if time.monotonic() > deadline:
            emit("error", kind="workers", line=f"only {len(m.workers)} of {expect} Locust worker(s) connected "
                 f"to {bind} within {wait_s:g}s")
            runner.quit()
            return 3
        gevent.sleep(0.05)
    gevent.sleep(0.1)  # the specs reach the workers before the spawn message does
    indexes = {cid: w["index"] for cid, w in m.workers.items()}
    limit = shape.request_limit
    t0 = time.monotonic()
    if shape_obj is not None:
        runner.start_shape()
        for cid, i in indexes.items():
            quota = limit * (i + 1) // expect - limit * i // expect
            runner.send_message("th_go", {"quota": quota, "share": 1 / expect}, client_id=cid)
    else:
        users = expect if shape.open_model else shape.concurrency
        runner.start(users, spawn_rate=max(1000.0, float(users)))
        counts = _spawned(runner, users, indexes)
        if counts is None:
            emit("error", kind="spawn",
                 line=f"the Locust workers did not spawn {users} users within {SPAWN_TIMEOUT_S:g}s")
            runner.quit()
            return 3
        if shape.open_model:
            counts = {cid: min(c, 1) for cid, c in counts.items()}
        for cid, q in _shares(limit, counts).items():
            total = sum(counts.values())
            runner.send_message("th_go", {"quota": q, "share": counts[cid] / total if total else 0.0}, client_id=cid)
    emit("started", workers=len(indexes))
    hard = t0 + shape.stop_after + spec["timeout"] + spec["connect_timeout"] + 5.0
    stop_sent = False
    interrupted = False
    last = {"completed": 0.0, "t": t0}
    next_progress = t0 + PROGRESS_S
    while len(m.done) + len(m.lost) < len(indexes):
        gevent.sleep(0.05)
        m.check_lost()
        now = time.monotonic()
        if m.stop_requested and not stop_sent:
            interrupted = stop_sent = True
            runner.send_message("th_stop", {"interrupted": True})
            hard = min(hard, now + 3.0)
        if now > hard:
            if not stop_sent:
                stop_sent = True
                runner.send_message("th_stop", {"interrupted": True})
                hard = now + 3.0
            else:
                break
        if now >= next_progress:
            next_progress = now + PROGRESS_S
            m.progress(t0, last)
    m.progress(t0, last)
    elapsed = time.monotonic() - t0
    for w in m.workers.values():
        i = w["index"]
        if i not in m.done and i not in m.lost:
            m.lost[i] = "did not report its end before the hard deadline"
            emit("lost", index=i, pid=w.get("pid"), host=w.get("host"), reason=m.lost[i])
    runner.quit()
    reasons = {c.get("stop_reason") for c in m.done.values()}
    emit("done", interrupted=interrupted or any(c.get("interrupted") for c in m.done.values()),
         stop_reason="interrupted" if interrupted else (reasons.pop() if len(reasons) == 1 else "bounds"),
         elapsed_s=elapsed, workers=[{**w, "counts": m.done.get(w["index"]), "lost": m.lost.get(w["index"]),
                                       "stats": m.stats.get(w["index"])} for w in m.workers.values()])
    return 0


def _spawned(runner: Any, users: int, indexes: dict[str, int]) -> dict[str, int] | None:
    """Users per worker once every worker has spawned its share; None if that takes too long."""
    deadline = time.monotonic() + SPAWN_TIMEOUT_S
    while time.monotonic() < deadline:
        nodes = [runner.clients.get(cid) for cid in indexes]
        live = [n for n in nodes if n is not None and n.state != STATE_MISSING]
        if live and all(n.state != STATE_SPAWNING for n in live) and sum(n.user_count for n in live) >= min(users, 1):
            counts = {cid: (runner.clients[cid].user_count if cid in runner.clients else 0) for cid in indexes}
            if sum(counts.values()) >= users:
                return counts
        gevent.sleep(0.02)
    return None


def _shares(total: int, weights: dict[str, int]) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` (largest remainders), summing exactly to ``total``."""
    w = sum(weights.values())
    if w == 0:
        return dict.fromkeys(weights, 0)
    exact = {k: total * v / w for k, v in weights.items()}
    out = {k: math.floor(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[: total - sum(out.values())]:
        out[k] += 1
    return out
