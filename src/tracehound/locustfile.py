"""Locust's side of ``probe --engine locust``: tracehound's users, load shape and request recorder.

Run only as ``python -m tracehound.locustfile master|worker …``, started by
:mod:`tracehound.probe.distributed` or by ``tracehound locust-worker``. Importing Locust
monkey-patches the standard library with gevent, so this module never enters a process that runs
asyncio, and it lives outside :mod:`tracehound.probe` so that Locust is imported before anything
that imports ``ssl``.

The master and its workers talk over Locust's message channel::

    worker → th_hello   {pid, host}                   master → th_spec {spec, index}
    master → th_go      {quota, share}                (users spawned: the worker's clock starts)
    worker → th_records {index, part, data, stats}    a Parquet shard, every FLUSH_S
    master → th_stop    {interrupted}                 (Ctrl-C, or the hard deadline)
    worker → th_done    {index, counts}               its quota or time used up, nothing in flight

The master writes each shard as ``<parts>/worker-<index>-<part>.parquet`` as it arrives (so a
worker that dies keeps what it flushed) and reports to its parent as JSON lines on stdout.
"""

from __future__ import annotations

import sys

try:
    import gevent
    import locust  # noqa: F401 - imported first: it monkey-patches the standard library with gevent
    from gevent.event import Event
    from gevent.pool import Pool
    from locust import FastHttpUser, LoadTestShape, constant, events, task
    from locust.env import Environment
    from locust.exception import StopUser
    from locust.runners import STATE_MISSING, STATE_SPAWNING
except ImportError as _e:  # pragma: no cover - exercised through a subprocess
    import json as _json

    print(_json.dumps({"event": "error", "kind": "missing",
                       "line": f"the locust engine needs Locust, which cannot be imported ({_e})"}), flush=True)
    raise SystemExit(3) from None

import argparse
import io
import itertools
import json
import math
import os
import signal
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from tracehound.flow import CaptureFailed, Flow, MissingVariable, Step
from tracehound.probe.records import SAMPLE_BYTES, RecordBuffer, body_digest
from tracehound.probe.shapes import ArrivalSchedule, LoadShape, Stage
from tracehound.probe.target import USER_AGENT, build_request, split_url

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
    stages = [Stage(**s) for s in d.pop("stages")] if d.get("stages") else None
    return LoadShape(**{**d, "stages": stages})


# -- connections: which pooled socket carried a request -----------------------------------------


@dataclass
class _Conn:
    id: int
    requests: int = 0
    returned_ns: int = -1


class ConnTracker:
    """Wraps geventhttpclient's pool so each request knows its connection: id, reuse, idle time, connect time.

    geventhttpclient gives no per-request connection facts; the pool's get/return calls run in the
    requesting greenlet, so the facts are kept per greenlet until the request event reads them.
    """

    def __init__(self) -> None:
        self.ids = itertools.count()
        self.conns: dict[int, _Conn] = {}
        self.current: dict[Any, tuple[int, int, int, int]] = {}
        self.connect_failed: dict[Any, bool] = {}
        self.created: dict[Any, int] = {}

    def install(self) -> None:
        try:
            from geventhttpclient.connectionpool import ConnectionPool
        except ImportError:  # pragma: no cover - connection columns stay null
            return
        if not all(hasattr(ConnectionPool, m) for m in ("get_socket", "_create_socket", "return_socket", "release_socket")):
            return  # pragma: no cover - another geventhttpclient: connection columns stay null
        tracker = self
        get, create, give_back, release = (ConnectionPool.get_socket, ConnectionPool._create_socket,
                                           ConnectionPool.return_socket, ConnectionPool.release_socket)

        def _create_socket(pool: Any) -> Any:
            t = time.perf_counter_ns()
            g = gevent.getcurrent()
            try:
                sock = create(pool)
            except Exception:
                tracker.connect_failed[g] = True
                raise
            tracker.created[g] = time.perf_counter_ns() - t
            tracker.conns[id(sock)] = _Conn(next(tracker.ids))
            return sock

        def get_socket(pool: Any) -> Any:
            g = gevent.getcurrent()
            tracker.connect_failed.pop(g, None)
            sock = get(pool)
            connect_ns = tracker.created.pop(g, -1)
            c = tracker.conns.get(id(sock))
            if c is not None:
                now = time.perf_counter_ns()
                idle = now - c.returned_ns if c.returned_ns >= 0 and connect_ns < 0 else -1
                tracker.current[g] = (c.id, c.requests, idle, connect_ns)
                c.requests += 1
            return sock

        def return_socket(pool: Any, sock: Any) -> None:
            c = tracker.conns.get(id(sock))
            if c is not None:
                c.returned_ns = time.perf_counter_ns()
            give_back(pool, sock)

        def release_socket(pool: Any, sock: Any) -> None:
            tracker.conns.pop(id(sock), None)
            release(pool, sock)

        ConnectionPool._create_socket = _create_socket
        ConnectionPool.get_socket = get_socket
        ConnectionPool.return_socket = return_socket
        ConnectionPool.release_socket = release_socket

    def take(self) -> tuple[int, int, int, int] | None:
        """(conn id, requests it carried before, idle ns, connect ns) of this greenlet's last request."""
        return self.current.pop(gevent.getcurrent(), None)

    def failed_to_connect(self) -> bool:
        return self.connect_failed.pop(gevent.getcurrent(), False)


def error_kind(exc: BaseException, connecting: bool) -> str:
    """The record's error kind for an exception geventhttpclient raised."""
    name = type(exc).__name__
    if isinstance(exc, ConnectionRefusedError):
        return "connect_refused"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, (socket.timeout, TimeoutError, gevent.Timeout)) or "Timeout" in name:
        return "connect_timeout" if connecting else "timeout"
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if name == "HTTPConnectionClosed":
        return "remote_disconnected"
    if name == "HTTPParseError":
        return "protocol"
    if isinstance(exc, CaptureFailed):
        return "capture"
    return "other"


# -- the worker ---------------------------------------------------------------------------------


class Worker:
    """This process's share of the run: admission against the quota, the clock, the recorder."""

    def __init__(self) -> None:
        self.runner: Any = None
        self.spec: dict[str, Any] = {}
        self.index = -1
        self.shape: LoadShape | None = None
        self.flow: Flow | None = None
        self.configured = Event()
        self.go = Event()
        self.quota = 0
        self.share = 1.0
        self.issued = 0
        self.dropped = 0
        self.stopping = False
        self.interrupted = False
        self.deadline = math.inf
        self.grace_until = math.inf
        self.t_go_ns = 0
        self.vus = itertools.count()
        self.inflight: dict[int, tuple] = {}
        self.cancelled: set[int] = set()
        self.buf: RecordBuffer | None = None
        self.part = 0
        self.completed = 0
        self.failed = 0
        self.failures: dict[str, int] = {}
        self.window: list[float] = []
        self.done = False
        self.arrival_running = False
        self.conns = ConnTracker()
        self.request_bytes: dict[tuple, tuple[int, dict[str, str]]] = {}

    # protocol
    def on_spec(self, environment: Any, msg: Any, **_: Any) -> None:
        self.spec = msg.data["spec"]
        self.index = int(msg.data["index"])
        self.shape = shape_of(dict(self.spec["shape"]))
        if self.spec.get("flow"):
            self.flow = Flow.from_dict(self.spec["flow"], source=self.spec.get("flow_source") or "<flow>")
        self.buf = RecordBuffer(self.spec["run_id"], self.spec["headers"], worker=self.index)
        configure_users(self.spec)
        self.configured.set()

    def on_go(self, environment: Any, msg: Any, **_: Any) -> None:
        self.quota = int(msg.data["quota"])
        self.share = float(msg.data["share"])
        assert self.shape is not None
        self.t_go_ns = time.time_ns()
        now = time.monotonic()
        self.deadline = now + self.shape.stop_after
        self.grace_until = self.deadline + self.spec["timeout"] + self.spec["connect_timeout"] + 1.0
        self.go.set()

    def on_stop(self, environment: Any, msg: Any, **_: Any) -> None:
        self.stop(interrupted=bool(msg.data.get("interrupted")))

    def stop(self, interrupted: bool) -> None:
        self.stopping = True
        if interrupted:
            self.interrupted = True
            self.cancel_inflight("run interrupted before the response arrived")

    # admission and in-flight bookkeeping
    def admit(self) -> int | None:
        """The next request's sequence number, or None once a bound is reached."""
        if self.stopping or self.issued >= self.quota or time.monotonic() >= self.deadline:
            return None
        seq = self.issued
        self.issued += 1
        return seq

    def begin(self, seq: int, vu: int, intended_ns: int, step: str | None, method: str, url: str) -> None:
        self.inflight[seq] = (vu, intended_ns, time.time_ns(), step, method, url, len(self.inflight) + 1)

    def end(self, seq: int) -> None:
        self.inflight.pop(seq, None)

    def cancel_inflight(self, why: str) -> None:
        for seq, (vu, intended, start, step, method, url, infl) in list(self.inflight.items()):
            self.cancelled.add(seq)
            self.add(seq=seq, vu=vu, step=step, method=method, url=url, intended_ns=intended, start_ns=start,
                     end_ns=time.time_ns(), status=0, kind="cancelled", error=why, conn=None, inflight=infl)
        self.inflight.clear()

    # recording
    def on_request(self, request_type: str, name: str, response_time: float, response_length: int, response: Any,
                   context: dict, exception: BaseException | None, start_time: float, url: str, **_: Any) -> None:
        seq = (context or {}).get("th_seq")
        if seq is None or self.buf is None:
            return
        conn = self.conns.take()
        if seq in self.cancelled:
            self.cancelled.discard(seq)
            return
        sent = self.inflight.pop(seq, None)
        status = int(getattr(response, "status_code", 0) or 0)
        kind = error = None
        if status == 0 or isinstance(exception, CaptureFailed):
            exc = exception or getattr(response, "error", None)
            connecting = self.conns.failed_to_connect()
            kind = error_kind(exc, connecting) if exc is not None else "other"
            error = f"{type(exc).__name__}: {exc}" if exc is not None else "no response"
            if isinstance(exc, CaptureFailed):
                error = str(exc)
        start_ns = int(start_time * 1e9)
        body = getattr(response, "_cached_content", None) if status else None
        if body is None and status:
            try:
                body = response.content
            except Exception:  # noqa: BLE001 - the body could not be read: recorded without one
                body = None
        headers = getattr(response, "headers", None) if status else None
        self.add(seq=seq, vu=context.get("th_vu", -1), step=context.get("th_step"), method=request_type, url=url,
                 intended_ns=context.get("th_intended") or start_ns, start_ns=start_ns,
                 end_ns=start_ns + int(response_time * 1e6), status=status, kind=kind, error=error, conn=conn,
                 body=body, headers=headers, bytes_out=context.get("th_bytes_out", 0),
                 inflight=sent[6] if sent else len(self.inflight) + 1)

    def add(self, *, seq: int, vu: int, step: str | None, method: str, url: str, intended_ns: int, start_ns: int,
            end_ns: int, status: int, kind: str | None, error: str | None, conn: tuple | None,
            body: bytes | None = None, headers: Any = None, bytes_out: int = 0, inflight: int = 0) -> None:
        buf = self.buf
        assert buf is not None
        off = buf.epoch_offset_ns
        host, path = _host_path(url)
        hv = None
        if headers is not None:
            hv = [(headers.get(h) or None) for h in buf.header_names]
            hv = [v.encode("latin-1", "replace") if isinstance(v, str) else v for v in hv]
        cid, carried, idle, connect = conn if conn is not None else (-1, 0, -1, -1)
        if conn is not None and connect < 0:
            connect = 0  # a reused connection costs no connect time (as the native engine records it)
        buf.add(
            seq=seq, vu=vu, step=step.encode() if step else None, method=method.encode(), host=host.encode(),
            path=path.encode("utf-8", "replace"), intended_ns=intended_ns - off, start_ns=start_ns - off,
            connect_ns=connect, first_byte_ns=-1, end_ns=end_ns - off, status=status, error_kind=kind, error=error,
            bytes_in=(len(body) if body else 0) + _head_bytes(headers), bytes_out=bytes_out,
            body_digest=body_digest((body,)) if body else None, body_first=body[:SAMPLE_BYTES] if body else None,
            headers=hv, conn_id=cid, conn_reused=carried > 0, conn_idle_ns=idle, conn_requests=carried,
            inflight=inflight or len(self.inflight) + 1,
        )
        self.completed += 1
        failed_key = None
        if kind is not None and kind != "cancelled":
            failed_key = kind
        elif kind is None and status >= 400:
            failed_key = f"http_{status}"
        if failed_key:
            self.failed += 1
            self.failures[failed_key] = self.failures.get(failed_key, 0) + 1
        if len(self.window) < 2000:
            self.window.append((end_ns - intended_ns) / 1e6)

    def flush(self) -> None:
        """Send what was recorded since the last flush to the master as one Parquet shard."""
        buf = self.buf
        if buf is None or self.runner is None:
            return
        if len(buf) == 0 and not self.done:
            self.send_stats(None)
            return
        self.buf = RecordBuffer(self.spec["run_id"], self.spec["headers"], worker=self.index)
        sink = io.BytesIO()
        if len(buf):
            pq.write_table(buf.to_table(), sink, compression="zstd")
        self.send_stats(sink.getvalue() or None)

    def send_stats(self, data: bytes | None) -> None:
        stats = {"issued": self.issued, "completed": self.completed, "failed": self.failed,
                 "failures": dict(self.failures), "inflight": len(self.inflight), "window": self.window,
                 "dropped": self.dropped}
        self.window = []
        part = self.part
        if data is not None:
            self.part += 1
        self.runner.send_message("th_records", {"index": self.index, "part": part, "data": data, "stats": stats})

    def finished(self) -> bool:
        return self.stopping or self.issued >= self.quota or time.monotonic() >= self.deadline

    def watch(self) -> None:
        """Flush on a timer; once a bound is reached and nothing is in flight, report done."""
        last = time.monotonic()
        while not self.done:
            gevent.sleep(0.02)
            if not self.go.is_set():
                continue
            now = time.monotonic()
            if self.finished() and (not self.inflight or now > self.grace_until):
                if self.inflight:
                    self.cancel_inflight("run ended before the response arrived")
                self.finish()
                return
            if now - last >= FLUSH_S:
                last = now
                self.flush()

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        self.flush()
        reason = ("interrupted" if self.interrupted else "requests" if self.issued >= self.quota
                  else "duration")
        self.runner.send_message("th_done", {"index": self.index, "counts": {
            "issued": self.issued, "completed": self.completed, "dropped": self.dropped,
            "connections": next(self.conns.ids), "stop_reason": reason, "interrupted": self.interrupted,
            "body_samples_capped": False}})


W = Worker()


def _head_bytes(headers: Any) -> int:
    """Approximate bytes of a response's status line and header block (geventhttpclient keeps no count)."""
    if not headers:
        return 0
    try:
        return 17 + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2
    except Exception:  # noqa: BLE001
        return 0


_SPLIT: dict[str, tuple[Any, str]] = {}


def _split(url: str) -> tuple[Any, str]:
    """:func:`split_url`, remembered (a plain target repeats one URL for the whole run)."""
    hit = _SPLIT.get(url)
    if hit is None:
        hit = split_url(url)
        if len(_SPLIT) < 4096:
            _SPLIT[url] = hit
    return hit


def _host_path(url: str) -> tuple[str, str]:
    try:
        ep, path = _split(url)
        return ep.host_header, path
    except Exception:  # noqa: BLE001 - recorded as given
        return "", url


# -- users ----------------------------------------------------------------------------------------


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


def _base_headers(spec: dict[str, Any], headers: list[tuple[str, str]]) -> dict[str, str]:
    out = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
    for k, v in headers:
        for old in [o for o in out if o.lower() == k.lower()]:
            del out[old]
        out[k] = v
    if not spec["keepalive"]:
        out.setdefault("Connection", "close")
    return out


class _User(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    concurrency = 1

    def send(self, seq: int, vu: int, intended_ns: int, step: Step | None, method: str, url: str,
             headers: list[tuple[str, str]], body: bytes | None) -> tuple[int, bytes | None, Any]:
        """Send one request and record it; returns (status, body, headers) for captures."""
        spec = W.spec
        W.begin(seq, vu, intended_ns, step.name if step else None, method, url)
        ep, path = _split(url)
        key = (method, url, len(body or b""), tuple(headers))
        cached = W.request_bytes.get(key)
        if cached is None:
            sent = _base_headers(spec, headers)
            try:
                out = len(build_request(method, ep, path, list(sent.items()), body))
            except Exception:  # noqa: BLE001
                out = 0
            cached = (out, sent)
            if len(W.request_bytes) < 4096:
                W.request_bytes[key] = cached
        out, sent = cached
        ctx = {"th_seq": seq, "th_vu": vu, "th_intended": intended_ns, "th_step": step.name if step else None,
               "th_bytes_out": out}
        try:
            with self.client.request(method, url, name=step.name if step else path, data=body,
                                     headers=sent, allow_redirects=False, context=ctx,
                                     catch_response=True) as resp:
                status = int(resp.status_code or 0)
                try:
                    content = resp.content if status else None
                except Exception:  # noqa: BLE001 - the body broke off: the request event still records it
                    content = None
                if step is not None and step.captures and 0 < status < 400:
                    try:
                        hdrs = {k.lower(): v for k, v in (resp.headers or {}).items()}
                        for cap in step.captures:
                            self.env[cap.var] = cap.extract(content or b"", hdrs)
                    except CaptureFailed as e:
                        resp.failure(e)
                        return 0, None, None
                resp.success()  # tracehound reads the status itself; Locust's own stats are not used
                return status, content, resp.headers
        finally:
            W.end(seq)


class TargetUser(_User):
    """Closed model, one request: send, wait for the answer, send again."""

    def on_start(self) -> None:
        self.vu = next(W.vus)
        self.env: dict[str, Any] = {}

    @task
    def iteration(self) -> None:
        W.go.wait()
        t = W.spec["target"]
        seq = W.admit()
        if seq is None:
            raise StopUser()
        self.send(seq, self.vu, time.time_ns(), None, t["method"], t["url"], [tuple(h) for h in t["headers"]],
                  t["body"].encode("latin-1") if t["body"] is not None else None)


class FlowVU:
    """A virtual user's flow state: variables, iteration, whether setup still has to succeed."""

    def __init__(self, flow: Flow, vu: int) -> None:
        self.flow = flow
        self.id = vu
        self.env: dict[str, Any] = dict(flow.vars)
        self.env["vu"] = vu
        self.iteration = 0
        self.need_setup = True

    def iterate(self, user: _User, seq: int | None, intended: int) -> bool:
        """One iteration (setup first if needed); False once a bound stopped it."""
        user.env = self.env
        self.env["iter"] = self.iteration
        if self.need_setup and self.flow.setup:
            ok = True
            for step in self.flow.setup:
                res = self.step(user, step, seq, intended)
                seq, intended = None, 0
                if res is None:
                    return False
                ok = ok and res
            self.need_setup = not ok
        for step in self.flow.steps:
            if step.pause > 0:
                gevent.sleep(step.pause)
            res = self.step(user, step, seq, intended)
            seq, intended = None, 0
            if res is None:
                return False
        self.iteration += 1
        return True

    def step(self, user: _User, step: Step, seq: int | None, intended: int) -> bool | None:
        if seq is None:
            seq = W.admit()
            if seq is None:
                return None
        intended = intended or time.time_ns()
        self.env["seq"] = seq
        for cap in step.captures:
            self.env.pop(cap.var, None)
        base = W.spec["origin"] + W.spec["base_path"].rstrip("/")
        try:
            target, headers, body = step.render(self.env)
            url = target if step.absolute else base + target
            split_url(url)
        except MissingVariable as mv:
            now = time.time_ns()
            W.add(seq=seq, vu=self.id, step=step.name, method=step.method, url=base + step.target.text,
                  intended_ns=intended, start_ns=now, end_ns=now, status=0, kind="capture",
                  error=f"variable {{{mv.name}}} has no value: the step that captures it failed", conn=None)
            return False
        except Exception as exc:  # noqa: BLE001 - a URL or header that renders into something unusable
            now = time.time_ns()
            W.add(seq=seq, vu=self.id, step=step.name, method=step.method, url=base + "/", intended_ns=intended,
                  start_ns=now, end_ns=now, status=0, kind="other", error=f"step {step.name!r} cannot be sent: {exc}",
                  conn=None)
            return False
        status, _, _ = user.send(seq, self.id, intended, step, step.method, url, headers, body)
        return 0 < status < 400


class FlowUser(_User):
    """Closed model, a flow: setup once, then the steps every iteration."""

    def on_start(self) -> None:
        assert W.flow is not None
        self.state = FlowVU(W.flow, next(W.vus))
        self.env = self.state.env

    @task
    def iteration(self) -> None:
        W.go.wait()
        if not self.state.iterate(self, None, 0):
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
        mine = LoadShape(rate=s.rate * W.share if s.rate else None, duration=s.duration, open_model=True,
                         stages=[Stage(st.duration, st.target * W.share, st.ramp) for st in s.stages] if s.stages else None)
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
        t = W.spec["target"]
        self.send(seq, -1, intended, None, t["method"], t["url"], [tuple(h) for h in t["headers"]],
                  t["body"].encode("latin-1") if t["body"] is not None else None)

    def one_flow(self, seq: int, intended: int, idle: list[FlowVU], vus: Any) -> None:
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

    def send(self, *args: Any) -> tuple[int, bytes | None, Any]:
        return _User.send(self, *args)  # type: ignore[arg-type]

    @property
    def client(self) -> Any:
        return self.user.client


class StagesShape(LoadTestShape):
    """Closed model with stages: the run's VU level, read once a second by Locust's master."""

    shape: LoadShape | None = None

    def tick(self) -> tuple[int, float] | None:
        s = self.shape
        assert s is not None and s.stages
        t = self.get_run_time()
        level = s.level_at(min(t, s.planned_duration or 0.0))
        return max(0, math.ceil(level - 1e-9)), 10_000.0


def _watch_parent(parent: int, on_gone: Any) -> None:
    while True:
        gevent.sleep(0.5)
        if os.getppid() != parent:
            on_gone()
            return


def worker_main(master: str, parent: int | None) -> int:
    host, _, port = master.rpartition(":")
    if parent:  # before connecting: the connection to a master that is gone is retried for minutes
        gevent.spawn(_watch_parent, parent, lambda: os._exit(1))
    events.request.add_listener(W.on_request)
    W.conns.install()
    env = Environment(user_classes=[TargetUser, FlowUser, ArrivalUser], events=events)
    runner = env.create_worker_runner(host.strip("[]"), int(port))
    W.runner = runner
    runner.register_message("th_spec", W.on_spec)
    runner.register_message("th_go", W.on_go)
    runner.register_message("th_stop", W.on_stop)

    def abort() -> None:
        # Stopped by a signal here (not by the master): keep what was recorded, then go.
        W.stop(interrupted=True)
        if W.configured.is_set():
            W.finish()
            gevent.sleep(0.3)
        os._exit(1)

    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, lambda: gevent.spawn(abort))
    runner.send_message("th_hello", {"pid": os.getpid(), "host": socket.gethostname()})
    gevent.spawn(_after_config)
    runner.greenlet.join()
    return 0


def _after_config() -> None:
    W.configured.wait()
    W.watch()


# -- the master ---------------------------------------------------------------------------------


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
    spec = json.loads(sys.stdin.readline())
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
        shape_obj = StagesShape()
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
        gevent.spawn(_watch_parent, parent, lambda: setattr(m, "stop_requested", True))
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
            runner.send_message("th_go", {"quota": limit * (i + 1) // expect - limit * i // expect, "share": 1 / expect},
                                client_id=cid)
    else:
        users = expect if shape.open_model else shape.concurrency
        runner.start(users, spawn_rate=max(1000.0, float(users)))
        counts = _spawned(runner, users, indexes)
        if counts is None:
            emit("error", kind="spawn", line=f"the Locust workers did not spawn {users} users within {SPAWN_TIMEOUT_S:g}s")
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
    for cid, w in m.workers.items():
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tracehound.locustfile")
    sub = p.add_subparsers(dest="role", required=True)
    mp = sub.add_parser("master")
    mp.add_argument("--bind", required=True)
    mp.add_argument("--expect", type=int, required=True)
    mp.add_argument("--parts", required=True)
    mp.add_argument("--wait", type=float, default=30.0)
    mp.add_argument("--parent", type=int)
    wp = sub.add_parser("worker")
    wp.add_argument("--master", required=True)
    wp.add_argument("--parent", type=int)
    a = p.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if a.role == "master":
        return master_main(a.bind, a.expect, a.parts, a.wait, a.parent)
    return worker_main(a.master, a.parent)


if __name__ == "__main__":
    sys.exit(main())
