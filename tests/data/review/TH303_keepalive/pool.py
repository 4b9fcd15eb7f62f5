"""TH303: client pools keeping idle connections longer than the server's keep-alive."""

import http.client
import time

import aiohttp
import httpx


class UpstreamPool:
    def __init__(self, host: str, max_idle: int = 32, idle_timeout: float = 60.0, timeout: float = 5.0) -> None:
        self.host = host
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self.timeout = timeout
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []

    def acquire(self) -> http.client.HTTPConnection:
        while self._idle:
            conn, since = self._idle.pop()
            if time.monotonic() - since < self.idle_timeout:
                return conn
        return http.client.HTTPConnection(self.host, timeout=self.timeout)


upstream = UpstreamPool("internal")  # expect: TH303
quick = UpstreamPool("internal", idle_timeout=1.5)
limits = httpx.Limits(max_keepalive_connections=20, keepalive_expiry=30)  # expect: TH303
fine_limits = httpx.Limits(max_keepalive_connections=20, keepalive_expiry=2)


def connector():
    return aiohttp.TCPConnector(keepalive_timeout=75)  # expect: TH303
