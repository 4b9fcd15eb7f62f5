"""The engine: one process's run, shared by its drivers and connections (buffer, bounds, timeouts)."""

from __future__ import annotations

import asyncio
import itertools
import socket
import ssl

from tracehound.probe.engine.connection import Conn, ConnectFailure, classify_connect_error, perf_ns
from tracehound.probe.engine.head import CachedHead, ResponseEntry
from tracehound.probe.engine.spec import Spec
from tracehound.probe.records import ERROR_CODE, NO_DIGEST, RecordBuffer
from tracehound.probe.shapes import LoadShape
from tracehound.probe.target import Endpoint


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
        self.head_cache: dict[bytes, CachedHead] = {}
        self.response_cache: dict[bytes, ResponseEntry] = {}
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
        self.check_done()

    def driver_started(self) -> None:
        self.active_drivers += 1

    def driver_exited(self) -> None:
        self.active_drivers -= 1
        self.check_done()

    def busy_conns(self) -> list[Conn]:
        return [c for c in self.conns if c.busy]

    def check_done(self) -> None:
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
            sockaddr = infos[0][4]
            addr = (str(sockaddr[0]), int(sockaddr[1]))
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
        b.digests += NO_DIGEST

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
                self.check_done()

    def close_all(self) -> None:
        for c in self.conns:
            c.close()
