"""Transactional notifications (aiohttp): shops send order e-mails and SMS through one account each.
Sends are queued to the delivery workers; each account may send so many messages per second."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
import uuid

from aiohttp import web

from buckets import Buckets

log = logging.getLogger("notify")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "429")
LOG_STYLE = os.environ.get("LOG_STYLE", "json")
SENDS = Buckets(float(os.environ.get("BURST", "10")), float(os.environ.get("SENDS_PER_SECOND", "10")))
TEMPLATES = {"order_confirmed", "order_shipped", "password_reset", "invoice_ready"}
OUTBOX = web.AppKey("outbox", asyncio.Queue)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
                           "log.level": record.levelname.lower(), "message": record.getMessage()})


def refused(account: str, left: float, wait: float) -> web.Response:
    if LOG_STYLE != "none":
        log.warning("send refused for account %s: sending too fast (%.2f sends left)", account, left)
    if ERROR_STYLE == "429":
        return web.json_response(
            {"type": "about:blank", "title": "Too Many Requests", "status": 429,
             "detail": "slow down: this account is sending faster than its plan allows"},
            status=429, content_type="application/problem+json",
            headers={"Retry-After": str(max(1, math.ceil(wait))), "RateLimit-Policy": SENDS.policy(),
                     "RateLimit": f"limit={int(SENDS.capacity)}, remaining=0, reset={max(1, math.ceil(wait))}"})
    return web.json_response({"status": "rejected", "message_id": None, "reason": "throttled"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def send(request: web.Request) -> web.Response:
    account = request.match_info["account"]
    body = await request.json()
    to = str(body.get("to", ""))
    if body.get("template") not in TEMPLATES or not ("@" in to or to.startswith("+")):
        return web.json_response({"status": "invalid", "reason": "unknown template or recipient"}, status=422)
    granted, left, wait = SENDS.take(account)
    if not granted:
        return refused(account, left, wait)
    message_id = str(uuid.uuid4())
    await request.app[OUTBOX].put((message_id, account, body))
    return web.json_response({"status": "queued", "message_id": message_id}, status=202)


async def deliver(app: web.Application) -> None:
    q = app[OUTBOX]
    while True:
        message_id, account, body = await q.get()
        await asyncio.sleep(0.002)
        q.task_done()


async def start_workers(app: web.Application):
    app[OUTBOX] = asyncio.Queue()
    task = asyncio.create_task(deliver(app))
    yield
    task.cancel()


def main() -> None:
    if LOG_STYLE != "none":
        handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler()
        handler.setFormatter(JsonLines())
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    app = web.Application()
    app.cleanup_ctx.append(start_workers)
    app.router.add_get("/health", health)
    app.router.add_post("/accounts/{account}/messages", send)
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8080")), access_log=None, print=None)


if __name__ == "__main__":
    main()
