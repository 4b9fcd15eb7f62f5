"""Warehouse stock API (aiohttp): stores ask for the stock of a SKU with their API key.

No key or an unknown key is 401; a SKU the warehouse never carried is 404. Both are the
contract: stores are told to treat 404 as "not stocked here".
"""

from __future__ import annotations

import json
import logging
import os
import zlib

from aiohttp import web

log = logging.getLogger("stockroom")
STORE_KEYS = {f"sk_store_{n}": f"store-{n:04d}" for n in range(1000)}
CARRIED = range(10_000, 15_000)
KEY = web.AppKey("store", str)


def stock_of(sku: int) -> dict:
    h = zlib.crc32(str(sku).encode())
    return {"sku": sku, "on_hand": h % 240, "reserved": h % 17, "bin": f"A{h % 40:02d}-{h % 9}"}


def problem(status: int, title: str) -> web.Response:
    return web.Response(status=status, text=json.dumps({"title": title, "status": status}),
                        content_type="application/problem+json")


@web.middleware
async def api_key(request: web.Request, handler):
    if request.path == "/health":
        return await handler(request)
    store = STORE_KEYS.get(request.headers.get("X-Store-Key", ""))
    if store is None:
        log.info("401 %s %s: missing or unknown store key", request.method, request.path)
        return problem(401, "a valid X-Store-Key header is required")
    request[KEY] = store
    return await handler(request)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def stock(request: web.Request) -> web.Response:
    sku = int(request.match_info["sku"])
    if sku not in CARRIED:
        log.info("404 sku %s not carried (asked by %s)", sku, request[KEY])
        return problem(404, "not stocked here")
    return web.json_response(stock_of(sku))


async def stock_batch(request: web.Request) -> web.Response:
    body = await request.json()
    skus = [int(s) for s in body.get("skus", [])][:50]
    return web.json_response({"items": [stock_of(s) for s in skus if s in CARRIED],
                              "not_stocked": [s for s in skus if s not in CARRIED]})


def main() -> None:
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = web.Application(middlewares=[api_key])
    app.router.add_get("/health", health)
    app.router.add_get("/stock/{sku:\\d+}", stock)
    app.router.add_post("/stock/batch", stock_batch)
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8080")), access_log=None, print=None)


if __name__ == "__main__":
    main()
