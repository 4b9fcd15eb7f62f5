"""One client connection: an asyncio protocol that sends a request and records its response.

The hot path has no coroutine per request: a virtual user's next request is written from the
previous response's completion callback, and each completed request is appended to the
:class:`RecordBuffer` columns in place.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from hashlib import blake2b
from typing import TYPE_CHECKING, Protocol, cast

import httptools

from tracehound.expect import WRONG_BODY
from tracehound.flow import CaptureFailed
from tracehound.probe.engine.head import (
    HEAD_CACHE_SIZE,
    RESPONSE_CACHE_SIZE,
    HeadInfo,
    ResponseEntry,
    parse_head,
)
from tracehound.probe.engine.spec import Spec
from tracehound.probe.records import ERROR_CODE, INT32_MAX, NI, NO_DIGEST, SAMPLE_BYTES
from tracehound.probe.target import Endpoint

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tracehound.probe.engine.head import CachedHead
    from tracehound.probe.records import RecordBuffer

perf_ns = time.perf_counter_ns

#: A request written on a reused connection whose previous response ended less than this long
#: before is sent again on a new connection if the connection dies before any byte of response
#: (see :meth:`Conn.connection_lost`). Longer idle gaps are not retried: a request that meets an
#: idle keep-alive timeout is a failure real clients see too.
REUSE_RETRY_IDLE_NS = 20_000_000

_EMPTY_DIGEST = blake2b(b"", digest_size=8).digest()


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


class EngineState(Protocol):
    """What a connection reads and counts of the engine that opened it (the engine itself, in practice).

    A protocol rather than the engine's class keeps the connection below the engine in the import graph.
    """

    keepalive: bool
    timeout_s: float
    #: Requests written and not yet answered, across every connection.
    inflight: int
    #: Requests sent again on a new connection after a reused one closed under them.
    retried: int

    @property
    def buf(self) -> RecordBuffer: ...

    @property
    def conn_ids(self) -> Iterator[int]: ...

    @property
    def head_cache(self) -> dict[bytes, CachedHead]: ...

    @property
    def response_cache(self) -> dict[bytes, ResponseEntry]: ...


class Owner(Protocol):
    """Who sent a connection's request (a driver), told when the request or the connection ends."""

    def on_response(self, conn: Conn) -> None:
        """The request ended: recorded, answered or failed; ``conn.closed`` says if it can carry another."""

    def on_idle_lost(self, conn: Conn) -> None:
        """The connection closed while it carried nothing."""

    def retry(self, conn: Conn) -> None:
        """Send ``conn``'s request again, unrecorded, on a new connection (:meth:`Conn._retry_elsewhere`)."""


class _NoOwner:
    """The owner of a connection that has carried nothing yet."""

    def on_response(self, conn: Conn) -> None:
        pass

    def on_idle_lost(self, conn: Conn) -> None:
        pass

    def retry(self, conn: Conn) -> None:
        pass


NO_OWNER: Owner = _NoOwner()


class Conn(asyncio.Protocol):
    """One client connection; carries one request at a time (no pipelining)."""

    transport: asyncio.Transport  # set by connection_made, before anyone else holds the connection
    # The request in flight, set by send() and read only while busy.
    spec: Spec
    seq: int
    vu: int
    intended: int
    start: int
    connect_ns: int
    infl: int
    nin: int
    # The general (httptools) path's state, set by _start_slow() and read only while slow.
    status: int
    hdrs: list[bytes | None] | None
    hasher: blake2b | None
    body1: bytes | None
    bfirst: bytes
    headers_done: bool
    framed: bool
    body_parts: list[bytes] | None
    all_headers: dict[str, str]

    def __init__(self, engine: EngineState, ep: Endpoint) -> None:
        self.e = engine
        self.ep = ep
        self.id = next(engine.conn_ids)
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.busy = False
        self.carried = 0
        self.last_end = 0
        self.owner: Owner = NO_OWNER
        self.hidx = engine.buf.header_index
        self.nh = len(engine.buf.header_names)
        self.hcache = engine.head_cache
        self.rcache = engine.response_cache
        self.first = 0
        self.slow = False
        self.result_status = 0
        self.result_ok = False
        self.result_headers: dict[str, str] | None = None

    # -- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # create_connection gives a stream transport

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
            if i > 0 and not self.spec.head:
                head = data[:i]
                info = self.hcache.get(head)
                if info is None:
                    info = parse_head(head, self.e.buf) or False
                    if len(self.hcache) >= HEAD_CACHE_SIZE:
                        self.hcache.clear()
                    self.hcache[head] = info
                if info and len(data) == i + 4 + info[1]:
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

    def _response_entry(self, info: HeadInfo, data: bytes, body_at: int) -> ResponseEntry:
        """What recording needs from a whole one-piece response, cached when it is small."""
        status, _, keep, hcode, htuple, allh = info
        b = self.e.buf
        body = data[body_at:]
        if body:
            digest, sample = b.small_body(body) if len(body) <= 65536 else (
                blake2b(body, digest_size=8).digest(), b.sample_code(body[:SAMPLE_BYTES]))
        else:
            digest, sample = _EMPTY_DIGEST, b.sample_code(b"")
        entry: ResponseEntry = (status, keep, hcode, htuple, allh, digest, sample, body_at)
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
        else:
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
        self.hdrs = None
        self.hasher = None
        self.body1 = None
        self.bfirst = b""
        self.headers_done = False
        self.framed = False
        self.body_parts = [] if self.spec.keeps_body else None
        self.all_headers = {}

    def on_header(self, name: bytes, value: bytes) -> None:
        low = name.lower()
        i = self.hidx.get(low)
        if i is not None:
            hdrs = self.hdrs
            if hdrs is None:
                hdrs = self.hdrs = [None] * self.nh
            old = hdrs[i]
            hdrs[i] = value if old is None else old + b", " + value
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
        if self.spec.head:
            self.parser = httptools.HttpResponseParser(self)
            self._complete_slow(perf_ns(), keep=True)

    def on_body(self, body: bytes) -> None:
        h = self.hasher
        if h is None:
            first = self.body1
            if first is None:
                self.body1 = body  # the whole body in one piece, hashed once later
            else:
                h = self.hasher = blake2b(first, digest_size=8)
                self.bfirst = first[:SAMPLE_BYTES]
                self.body1 = None
        if h is not None:
            h.update(body)
            if len(self.bfirst) < SAMPLE_BYTES:
                self.bfirst += body[: SAMPLE_BYTES - len(self.bfirst)]
        if self.body_parts is not None:
            self.body_parts.append(body)

    def on_message_complete(self) -> None:
        if self.busy and self.slow:
            self._complete_slow(perf_ns(), keep=self.parser.should_keep_alive())

    # -- requests ---------------------------------------------------------------------------
    def send(self, spec: Spec, seq: int, vu: int, intended: int, connect_ns: int, owner: Owner) -> None:
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
        self.transport.write(spec.data)

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
        self.transport.write(self.spec.data)

    def _captures(self, body: bytes, headers: dict[str, str]) -> str | None:
        spec = self.spec
        try:
            for cap in spec.captures or ():
                spec.env[cap.var] = cap.extract(body, headers)
        except CaptureFailed as exc:
            return str(exc)
        return None

    def _judge(self, status: int, body: bytes, headers: dict[str, str]) -> tuple[str | None, str | None]:
        """(error kind, message) of an answer: a capture that found nothing, a missed expectation, or neither."""
        spec = self.spec
        if spec.captures and status < 400:
            msg = self._captures(body, headers)
            if msg is not None:
                return "capture", msg
        if spec.expect is not None and 0 < status < 400:
            msg = spec.expect.check(status, body)
            if msg is not None:
                return WRONG_BODY, msg
        return None, None

    def _complete_fast(self, now: int, entry: ResponseEntry, data: bytes) -> None:
        status, keep, hcode, htuple, allh, digest, sample, body_at = entry
        spec = self.spec
        if not spec.keeps_body and spec.path_code >= 0 and hcode != -2:
            # The commonest case of all, with _record inlined.
            e = self.e
            b = e.buf
            self.busy = False
            e.inflight -= 1
            carried = self.carried
            start = self.start
            idle = (start - self.last_end) // 1000 if carried else -1
            b.ints.extend((
                self.seq, self.vu, spec.spec_code, spec.path_code,
                self.connect_ns // 1000, (self.first - start) // 1000, status, -1, -1, self.nin,
                len(spec.data), sample, self.id, carried,
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
        kind = msg = None
        if spec.keeps_body:
            kind, msg = self._judge(status, data[body_at:], allh)
        if spec.captures is not None:
            self.result_headers = allh
            self.result_status = status
            self.result_ok = kind != "capture"
        if hcode == -2:
            hcode = self.e.buf.header_code(len(self.e.buf), htuple)
        self._record(now, status, kind, msg, digest, sample, hcode)
        if not keep or not self.e.keepalive:
            self.close()
        self.owner.on_response(self)

    def _complete_slow(self, now: int, keep: bool) -> None:
        kind = msg = None
        spec = self.spec
        if spec.keeps_body and 200 <= self.status < 400:
            kind, msg = self._judge(self.status, b"".join(self.body_parts or ()), self.all_headers)
        if spec.captures is not None:
            self.result_headers = self.all_headers
        b = self.e.buf
        if self.body1 is not None:
            digest, sample = b.small_body(self.body1)
        elif self.hasher is not None:
            digest, sample = self.hasher.digest(), b.sample_code(self.bfirst)
        else:
            digest, sample = _EMPTY_DIGEST, b.sample_code(b"")
        hcode = b.header_code(len(b), tuple(self.hdrs) if self.hdrs is not None else (None,) * self.nh)
        self._record(now, self.status, kind, msg, digest, sample, hcode)
        self.result_status = self.status
        self.result_ok = kind != "capture"
        if not keep or not self.e.keepalive:
            self.close()
        self.owner.on_response(self)

    def _fail(self, now: int, kind: str, msg: str, close: bool = True) -> None:
        got = self.slow and self.headers_done
        status = self.status if got else 0
        hcode = -1
        if got:
            b = self.e.buf
            hcode = b.header_code(len(b), tuple(self.hdrs) if self.hdrs is not None else (None,) * self.nh)
        self._record(now, status, kind, msg, _EMPTY_DIGEST if got else NO_DIGEST, -1, hcode)
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
        pcode = spec.path_code
        if pcode == -2:
            b.paths.overflow[len(b.ints) // NI] = spec.path
        idle = (start - self.last_end) // 1000 if carried else -1
        b.ints.extend((
            self.seq,
            self.vu,
            spec.spec_code,
            pcode,
            self.connect_ns // 1000 if self.connect_ns >= 0 else -1,
            (self.first - start) // 1000 if self.first else -1,
            status,
            -1 if kind is None else ERROR_CODE[kind],
            -1 if msg is None else b.error_code(len(b.ints) // NI, msg),
            self.nin if self.first else 0,
            len(spec.data),
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


