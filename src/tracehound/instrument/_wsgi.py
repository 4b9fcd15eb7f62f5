"""The WSGI middleware: Server-Timing on every response and /metrics (no event loop, so no loop lag)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from tracehound.instrument._instrumentation import Instrumentation
from tracehound.instrument._timing import CURRENT, RequestTimings, server_timing

Environ = dict[str, Any]
#: ``start_response(status, headers, exc_info=None)``, as PEP 3333 gives it to the app.
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class WSGIMiddleware:
    """Wraps a WSGI app; see :func:`tracehound.instrument.instrument`."""

    def __init__(self, app: WSGIApp, inst: Instrumentation) -> None:
        self.app = app
        self.inst = inst

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        inst = self.inst
        m = inst.metrics
        if (inst.metrics_path and environ.get("PATH_INFO") == inst.metrics_path
                and environ.get("REQUEST_METHOD") in ("GET", "HEAD")):
            body = m.text()
            start_response("200 OK", [("Content-Type", m.content_type), ("Content-Length", str(len(body)))])
            return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]
        start = time.perf_counter()
        queue_s = inst.queued(environ.get("HTTP_X_REQUEST_START")) if inst.queue else None
        timings = RequestTimings(start) if inst.has_db else None
        status = 500
        to_headers = 0.0

        def start_timed(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status, to_headers
            to_headers = time.perf_counter() - start
            try:
                status = int(status_line.split(None, 1)[0])
            except (ValueError, IndexError):
                status = 500
            if inst.server_timing:
                headers = [*headers, ("Server-Timing", server_timing(to_headers, None, queue_s, timings).decode())]
            return start_response(status_line, headers, exc_info)

        token = CURRENT.set(timings) if timings is not None else None
        http = m.http
        if http is not None:
            http.begin()
        try:
            return self.app(environ, start_timed)
        finally:
            if token is not None:
                CURRENT.reset(token)
            if http is not None:
                http.done(status, to_headers or time.perf_counter() - start)
