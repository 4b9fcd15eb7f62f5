"""A Locust worker's share of the run: admission against its quota, its clock, and the recorder."""

from __future__ import annotations

import io
import itertools
import math
import time
from typing import Any

import gevent
import pyarrow.parquet as pq
from gevent.event import Event

from tracehound.expect import Expectation, ExpectationMissed
from tracehound.flow import CaptureFailed, Flow
from tracehound.probe.locust.channel import FLUSH_S, shape_of
from tracehound.probe.locust.connections import ConnFacts, ConnTracker, error_kind
from tracehound.probe.records import SAMPLE_BYTES, RecordBuffer, body_digest
from tracehound.probe.shapes import LoadShape
from tracehound.probe.target import Endpoint, split_url

#: A request in flight: (vu, intended ns, start ns, step, method, url, in flight when sent).
InFlight = tuple[int, int, int, str | None, str, str, int]


class Worker:
    """This process's share of the run: admission against the quota, the clock, the recorder."""

    def __init__(self) -> None:
        self.runner: Any = None
        self.spec: dict[str, Any] = {}
        self.index = -1
        self.shape: LoadShape | None = None
        self.flow: Flow | None = None
        #: What a right answer to the plain target looks like (``--expect``); a flow's steps carry their own.
        self.expect: Expectation | None = None
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
        self.inflight: dict[int, InFlight] = {}
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
        #: (method, url, body length, headers) → (bytes on the wire, headers sent)
        self.request_bytes: dict[tuple[str, str, int, tuple[tuple[str, str], ...]], tuple[int, dict[str, str]]] = {}

    # protocol
    def configure(self, spec: dict[str, Any], index: int) -> None:
        """Take the run's spec and this worker's index (``th_spec``); the users are configured next."""
        self.spec = spec
        self.index = index
        self.shape = shape_of(dict(self.spec["shape"]))
        if self.spec.get("flow"):
            self.flow = Flow.from_dict(self.spec["flow"], source=self.spec.get("flow_source") or "<flow>")
        self.expect = Expectation.parse(self.spec["expect"]) if self.spec.get("expect") else None
        self.buf = RecordBuffer(self.spec["run_id"], self.spec["headers"], worker=self.index)

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
                   context: dict[str, Any], exception: BaseException | None, start_time: float, url: str,
                   **_: Any) -> None:
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
        if status == 0 or isinstance(exception, (CaptureFailed, ExpectationMissed)):
            exc = exception or getattr(response, "error", None)
            connecting = self.conns.failed_to_connect()
            kind = error_kind(exc, connecting) if exc is not None else "other"
            error = f"{type(exc).__name__}: {exc}" if exc is not None else "no response"
            if isinstance(exc, (CaptureFailed, ExpectationMissed)):
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
            end_ns: int, status: int, kind: str | None, error: str | None, conn: ConnFacts | None,
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


#: This process's worker: Locust's users and message handlers reach it here.
W = Worker()


def _head_bytes(headers: Any) -> int:
    """Approximate bytes of a response's status line and header block (geventhttpclient keeps no count)."""
    if not headers:
        return 0
    try:
        return 17 + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2
    except Exception:  # noqa: BLE001 - an estimate: headers it cannot count count as none
        return 0


_SPLIT: dict[str, tuple[Endpoint, str]] = {}


def split_cached(url: str) -> tuple[Endpoint, str]:
    """:func:`split_url`, remembered (a plain target repeats one URL for the whole run)."""
    hit = _SPLIT.get(url)
    if hit is None:
        hit = split_url(url)
        if len(_SPLIT) < 4096:
            _SPLIT[url] = hit
    return hit


def _host_path(url: str) -> tuple[str, str]:
    try:
        ep, path = split_cached(url)
        return ep.host_header, path
    except Exception:  # noqa: BLE001 - recorded as given
        return "", url
