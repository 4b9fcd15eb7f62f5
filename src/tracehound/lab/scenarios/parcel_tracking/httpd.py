"""The tracking service's HTTP/1.1 server: keep-alive connections parked in one selector,
requests handled on a small thread pool, idle connections reaped once a second.

It replaced ThreadingHTTPServer when the depot scanners started keeping hundreds of
connections open: a parked connection costs a file descriptor here, not a thread.
"""

from __future__ import annotations

import logging
import select
import selectors
import socket
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

log = logging.getLogger("httpd")

#: How often idle keep-alive connections are looked for.
REAP_INTERVAL = 1.0
#: An idle connection we retire first gets this long to be closed by the client: the side that
#: closes first keeps the port in TIME_WAIT, and the depot box once ran out of ports that way.
CLIENT_CLOSE_GRACE = 0.1
#: Longest a request may take to arrive once its first byte is in.
READ_TIMEOUT = 10.0


class Handler(BaseHTTPRequestHandler):
    """One request per dispatch: the connection goes back to the selector between requests."""

    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        self.handle_one_request()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        log.info("%s %s", self.address_string(), format % args)


class Conn:
    __slots__ = ("sock", "addr", "idle_since", "served")

    def __init__(self, sock: socket.socket, addr: tuple[str, int]) -> None:
        self.sock = sock
        self.addr = addr
        self.idle_since = time.monotonic()
        self.served = 0


class Server:
    def __init__(self, handler: type[Handler], host: str, port: int, keepalive_timeout: float,
                 threads: int = 8) -> None:
        self.handler = handler
        self.keepalive_timeout = keepalive_timeout
        self.listener = socket.create_server((host, port), backlog=512)
        self.listener.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="httpd")
        self.parked: dict[int, Conn] = {}
        self.returned: deque[Conn] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._lock = threading.Lock()

    def serve_forever(self) -> None:
        log.info("listening on %s:%d (keep-alive %gs, %d threads)", *self.listener.getsockname()[:2],
                 self.keepalive_timeout, self.pool._max_workers)
        next_reap = time.monotonic() + REAP_INTERVAL
        while True:
            for key, _ in self.sel.select(max(0.0, next_reap - time.monotonic())):
                if key.data is None:
                    self._accept()
                elif key.data == "wake":
                    self._take_back()
                else:
                    conn = key.data
                    self.sel.unregister(conn.sock)
                    del self.parked[conn.sock.fileno()]
                    self.pool.submit(self._serve, conn)
            now = time.monotonic()
            if now >= next_reap:
                self._reap(now)
                next_reap = now + REAP_INTERVAL

    # -- the selector thread ----------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                sock, addr = self.listener.accept()
            except BlockingIOError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._park(Conn(sock, addr))

    def _park(self, conn: Conn) -> None:
        self.parked[conn.sock.fileno()] = conn
        self.sel.register(conn.sock, selectors.EVENT_READ, conn)

    def _take_back(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            conns, self.returned = self.returned, deque()
        for conn in conns:
            self._park(conn)

    def _reap(self, now: float) -> None:
        idle = [c for c in self.parked.values() if now - c.idle_since >= self.keepalive_timeout]
        for conn in idle:
            self.sel.unregister(conn.sock)
            del self.parked[conn.sock.fileno()]
            self.pool.submit(self._retire, conn)

    # -- the pool ---------------------------------------------------------------------------

    def _serve(self, conn: Conn) -> None:
        conn.sock.settimeout(READ_TIMEOUT)
        try:
            h = self.handler(conn.sock, conn.addr, self)
        except OSError as e:
            log.warning("%s:%d: %s", *conn.addr, e)
            conn.sock.close()
            return
        except Exception:
            log.exception("unhandled error serving %s:%d", *conn.addr)
            conn.sock.close()
            return
        if h.close_connection:
            conn.sock.close()
            return
        conn.served += 1
        conn.idle_since = time.monotonic()
        with self._lock:
            self.returned.append(conn)
        self._wake_w.send(b"\0")

    def _retire(self, conn: Conn) -> None:
        # Give the client the chance to close first (see CLIENT_CLOSE_GRACE).
        select.select([conn.sock], [], [], CLIENT_CLOSE_GRACE)
        conn.sock.close()
        log.debug("closed idle connection from %s:%d after %d requests", *conn.addr, conn.served)
