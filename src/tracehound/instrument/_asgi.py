"""The ASGI middleware: Server-Timing on every response, /metrics, and the loop monitor's life."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from tracehound.instrument._instrumentation import Instrumentation
from tracehound.instrument._loop import LoopMonitor
from tracehound.instrument._timing import CURRENT, RequestTimings, server_timing

_now = time.perf_counter

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ASGIMiddleware:
    """Wraps an ASGI app; see :func:`tracehound.instrument.instrument`."""

    def __init__(self, app: ASGIApp, inst: Instrumentation) -> None:
        self.app = app
        self.inst = inst
        # Read once: every attribute looked up per request is time on every request.
        self.monitor = inst.monitor
        self.http = inst.metrics.http
        self.timed = inst.server_timing
        self.metrics_path = inst.metrics_path
        self.has_db = inst.has_db
        self.idle = not (self.timed or self.has_db or self.http is not None)
        #: The loop monitor when Server-Timing carries the loop's lag and nothing else per request:
        #: :meth:`handle` then inlines it (once the gateway probe is over: see ``Instrumentation.queued``).
        self.short: LoopMonitor | None = None
        if self.timed and not self.has_db and self.http is None:
            self.short = self.monitor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.handle(scope, receive, send)

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The middleware as a plain function that returns the awaitable to run.

        Inside Starlette (which only ever awaits its middleware stack) this is installed as the
        stack itself, so the middleware adds no coroutine of its own to a request; on a trivial
        endpoint every coroutine frame is a measurable share of the request's CPU time.
        """
        short = self.short
        if (short is not None and scope["type"] == "http" and not self.inst.queue and short.loop is not None
                and scope["path"] != self.metrics_path):
            # The usual case, inline: Server-Timing with the loop's lag, nothing else per request.
            start = _now()
            total0 = short.total_s

            def send_timed(message: Message) -> Awaitable[None]:  # a plain function: no coroutine per message
                if message["type"] == "http.response.start":
                    now = _now()
                    lag_ms = short.lag_since(start, total0, now) * 1000.0
                    value = b"app;dur=%.1f, loop;dur=%.1f" % ((now - start) * 1000.0, lag_ms)
                    message["headers"] = [*message.get("headers", ()), (b"server-timing", value)]
                return send(message)

            return self.app(scope, receive, send_timed)
        monitor = self.monitor
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                return self._lifespan(scope, receive, send)
            return self.app(scope, receive, send)
        if monitor is not None and monitor.loop is None:
            monitor.start()  # a server started without lifespan events
        if scope["path"] == self.metrics_path and scope["method"] in ("GET", "HEAD"):
            return self._metrics(scope, send)
        if self.idle:
            return self.app(scope, receive, send)
        return self._timed(scope, receive, send)

    async def _timed(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every other combination: pool and statement time, the gateway's queue, request metrics."""
        inst, http, timed, monitor = self.inst, self.http, self.timed, self.monitor
        start = _now()
        if http is not None:
            http.in_flight += 1
        total0 = monitor.total_s if monitor is not None else 0.0
        queue_s = inst.queued(_header(scope, b"x-request-start")) if inst.queue else None
        timings = RequestTimings(start) if self.has_db else None
        status = 500
        to_headers = 0.0

        def send_timed(message: Message) -> Awaitable[None]:
            nonlocal status, to_headers
            if message["type"] == "http.response.start":
                now = _now()
                status = message["status"]
                to_headers = now - start
                if timed:
                    loop_s = monitor.lag_since(start, total0, now) if monitor is not None else None
                    value = server_timing(to_headers, loop_s, queue_s, timings)
                    message["headers"] = [*message.get("headers", ()), (b"server-timing", value)]
            return send(message)

        # Only the pool hooks read the request's timings from the context.
        token = CURRENT.set(timings) if timings is not None else None
        try:
            await self.app(scope, receive, send_timed)
        finally:
            if token is not None:
                CURRENT.reset(token)
            if http is not None:
                http.done_on_loop(status, to_headers or _now() - start)

    async def _metrics(self, scope: Scope, send: Send) -> None:
        body = self.inst.metrics.text()
        headers = [(b"content-type", self.inst.metrics.content_type.encode()),
                   (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start the loop monitor with the app and stop it at shutdown (no task left pending)."""
        monitor = self.inst.monitor

        async def receive_watched() -> Message:
            message = await receive()
            if monitor is not None:
                if message.get("type") == "lifespan.startup":
                    monitor.start()
                elif message.get("type") == "lifespan.shutdown":
                    monitor.stop()
            return message

        await self.app(scope, receive_watched, send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
    for k, v in headers:
        if k == name:
            return v
    return None
