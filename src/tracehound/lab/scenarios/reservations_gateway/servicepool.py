"""Keep-alive connections to the internal services, shared by the gateway's worker threads.

Opening a TCP connection per call doubled the gateway's latency, so connections are kept and
reused: the most recently returned one first, and dropped once they have been idle for
``idle_timeout`` seconds, as nginx does with its upstream ``keepalive_timeout``.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit


class ServicePool:
    """HTTP/1.1 connections to one service (plain HTTP inside the cluster)."""

    def __init__(self, base_url: str, max_idle: int = 32, idle_timeout: float = 60.0, timeout: float = 5.0) -> None:
        u = urlsplit(base_url)
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self.timeout = timeout
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        self._lock = threading.Lock()

    def request(self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """Send one request; returns (status, decoded JSON body or None)."""
        body = None
        hdrs = {"Accept": "application/json", **(headers or {})}
        if payload is not None:
            body = json.dumps(payload).encode()
            hdrs["Content-Type"] = "application/json"
        conn = self._acquire()
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        except BaseException:
            conn.close()
            raise
        if resp.will_close:
            conn.close()
        else:
            self._release(conn)
        return resp.status, (json.loads(data) if data else None)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()

    def _acquire(self) -> http.client.HTTPConnection:
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, since = self._idle.pop()
                if now - since < self.idle_timeout:
                    return conn
                conn.close()
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()
