"""The demo's built-in service: an orders API whose database pool runs dry under load.

Four pooled "connections" (a semaphore); each request holds one for ~20 ms of work. A request
that waits more than 100 ms for a connection gets a 503, as a real pool with a checkout timeout
would answer. At a handful of concurrent users it never fails; at two dozen it often does.
Run: ``python -m tracehound.demo_service PORT``.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

POOL_SIZE = 4
CHECKOUT_TIMEOUT = 0.1
_pool: asyncio.Semaphore | None = None


async def app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    global _pool
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                _pool = asyncio.Semaphore(POOL_SIZE)
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    assert _pool is not None
    status, body = 200, {}
    t = time.perf_counter()
    try:
        await asyncio.wait_for(_pool.acquire(), CHECKOUT_TIMEOUT)
    except asyncio.TimeoutError:
        status = 503
        body = {"detail": f"connection pool exhausted ({POOL_SIZE}/{POOL_SIZE}), timed out after {CHECKOUT_TIMEOUT}s"}
        print(f"ERROR pool checkout timed out after {time.perf_counter() - t:.3f}s path={scope['path']}",
              file=sys.stderr, flush=True)
    else:
        try:
            await asyncio.sleep(random.uniform(0.015, 0.025))
            body = {"order": random.randint(1, 10_000), "items": 3}
        finally:
            _pool.release()
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
