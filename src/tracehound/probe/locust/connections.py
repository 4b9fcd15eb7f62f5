"""Which pooled socket carried a request: connection facts geventhttpclient does not report, and error kinds."""

from __future__ import annotations

import itertools
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.socket import socket as GeventSocket

from tracehound.expect import WRONG_BODY, ExpectationMissed
from tracehound.flow import CaptureFailed

#: (conn id, requests it carried before, idle ns, connect ns) of one request's connection.
ConnFacts = tuple[int, int, int, int]


@dataclass
class _Conn:
    """A pooled socket's history: its id, how many requests it carried, when it was last given back."""

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
        self.current: dict[Any, ConnFacts] = {}
        self.connect_failed: dict[Any, bool] = {}
        self.created: dict[Any, int] = {}

    def install(self) -> None:
        try:
            from geventhttpclient.connectionpool import ConnectionPool
        except ImportError:  # pragma: no cover - connection columns stay null
            return
        methods = ("get_socket", "_create_socket", "return_socket", "release_socket")
        if not all(hasattr(ConnectionPool, m) for m in methods):
            return  # pragma: no cover - another geventhttpclient: connection columns stay null
        tracker = self
        get, create, give_back, release = (ConnectionPool.get_socket, ConnectionPool._create_socket,
                                           ConnectionPool.return_socket, ConnectionPool.release_socket)

        def _create_socket(pool: ConnectionPool) -> GeventSocket:
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

        def get_socket(pool: ConnectionPool) -> GeventSocket:
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

        def return_socket(pool: ConnectionPool, sock: GeventSocket) -> None:
            c = tracker.conns.get(id(sock))
            if c is not None:
                c.returned_ns = time.perf_counter_ns()
            give_back(pool, sock)

        def release_socket(pool: ConnectionPool, sock: GeventSocket) -> None:
            tracker.conns.pop(id(sock), None)
            release(pool, sock)

        for name, wrapper in zip(methods, (get_socket, _create_socket, return_socket, release_socket), strict=True):
            setattr(ConnectionPool, name, wrapper)  # the pool's own methods, wrapped: see the class docstring

    def take(self) -> ConnFacts | None:
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
    if isinstance(exc, ExpectationMissed):
        return WRONG_BODY
    return "other"
