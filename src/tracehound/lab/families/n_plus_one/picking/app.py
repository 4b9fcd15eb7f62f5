"""Warehouse pick lists (aiohttp, asyncpg): the lines of an order with each product's bins, in walking order."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time

import asyncpg
from aiohttp import web

DEADLINE = float(os.environ.get("REQUEST_DEADLINE", "0"))
LOGS = os.environ.get("LOG_STYLE", "plain")

log = logging.getLogger("picking")
if LOGS != "none":
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        "%(message)s" if LOGS == "json" else "%(asctime)s %(levelname)-7s picking | %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def note(level: int, event: str, **fields: object) -> None:
    if LOGS == "json":
        log.log(level, json.dumps({"ts": time.time(), "level": logging.getLevelName(level).lower(),
                                   "event": event, **fields}))
    else:
        log.log(level, "%s %s", event, " ".join(f"{k}={v}" for k, v in fields.items()))


async def pick_lines(conn: asyncpg.Connection, order_id: int) -> list[dict]:
    lines = await conn.fetch(
        "SELECT product_id, quantity FROM order_lines WHERE order_id = $1 ORDER BY id", order_id)
    picks = []
    for line in lines:
        product = await conn.fetchrow("SELECT sku, name, weight_g FROM products WHERE id = $1", line["product_id"])
        bin_ = await conn.fetchrow(
            "SELECT aisle, shelf, on_hand FROM bins WHERE product_id = $1 ORDER BY on_hand DESC LIMIT 1",
            line["product_id"])
        picks.append({
            "sku": product["sku"], "name": product["name"], "quantity": line["quantity"],
            "weight_g": product["weight_g"] * line["quantity"],
            "aisle": bin_["aisle"] if bin_ else None, "shelf": bin_["shelf"] if bin_ else None,
        })
    picks.sort(key=lambda p: (p["aisle"] is None, p["aisle"] or 0, p["shelf"] or ""))
    return picks


async def picklist(request: web.Request) -> web.Response:
    order_id = int(request.match_info["order_id"])
    started = time.monotonic()
    try:
        async with request.app["pool"].acquire() as conn, asyncio.timeout(DEADLINE or None):
            customer = await conn.fetchval("SELECT customer FROM orders WHERE id = $1", order_id)
            if customer is None:
                raise web.HTTPNotFound(text=json.dumps({"error": "no such order"}), content_type="application/json")
            picks = await pick_lines(conn, order_id)
    except TimeoutError:
        note(logging.ERROR, "picklist_deadline_exceeded", order=order_id,
             after_ms=round((time.monotonic() - started) * 1000))
        return web.json_response({"error": "DEADLINE_EXCEEDED", "message": "pick list took too long, try again"},
                                 status=503)
    note(logging.INFO, "picklist", order=order_id, lines=len(picks), ms=round((time.monotonic() - started) * 1000))
    return web.json_response({"order": order_id, "customer": customer, "picks": picks,
                              "total_weight_g": sum(p["weight_g"] for p in picks)})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def open_pool(app: web.Application):
    app["pool"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=8)
    yield
    await app["pool"].close()


def build() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(open_pool)
    app.router.add_get("/health", health)
    app.router.add_get("/orders/{order_id}/picklist", picklist)
    return app


def main() -> None:
    web.run_app(build(), host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)
