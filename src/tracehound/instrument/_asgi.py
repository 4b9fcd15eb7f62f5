"""The ASGI middleware: Server-Timing on every response, /metrics, and the loop monitor's life."""

from __future__ import annotations

import time
from typing import Any

from tracehound.instrument._timing import CURRENT, RequestTimings, queue_seconds

Scope = dict[str, Any]


class ASGIMiddleware:
    """Wraps an ASGI app; see :func:`tracehound.instrument.instrument`."""

    def __init__(self, app: Any, inst: Any) -> None:
        self.app = app
        self.inst = inst

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope.get("type")
        if kind == "lifespan":
            return await self._lifespan(scope, receive, send)
        if kind != "http":
            return await self.app(scope, receive, send)
        inst = self.inst
        monitor = inst.monitor
        if monitor is not None and not monitor.running:
            monitor.start()  # covers servers started without lifespan events
        if scope["path"] == inst.metrics_path and scope["method"] in ("GET", "HEAD"):
            return await self._metrics(scope, send)
        start = time.perf_counter()
        timings = RequestTimings(start, queue_s=queue_seconds(_header(scope, b"x-request-start")) if inst.queue else None)
        lag0 = pre = 0.0
        if monitor is not None:
            lag0, pre = monitor.lag_so_far(start), monitor.stall_before(start)
        status = 500
        to_headers = 0.0

        async def send_timed(message: dict[str, Any]) -> None:
            nonlocal status, to_headers
            if message["type"] == "http.response.start":
                now = time.perf_counter()
                status = message.get("status", 500)
                to_headers = now - start
                if monitor is not None:
                    timings.loop_s = monitor.lag_so_far(now) - lag0 + pre
                if inst.server_timing:
                    message["headers"] = [*message.get("headers", ()), (b"server-timing", timings.header(to_headers, inst.has_db))]
            await send(message)

        http = inst.metrics.http
        http.begin()
        # Only the pool hooks read the request's timings from the context; without an engine,
        # setting it would only slow every later context copy down.
        token = CURRENT.set(timings) if inst.has_db else None
        try:
            await self.app(scope, receive, send_timed)
        finally:
            if token is not None:
                CURRENT.reset(token)
            http.done(status, to_headers or time.perf_counter() - start)

    async def _metrics(self, scope: Scope, send: Any) -> None:
        body = self.inst.metrics.text()
        headers = [(b"content-type", self.inst.metrics.content_type.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})

    async def _lifespan(self, scope: Scope, receive: Any, send: Any) -> None:
        """Start the loop monitor with the app and stop it at shutdown (no task left pending)."""
        monitor = self.inst.monitor

        async def receive_watched() -> dict[str, Any]:
            message = await receive()
            if monitor is not None:
                if message.get("type") == "lifespan.startup":
                    monitor.start()
                elif message.get("type") == "lifespan.shutdown":
                    monitor.stop()
            return message

        await self.app(scope, receive_watched, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for k, v in scope.get("headers") or ():
        if k == name:
            return v
    return None
