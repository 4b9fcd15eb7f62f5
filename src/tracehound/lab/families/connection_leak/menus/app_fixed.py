"""Lunch menus (aiohttp, asyncpg): today's dishes of a restaurant, cached by the apps with ETags."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os

import asyncpg
from aiohttp import web

ACQUIRE_TIMEOUT = float(os.environ.get("POOL_TIMEOUT", "2"))
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
log = logging.getLogger("menus")


@web.middleware
async def with_database(request: web.Request, handler):
    pool: asyncpg.Pool = request.app["pool"]
    async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
        request["db"] = conn
        return await handler(request)


@web.middleware
async def errors(request: web.Request, handler):
    try:
        return await handler(request)
    except asyncio.TimeoutError:
        log.exception("GET %s: no answer from the menu database", request.path)
        if ERROR_STYLE == "503":
            return web.json_response({"message": "menus are temporarily unavailable"}, status=503)
        if ERROR_STYLE == "200":
            return web.json_response({"dishes": [], "stale": True, "notice": "menu could not be refreshed"})
        raise


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def todays_menu(request: web.Request) -> web.Response:
    conn: asyncpg.Connection = request["db"]
    restaurant = int(request.match_info["restaurant"])
    head = await conn.fetchrow("SELECT name, cuisine, menu_revision FROM restaurants WHERE id = $1", restaurant)
    if head is None:
        raise web.HTTPNotFound(text="no such restaurant")
    etag = f'W/"r{head["menu_revision"]}"'
    wanted = request.headers.get("If-None-Match", "")
    if etag in wanted:
        raise web.HTTPNotModified(headers={"ETag": etag})
    weekday = dt.date.today().isoweekday()
    dishes = await conn.fetch(
        "SELECT name, price_cents, vegetarian FROM dishes WHERE restaurant_id = $1 AND $2 = ANY(served_on) "
        "ORDER BY price_cents", restaurant, weekday)
    return web.json_response(
        {"restaurant": head["name"], "cuisine": head["cuisine"],
         "dishes": [{"name": d["name"], "price_cents": d["price_cents"], "vegetarian": d["vegetarian"]}
                    for d in dishes]},
        headers={"ETag": etag})


async def _pool(app: web.Application):
    size = int(os.environ.get("POOL_SIZE", "10"))
    app["pool"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=size)
    yield
    await app["pool"].close()


def main() -> None:
    style = os.environ.get("LOG_STYLE", "plain")
    if style != "none":
        logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                            format=('{"t": "%(asctime)s", "level": "%(levelname)s", "msg": "%(message)s"}'
                                    if style == "json" else "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    app = web.Application(middlewares=[errors, with_database])
    app.router.add_get("/health", health)
    app.router.add_get("/restaurants/{restaurant:\\d+}/menu/today", todays_menu)
    app.cleanup_ctx.append(_pool)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None, access_log=None)
