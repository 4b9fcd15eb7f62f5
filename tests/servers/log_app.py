"""A small ASGI service that logs like a real one, for the log analyst's tests.

``GET /work``: every third request fails with a logged traceback and a 500; the others log one
info line and answer 200; each takes about 5 ms. Every response carries an ``X-Request-ID`` header and every log line
names it (``request_id=…``), so the log can be joined to the recorded requests by id as well as by
time. ``GET /health`` answers 200 without logging. Logs go to ``LOG_FILE`` through Python logging,
with naive local timestamps (the zone is the process's ``TZ``).

Run it with ``python -m uvicorn tests.servers.log_app:app --port PORT``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("ledger")
_counter = itertools.count(1)


class LedgerUnavailable(RuntimeError):
    pass


def _post(n: int) -> None:
    if n % 3 == 0:
        raise LedgerUnavailable(f"ledger shard {n % 7} refused the write")


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                log.info("ledger service ready")
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    rid = str(uuid.uuid4())
    status, body = 200, b'{"ok": true}'
    if scope["path"] == "/work":
        n = next(_counter)
        await asyncio.sleep(0.005)  # the write itself: a real one takes milliseconds
        try:
            _post(n)
            log.info("entry %d posted request_id=%s", n, rid)
        except LedgerUnavailable:
            log.exception("entry %d failed request_id=%s", n, rid)
            status, body = 500, b'{"error": "internal"}'
    elif scope["path"] != "/health":
        status, body = 404, b'{"error": "not found"}'
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"x-request-id", rid.encode())]})
    await send({"type": "http.response.body", "body": body})
