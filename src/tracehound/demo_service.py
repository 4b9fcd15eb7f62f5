"""A minimal orders API whose database pool runs dry under load: the prober tests' target.

A plain ASGI app. Every ``/orders`` request checks a "connection" out of a pool of four (an
``asyncio.Semaphore``) and holds it for 15–30 ms of simulated query time. A request that waits
more than 100 ms for a connection answers 503 with the pool's error and logs one line to stderr,
as a real pool with a checkout timeout would. A handful of concurrent users never wait that
long; two dozen often do.

Run: ``python -m tracehound.demo_service PORT [--parent PID]``. With ``--parent`` the service
shuts itself down when that process is gone, so it cannot outlive whoever started it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

POOL_SIZE = 4
CHECKOUT_TIMEOUT_S = 0.1
QUERY_TIME_S = (0.015, 0.030)

_ORDER_PATH = re.compile(r"^/orders(?:/(\d+))?/?$")


class OrdersService:
    """The ASGI app: ``GET /orders``, ``GET /orders/{id}`` (both through the pool), ``GET /health``."""

    def __init__(
        self,
        pool_size: int = POOL_SIZE,
        checkout_timeout: float = CHECKOUT_TIMEOUT_S,
        query_time: tuple[float, float] = QUERY_TIME_S,
        parent_pid: int | None = None,
    ) -> None:
        self.pool_size = pool_size
        self.checkout_timeout = checkout_timeout
        self.query_time = query_time
        self.parent_pid = parent_pid
        self.pool = asyncio.Semaphore(pool_size)
        self.waiting = 0
        self._watchdog: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.parent_pid is not None:
                    self._watchdog = asyncio.create_task(self._watch_parent(self.parent_pid))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._watchdog is not None:
                    self._watchdog.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, send: Send) -> None:
        path = scope["path"]
        if path == "/health":
            await _respond(send, 200, {"status": "ok"})
            return
        match = _ORDER_PATH.match(path)
        if match is None:
            await _respond(send, 404, {"detail": "not found"})
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, {"detail": "method not allowed"})
            return
        order_id = int(match.group(1)) if match.group(1) else None
        status, body = await self._query(order_id, f"{scope['method']} {path}")
        await _respond(send, status, body)

    async def _query(self, order_id: int | None, request_line: str) -> tuple[int, dict[str, Any]]:
        self.waiting += 1
        try:
            async with asyncio.timeout(self.checkout_timeout):
                await self.pool.acquire()
        except TimeoutError:
            waiting = self.waiting - 1
            _log(
                f"ERROR db.pool: checkout timed out after {self.checkout_timeout:g}s "
                f"(pool size {self.pool_size}, all in use, {waiting} other requests waiting); "
                f"{request_line} -> 503"
            )
            return 503, {
                "detail": f"connection pool exhausted ({self.pool_size}/{self.pool_size}), "
                f"timed out after {self.checkout_timeout:g}s"
            }
        finally:
            self.waiting -= 1
        try:
            await asyncio.sleep(random.uniform(*self.query_time))
        finally:
            self.pool.release()
        if order_id is None:
            return 200, {"orders": [{"id": i, "items": 3} for i in range(1, 4)]}
        return 200, {"id": order_id, "items": 3, "status": "shipped"}

    async def _watch_parent(self, pid: int) -> None:
        while os.getppid() == pid:
            await asyncio.sleep(0.25)
        _log(f"INFO demo: parent process {pid} is gone; shutting down")
        os.kill(os.getpid(), signal.SIGTERM)


async def _respond(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _log(line: str) -> None:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    print(f"{now} {line}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tracehound.demo_service", description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--parent", type=int, default=None, help="exit when this process is gone")
    args = parser.parse_args(argv)

    import uvicorn

    app = OrdersService(parent_pid=args.parent)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
