"""The load engine: an asyncio protocol per connection (httptools parser, uvloop loop).

The hot path has no coroutine per request: a virtual user's next request is written from the
previous response's ``on_message_complete`` callback, and each completed request is appended to
the :class:`RecordBuffer` columns in place. Flows, which need captures, run as one coroutine per
virtual user on top of the same connections. Timeouts are enforced by one sweeper task rather
than a timer per request.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from hashlib import blake2b
from typing import Any

import httptools

from tracehound.flow import CaptureFailed, Flow, MissingVariable, Step
from tracehound.probe.records import _NO_DIGEST, ERROR_CODE, INT32_MAX, NI, SAMPLE_BYTES, RecordBuffer
from tracehound.probe.shapes import ArrivalSchedule, LoadShape
from tracehound.probe.target import Endpoint, build_request, split_url
from tracehound.redact import redact_path

perf_ns = time.perf_counter_ns

_CANCELLED = ERROR_CODE["cancelled"]

#: A request written on a reused connection whose previous response ended less than this long
#: before is sent again on a new connection if the connection dies before any byte of response
#: (see :meth:`Conn.connection_lost`). Longer idle gaps are not retried: a request that meets an
#: idle keep-alive timeout is a failure real clients see too.
REUSE_RETRY_IDLE_NS = 20_000_000


class ConnectFailure(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def classify_connect_error(exc: BaseException, ep: Endpoint, timeout: float) -> tuple[str, str]:
    """Error kind and message of a failed connection attempt."""
    where = f"{ep.host}:{ep.port}"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "connect_timeout", f"no connection to {where} within {timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connect_refused", f"connection refused by {where}"
    if isinstance(exc, socket.gaierror):
        return "dns", f"cannot resolve {ep.host!r}: {exc.strerror}"
    if isinstance(exc, ssl.SSLError):
        return "tls", f"TLS handshake with {where} failed: {getattr(exc, 'reason', None) or exc}"
    if isinstance(exc, ConnectionResetError):
        return "reset", f"connection to {where} reset during connect"
    if isinstance(exc, OSError):
        return "other", f"cannot connect to {where}: {exc.strerror or exc}"
    return "other", f"cannot connect to {where}: {exc!r}"


class Spec:
    """A request ready to send, with the interned codes of its constant fields."""

    __slots__ = ("data", "ep", "method", "host", "path", "step", "spec_code", "path_code", "captures", "env", "head")

    def __init__(
        self,
        buf: RecordBuffer,
        data: bytes,
        ep: Endpoint,
        method: str,
        path: str,
        step: str | None = None,
        captures: list | None = None,
        env: dict | None = None,
    ) -> None:
        self.data = data
        self.ep = ep
        self.method = method.encode()
        self.host = ep.host_header.encode()
        self.path = redact_path(path).encode()
        self.step = step.encode() if step is not None else None
        self.spec_code = buf.spec_code(self.step, self.method, self.host)
        self.path_code = buf.path_code(self.path)
        self.captures = captures
        self.env = env
        self.head = method == "HEAD"


_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEAD_CACHE_SIZE = 2048
RESPONSE_CACHE_SIZE = 1024


def parse_head(head: bytes, buf: RecordBuffer) -> tuple | None:
    """Strict parse of a response head (status line and headers, without the final CRLFCRLF).

    Returns ``(status, content_length, keep_alive, header_code, header_tuple, all_headers)``
    for a plain response framed by a single Content-Length, or None when anything is unusual
    (chunked, 1xx/204/304, obs-fold, duplicate lengths…), in which case httptools parses it.

    This exists for speed: httptools calls back into Python once per header, and on a fast
    local target those calls cost about a third of the request rate (benchmarks/loadgen.py).
    Heads repeat byte for byte (they differ at most by the Date header, once a second), so
    each distinct head is parsed once and cached.
    """
    lines = head.split(b"\r\n")
    m = _STATUS_LINE.fullmatch(lines[0])
    if m is None:
        return None
    status = int(m.group(2))
    if status < 200 or status in (204, 304):
        return None
    clen = -1
    conn = b""
    wanted = buf.header_index
    vals: list[bytes | None] = [None] * len(wanted)
    allh: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):
            return None
        low = name.lower()
        value = value.strip(b" \t")
        if low == b"content-length":
            if clen >= 0 or not value.isdigit():
                return None
            clen = int(value)
        elif low == b"transfer-encoding":
            return None
        elif low == b"connection":
            conn = value.lower()
        i = wanted.get(low)
        if i is not None:
            vals[i] = value if vals[i] is None else vals[i] + b", " + value
        key = low.decode("latin-1")
        text = value.decode("latin-1")
        allh[key] = text if key not in allh else allh[key] + ", " + text
    if clen < 0:
        return None
    keep = b"close" not in conn if m.group(1) == b"1" else b"keep-alive" in conn
    htuple = tuple(vals)
    hcode = buf.header_sets.code(htuple)
    return (status, clen, keep, hcode, htuple, allh)


class Conn(asyncio.Protocol):
    """One client connection; carries one request at a time (no pipelining)."""

    def __init__(self, engine: Engine, ep: Endpoint) -> None:
        self.e = engine
        self.ep = ep
        self.id = next(engine.conn_ids)
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.busy = False
        self.carried = 0
        self.last_end = 0
        self.owner: Any = None
        self.hidx = engine.buf.header_index
        self.nh = len(engine.buf.header_names)
        self.hcache = engine.head_cache
        self.rcache = engine.response_cache
        self.spec: Spec | None = None
        self.first = 0
        self.slow = False
        self.result_status = 0
        self.result_ok = False
        self.result_headers: dict[str, str] | None = None

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self.busy:
            return  # bytes nobody asked for (a late response after a timeout): ignored
        if self.first == 0:
            now = self.first = perf_ns()
            self.nin = len(data)
            hit = self.rcache.get(data)
            if hit is not None:
                self._complete_fast(now, hit, data)
                return
            i = data.find(b"\r\n\r\n")
            if i > 0 and not self.spec.head:  # type: ignore[union-attr]
                head = data[:i]
                info = self.hcache.get(head, _MISSING)
                if info is _MISSING:
                    info = parse_head(head, self.e.buf)
                    if len(self.hcache) >= HEAD_CACHE_SIZE:
                        self.hcache.clear()
                    self.hcache[head] = info
                if info is not None and len(data) == i + 4 + info[1]:
                    hit = self._response_entry(info, data, i + 4)
                    self._complete_fast(now, hit, data)
                    return
            self._start_slow()
        else:
            self.nin += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(perf_ns(), "protocol", "unexpected protocol upgrade")
        except httptools.HttpParserError as exc:
            if self.busy:
                self._fail(perf_ns(), "protocol", f"invalid HTTP response: {exc}")

    def _response_entry(self, info: tuple, data: bytes, body_at: int) -> tuple:
        """What recording needs from a whole one-piece response, cached when it is small.

        ``(status, keep_alive, header_code, header_tuple, all_headers, digest, sample, body_at)``
        """
        status, _, keep, hcode, htuple, allh = info
        b = self.e.buf
        body = data[body_at:]
        if body:
            digest, sample = b.small_body(body) if len(body) <= 65536 else (
                blake2b(body, digest_size=8).digest(), b.sample_code(body[:SAMPLE_BYTES]))
        else:
            digest, sample = _EMPTY_DIGEST, b.sample_code(b"")
        entry = (status, keep, hcode, htuple, allh, digest, sample, body_at)
        if hcode != -2 and len(data) <= 4096:
            rc = self.rcache
            if len(rc) >= RESPONSE_CACHE_SIZE:
                rc.clear()
            rc[data] = entry
        return entry

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.busy:
            now = perf_ns()
            if exc is None and self.slow and self.headers_done and not self.framed and self.status:
                self._complete_slow(now, keep=False)  # body delimited by the close
                return
            if (
                not self.first
                and self.carried
                and self.start - self.last_end < REUSE_RETRY_IDLE_NS
                and (exc is None or isinstance(exc, (ConnectionResetError, BrokenPipeError)))
            ):
                self._retry_elsewhere()
                return
            if exc is None:
                kind = "remote_disconnected"
                msg = (
                    "server closed the connection mid-response"
                    if self.first
                    else "server closed the connection without responding"
                )
            elif isinstance(exc, ssl.SSLError):
                kind, msg = "tls", f"TLS error: {getattr(exc, 'reason', None) or exc}"
            elif isinstance(exc, (ConnectionResetError, BrokenPipeError)):
                kind, msg = "reset", "connection reset by peer"
            else:
                kind, msg = "other", f"connection lost: {exc}"
            self._fail(now, kind, msg, close=False)
        elif self.owner is not None:
            self.owner.on_idle_lost(self)

    def _retry_elsewhere(self) -> None:
        """Hand the request back to its owner, unrecorded, to be sent once more on a new connection.

        The server closed this reused connection right after its previous response, without a
        ``Connection: close`` (uvicorn after an unhandled exception, a server capping requests per
        connection), and the request was written before the close arrived. Nothing of a response
        came, so the server cannot have answered it; browsers and HTTP client pools send such a
        request again on a new connection, and recording the artifact would inflate failures.
        The retry goes on a new connection, which carries nothing yet: it is never retried again.
        """
        e = self.e
        self.busy = False
        e.inflight -= 1
        e.retried += 1
        self.owner.retry(self)

    # -- httptools callbacks (the general path) ----------------------------------------------
    def _start_slow(self) -> None:
        self.slow = True
        self.status = 0
        self.hdrs: list | None = None
        self.hasher = None
        self.body1: bytes | None = None
        self.bfirst = b""
        self.headers_done = False
        self.framed = False
        self.body_parts: list[bytes] | None = [] if self.spec.captures is not None else None  # type: ignore[union-attr]
        self.all_headers: dict[str, str] = {}

    def on_header(self, name: bytes, value: bytes) -> None:
        low = name.lower()
        i = self.hidx.get(low)
        if i is not None:
            if self.hdrs is None:
                self.hdrs = [None] * self.nh
            self.hdrs[i] = value if self.hdrs[i] is None else self.hdrs[i] + b", " + value
        if low == b"content-length" or low == b"transfer-encoding":
            self.framed = True
        key = low.decode("latin-1")
        text = value.decode("latin-1")
        self.all_headers[key] = text if key not in self.all_headers else self.all_headers[key] + ", " + text

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True
        if self.status in (204, 304) or self.status < 200:
            self.framed = True
        if self.spec.head:  # type: ignore[union-attr]
            self.parser = httptools.HttpResponseParser(self)
            self._complete_slow(perf_ns(), keep=True)

    def on_body(self, body: bytes) -> None:
        if self.body1 is None and self.hasher is None:
            self.body1 = body  # the whole body in one piece, hashed once later
        else:
            h = self.hasher
            if h is None:
                h = self.hasher = blake2b(self.body1, digest_size=8)
                self.bfirst = self.body1[:SAMPLE_BYTES]  # type: ignore[index]
                self.body1 = None
            h.update(body)
            if len(self.bfirst) < SAMPLE_BYTES:
                self.bfirst += body[: SAMPLE_BYTES - len(self.bfirst)]
        if self.body_parts is not None:
            self.body_parts.append(body)

    def on_message_complete(self) -> None:
        if self.busy and self.slow:
            self._complete_slow(perf_ns(), keep=self.parser.should_keep_alive())

    # -- requests ---------------------------------------------------------------------------
    def send(self, spec: Spec, seq: int, vu: int, intended: int, connect_ns: int, owner: Any) -> None:
        now = perf_ns()
        e = self.e
        self.spec = spec
        self.seq = seq
        self.vu = vu
        self.intended = intended or now
        self.start = now
        self.connect_ns = connect_ns
        self.first = 0
        self.slow = False
        self.owner = owner
        e.inflight += 1
        self.infl = e.inflight
        self.busy = True
        self.transport.write(spec.data)  # type: ignore[union-attr]

    def resend(self, seq: int) -> None:
        """:meth:`send` again with the same spec, VU and owner: the closed loop's hot path."""
        now = perf_ns()
        e = self.e
        self.seq = seq
        self.intended = self.start = now
        self.connect_ns = 0
        self.first = 0
        self.slow = False
        e.inflight += 1
        self.infl = e.inflight
        self.busy = True
        self.transport.write(self.spec.data)  # type: ignore[union-attr]

    def _captures(self, body: bytes, headers: dict[str, str]) -> str | None:
        spec = self.spec
        try:
            for cap in spec.captures:  # type: ignore[union-attr]
                spec.env[cap.var] = cap.extract(body, headers)  # type: ignore[index]
        except CaptureFailed as exc:
            return str(exc)
        return None

    def _complete_fast(self, now: int, entry: tuple, data: bytes) -> None:
        status, keep, hcode, htuple, allh, digest, sample, body_at = entry
        spec = self.spec
        if spec.captures is None and spec.path_code >= 0 and hcode != -2:  # type: ignore[union-attr]
            # The commonest case of all, with _record inlined.
            e = self.e
            b = e.buf
            self.busy = False
            e.inflight -= 1
            carried = self.carried
            start = self.start
            idle = (start - self.last_end) // 1000 if carried else -1
            b.ints.extend((
                self.seq, self.vu, spec.spec_code, spec.path_code,  # type: ignore[union-attr]
                self.connect_ns // 1000, (self.first - start) // 1000, status, -1, -1, self.nin,
                len(spec.data), sample, self.id, carried,  # type: ignore[union-attr]
                idle if idle < INT32_MAX else INT32_MAX, self.infl, hcode,
            ))
            b.times.extend((self.intended, start, now))
            b.digests += digest
            self.carried = carried + 1
            self.last_end = now
            if not keep or not e.keepalive:
                self.close()
            self.owner.on_response(self)
            return
        msg = None
        if spec.captures is not None:  # type: ignore[union-attr]
            self.result_headers = allh
            if spec.captures and status < 400:  # type: ignore[union-attr]
                msg = self._captures(data[body_at:], allh)
            self.result_status = status
            self.result_ok = msg is None
        if hcode == -2:
            hcode = self.e.buf.header_code(len(self.e.buf), htuple)
        self._record(now, status, "capture" if msg else None, msg, digest, sample, hcode)
        if not keep or not self.e.keepalive:
            self.close()
        self.owner.on_response(self)

    def _complete_slow(self, now: int, keep: bool) -> None:
        msg = None
        spec = self.spec
        if spec.captures is not None:  # type: ignore[union-attr]
            self.result_headers = self.all_headers
            if spec.captures and 200 <= self.status < 400:  # type: ignore[union-attr]
                msg = self._captures(b"".join(self.body_parts or ()), self.all_headers)
        b = self.e.buf
        if self.body1 is not None:
            digest, sample = b.small_body(self.body1)
        elif self.hasher is not None:
            digest, sample = self.hasher.digest(), b.sample_code(self.bfirst)
        else:
            digest, sample = _EMPTY_DIGEST, b.sample_code(b"")
        hcode = b.header_code(len(b), tuple(self.hdrs) if self.hdrs is not None else (None,) * self.nh)
        self._record(now, self.status, "capture" if msg else None, msg, digest, sample, hcode)
        self.result_status = self.status
        self.result_ok = msg is None
        if not keep or not self.e.keepalive:
            self.close()
        self.owner.on_response(self)

    def _fail(self, now: int, kind: str, msg: str, close: bool = True) -> None:
        got = self.slow and self.headers_done
        status = self.status if got else 0
        hcode = -1
        if got:
            hcode = self.e.buf.header_code(len(self.e.buf), tuple(self.hdrs) if self.hdrs is not None else (None,) * self.nh)
        self._record(now, status, kind, msg, _EMPTY_DIGEST if got else _NO_DIGEST, -1, hcode)
        self.result_status = 0
        self.result_ok = False
        if close:
            self.close(abort=True)
        self.closed = True
        self.owner.on_response(self)

    def on_timeout(self, now: int) -> None:
        if self.busy:
            got = (
                "after the headers" if self.slow and self.headers_done
                else "before any response" if not self.first else "mid-response"
            )
            self._fail(now, "timeout", f"no complete response within {self.e.timeout_s:g}s ({got})")

    def cancel(self, now: int) -> None:
        if self.busy:
            self._fail(now, "cancelled", "run ended before the response")

    def close(self, abort: bool = False) -> None:
        self.closed = True
        t = self.transport
        if t is not None and not t.is_closing():
            t.abort() if abort else t.close()

    def _record(self, now: int, status: int, kind: str | None, msg: str | None,
                digest: bytes, sample: int, hcode: int) -> None:
        """Append this request's row: the inlined twin of :meth:`RecordBuffer.add`."""
        e = self.e
        b = e.buf
        spec = self.spec
        self.busy = False
        e.inflight -= 1
        carried = self.carried
        start = self.start
        pcode = spec.path_code  # type: ignore[union-attr]
        if pcode == -2:
            b.paths.overflow[len(b.ints) // NI] = spec.path  # type: ignore[union-attr]
        idle = (start - self.last_end) // 1000 if carried else -1
        b.ints.extend((
            self.seq,
            self.vu,
            spec.spec_code,  # type: ignore[union-attr]
            pcode,
            self.connect_ns // 1000 if self.connect_ns >= 0 else -1,
            (self.first - start) // 1000 if self.first else -1,
            status,
            -1 if kind is None else ERROR_CODE[kind],
            -1 if msg is None else b.error_code(len(b.ints) // NI, msg),
            self.nin if self.first else 0,
            len(spec.data),  # type: ignore[union-attr]
            sample,
            self.id,
            carried,
            idle if idle < INT32_MAX else INT32_MAX,
            self.infl,
            hcode,
        ))
        b.times.extend((self.intended, start, now))
        b.digests += digest
        self.carried = carried + 1
        self.last_end = now


_MISSING = object()
_EMPTY_DIGEST = blake2b(b"", digest_size=8).digest()


class Engine:
    """Shared state of one process's run: buffer, bounds, connections, timeouts."""

    def __init__(
        self,
        buf: RecordBuffer,
        shape: LoadShape,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        keepalive: bool = True,
        insecure: bool = False,
        ca_file: str | None = None,
        request_limit: int | None = None,
    ) -> None:
        self.buf = buf
        self.shape = shape
        self.loop = asyncio.get_running_loop()
        self.timeout_s = timeout
        self.timeout_ns = int(timeout * 1e9)
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self.limit = request_limit if request_limit is not None else shape.request_limit
        self.issued = 0
        self.inflight = 0
        self.conns: list[Conn] = []
        self.conn_ids = itertools.count()
        self.stopping = False
        self.interrupted = False
        self.t0 = perf_ns()
        self.end_ns = self.t0 + int(shape.stop_after * 1e9)
        self.addrs: dict[Endpoint, tuple[str, int]] = {}
        self.late = 0
        self.dropped = 0
        #: Requests sent again on a new connection after a reused one closed under them.
        self.retried = 0
        self._ssl: ssl.SSLContext | None = None
        self._insecure = insecure
        self._ca_file = ca_file
        self.done = self.loop.create_future()
        self.active_drivers = 0
        self.head_cache: dict[bytes, Any] = {}
        self.response_cache: dict[bytes, tuple] = {}
        #: True once no new request may start: the send window ended or stop() was called.
        #: A timer sets it, so the hot path reads a flag instead of the clock.
        self.closed_window = False
        self.loop.call_later(shape.stop_after, self._close_window)

    # -- bounds -------------------------------------------------------------------------
    def admit(self) -> int | None:
        """The next sequence number, or None when a bound says stop."""
        if self.closed_window or self.issued >= self.limit:
            return None
        s = self.issued
        self.issued += 1
        return s

    def _close_window(self) -> None:
        if perf_ns() < self.end_ns:  # timers may fire a hair early
            self.loop.call_later((self.end_ns - perf_ns()) / 1e9, self._close_window)
            return
        self.closed_window = True

    def stop(self, interrupted: bool = False) -> None:
        """No new requests; with ``interrupted``, in-flight requests are cancelled now."""
        self.stopping = True
        self.closed_window = True
        if interrupted:
            self.interrupted = True
            now = perf_ns()
            for c in self.busy_conns():
                c.cancel(now)
        self._check_done()

    def driver_started(self) -> None:
        self.active_drivers += 1

    def driver_exited(self) -> None:
        self.active_drivers -= 1
        self._check_done()

    def busy_conns(self) -> list[Conn]:
        return [c for c in self.conns if c.busy]

    def _check_done(self) -> None:
        if self.active_drivers <= 0 and self.inflight <= 0 and not self.done.done():
            self.done.set_result(None)

    # -- connections ------------------------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            ctx = ssl.create_default_context(cafile=self._ca_file)
            if self._insecure:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["http/1.1"])
            self._ssl = ctx
        return self._ssl

    async def resolve(self, ep: Endpoint) -> tuple[str, int]:
        addr = self.addrs.get(ep)
        if addr is None:
            infos = await self.loop.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
            addr = infos[0][4][:2]
            self.addrs[ep] = addr
        return addr

    async def connect(self, ep: Endpoint) -> tuple[Conn, int]:
        """A new connection and the ns it took; :class:`ConnectFailure` otherwise."""
        t = perf_ns()
        try:
            host, port = await self.resolve(ep)
            tls = self.ssl_context() if ep.tls else None
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(
                    lambda: Conn(self, ep), host, port, ssl=tls, server_hostname=ep.host if tls else None
                ),
                self.connect_timeout,
            )
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            raise ConnectFailure(*classify_connect_error(exc, ep, self.connect_timeout)) from None
        self.conns.append(conn)
        if len(self.conns) > 4096:
            self.conns = [c for c in self.conns if not c.closed or c.busy]
        return conn, max(perf_ns() - t, 1000)

    def record_unsent(
        self, spec: Spec, seq: int, vu: int, intended: int, start: int, kind: str, msg: str, connect_ns: int = -1
    ) -> None:
        """Record a request that failed before it could be written (connect, capture)."""
        now = perf_ns()
        b = self.buf
        row = len(b)
        if spec.path_code == -2:
            b.paths.overflow[row] = spec.path
        b.ints.extend((
            seq, vu, spec.spec_code, spec.path_code,
            connect_ns // 1000 if connect_ns >= 0 else -1, -1, 0, ERROR_CODE[kind], b.error_code(row, msg),
            0, 0, -1, -1, 0, -1, self.inflight + 1, -1,
        ))
        b.times.extend((intended or start, start, now))
        b.digests += _NO_DIGEST

    async def sweeper(self) -> None:
        tick = min(0.05, max(self.timeout_s / 20, 0.002))
        while True:
            await asyncio.sleep(tick)
            now = perf_ns()
            limit = now - self.timeout_ns
            expired = [c for c in self.conns if c.busy and c.start <= limit]
            for c in expired:
                c.on_timeout(now)
            if expired:
                self._check_done()

    def close_all(self) -> None:
        for c in self.conns:
            c.close()


# -- drivers ------------------------------------------------------------------------------


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
            e.record_unsent(self.spec, seq, self.id, intended, start, "cancelled", "run ended before the request was sent")
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
        """Send ``conn``'s request again on a new connection (:meth:`Conn._retry_elsewhere`)."""
        if self.conn is conn:
            self.conn = None
        self.e.loop.create_task(self._connect_send(conn.seq, conn.intended))


class OpenDispatcher:
    """Open model: requests leave at their intended times whatever the server does.

    Latency is measured from the intended time, so a stall shows up in every request scheduled
    during it (no coordinated omission). When all ``max_conns`` connections are busy, due requests
    queue; they are sent late and counted. Those still queued when the send window closes are
    dropped and counted.
    """

    def __init__(self, engine: Engine, spec: Spec | None, max_conns: int, flow_pool: FlowPool | None = None) -> None:
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
                if e.stopping:
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
        if self.flow_pool is not None:
            self.flow_pool.dispatch(seq, intended)
            return
        if self.idle:
            c = self.idle.pop()
            c.send(self.spec, seq, c.id, intended, 0, self)  # type: ignore[arg-type]
        elif self.nconns < self.max_conns:
            self.nconns += 1
            self.e.loop.create_task(self._connect_send(seq, intended))
        else:
            self.queued_total += 1
            self.pending.append((seq, intended))

    async def _connect_send(self, seq: int, intended: int) -> None:
        e = self.e
        spec = self.spec
        start = perf_ns()
        try:
            conn, cns = await e.connect(spec.ep)  # type: ignore[union-attr]
        except ConnectFailure as f:
            self.nconns -= 1
            e.record_unsent(spec, seq, -1, intended, start, f.kind, f.message, perf_ns() - start)  # type: ignore[arg-type]
            self._next_pending()
            e._check_done()
            return
        if e.stopping and e.interrupted:
            conn.close()
            self.nconns -= 1
            e.record_unsent(spec, seq, -1, intended, start, "cancelled",  # type: ignore[arg-type]
                            "run ended before the request was sent")
            e._check_done()
            return
        conn.owner = self
        conn.send(spec, seq, conn.id, intended, cns, self)  # type: ignore[arg-type]

    def retry(self, conn: Conn) -> None:
        """Send ``conn``'s request again on a new connection (:meth:`Conn._retry_elsewhere`).

        The new connection takes the lost one's place in ``nconns``; the retry counts as a driver
        meanwhile, so the run cannot end while it connects.
        """
        self.e.driver_started()
        self.e.loop.create_task(self._retry(conn.seq, conn.intended))

    async def _retry(self, seq: int, intended: int) -> None:
        try:
            await self._connect_send(seq, intended)
        finally:
            self.e.driver_exited()

    def _next_pending(self) -> None:
        if self.pending and self.nconns < self.max_conns and not self.e.stopping:
            seq, intended = self.pending.popleft()
            self.nconns += 1
            self.e.loop.create_task(self._connect_send(seq, intended))

    def on_response(self, conn: Conn) -> None:
        if conn.closed:
            self.nconns -= 1
            self._next_pending()
        elif self.pending and not self.e.stopping:
            seq, intended = self.pending.popleft()
            conn.send(self.spec, seq, conn.id, intended, 0, self)  # type: ignore[arg-type]
        else:
            self.idle.append(conn)
        if self.exited:
            if not conn.closed:
                self.idle.remove(conn)
                conn.close()
            self.e._check_done()

    def on_idle_lost(self, conn: Conn) -> None:
        try:
            self.idle.remove(conn)
        except ValueError:
            return
        self.nconns -= 1


class _Waiter:
    """Owner of a flow request: resolves a future when the response (or failure) is in."""

    __slots__ = ("fut", "vu")

    def __init__(self, fut: asyncio.Future, vu: FlowVU) -> None:
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

    def __init__(self, engine: Engine, vu: int, flow: Flow, base: Endpoint, base_path: str) -> None:
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

    def start(self) -> None:
        """Run closed-model iterations in a task until a bound or deactivation stops it."""
        self.running = True
        self.e.driver_started()
        self.e.loop.create_task(self._run_closed())

    async def _run_closed(self) -> None:
        try:
            while self.active:
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
            ok = True
            for step in self.flow.setup:
                res = await self.step(step, seq, intended)
                seq, intended = None, 0
                if res is None:
                    return False
                ok = ok and res
            self.need_setup = not ok
        for step in self.flow.steps:
            if step.pause > 0:
                await asyncio.sleep(step.pause)
            res = await self.step(step, seq, intended)
            seq, intended = None, 0
            if res is None:
                return False
        self.iteration += 1
        return True

    async def step(self, step: Step, seq: int | None, intended: int) -> bool | None:
        """Run one step; True if it succeeded, False if it failed, None if a bound stopped it."""
        e = self.e
        if seq is None:
            seq = e.admit()
            if seq is None:
                return None
        self.env["seq"] = seq
        for cap in step.captures:
            self.env.pop(cap.var, None)
        start = perf_ns()
        try:
            target, headers, body = step.render(self.env)
            if step.absolute:
                ep, path = split_url(target)
            else:
                ep, path = self.base, self.base_path + target
            data = build_request(step.method, ep, path, headers, body, e.keepalive)
        except MissingVariable as mv:
            spec = Spec(e.buf, b"", self.base, step.method, step.target.render({**_placeholders(step), **self.env}), step.name, [], self.env)
            e.record_unsent(spec, seq, self.id, intended, start, "capture",
                            f"variable {{{mv.name}}} has no value: the step that captures it failed")
            return False
        except Exception as exc:  # a URL or header that renders into something unusable
            spec = Spec(e.buf, b"", self.base, step.method, "/", step.name, [], self.env)
            e.record_unsent(spec, seq, self.id, intended, start, "other", f"step {step.name!r} cannot be sent: {exc}")
            return False
        spec = Spec(e.buf, data, ep, step.method, path, step.name, step.captures, self.env)
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
                e.record_unsent(spec, seq, self.id, intended, start, "cancelled", "run ended before the request was sent")
                return None
            fut = e.loop.create_future()
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


def _placeholders(step: Step) -> dict[str, str]:
    return {n: "{" + n + "}" for n in step.needs}


class FlowPool:
    """Open model with a flow: each arrival runs one iteration on an idle virtual user."""

    def __init__(self, engine: Engine, flow: Flow, base: Endpoint, base_path: str, max_vus: int) -> None:
        self.e = engine
        self.flow = flow
        self.base = base
        self.base_path = base_path
        self.max_vus = max_vus
        self.idle: list[FlowVU] = []
        self.all: list[FlowVU] = []
        self.pending: deque[tuple[int, int]] = deque()
        self.tasks: set[asyncio.Task] = set()

    def dispatch(self, seq: int, intended: int) -> None:
        if self.idle:
            vu = self.idle.pop()
        elif len(self.all) < self.max_vus:
            vu = FlowVU(self.e, len(self.all), self.flow, self.base, self.base_path)
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


class ClosedController:
    """Keeps the number of active closed-model VUs on the staged target."""

    def __init__(self, engine: Engine, make_vu: Callable[[int], Any]) -> None:
        self.e = engine
        self.make_vu = make_vu
        self.vus: list[Any] = []

    def set_level(self, n: int) -> None:
        for i, vu in enumerate(self.vus):
            if i < n and not vu.active:
                vu.active = True
                if not getattr(vu, "running", True):
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
