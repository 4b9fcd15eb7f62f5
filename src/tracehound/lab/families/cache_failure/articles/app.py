"""Local newspaper: article pages for the apps, with headline, body and related stories.
aiohttp's own server; rendered pages are kept in Redis for a few minutes."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import AsyncIterator

import asyncpg
import redis.asyncio as aioredis
from aiohttp import web

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
PAGE_TTL_S = 300

log = logging.getLogger("newsroom")
if LOG_STYLE == "none":
    log.disabled = True
else:
    sink: logging.Handler = (logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE")
                             else logging.StreamHandler(sys.stderr))
    sink.setFormatter(logging.Formatter(
        '{"ts":"%(asctime)s","lvl":"%(levelname)s","msg":"%(message)s"}' if LOG_STYLE == "json"
        else "%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    log.addHandler(sink)
    log.setLevel(logging.INFO)

routes = web.RouteTableDef()


def page_cache() -> aioredis.Redis:
    size = int(os.environ.get("CACHE_CONNECTIONS", "16"))
    url = os.environ["REDIS_URL"]
    if os.environ.get("CACHE_POOL") == "blocking":
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=size,
                                                        timeout=float(os.environ.get("CACHE_WAIT_S", "0.02")))
    else:
        pool = aioredis.ConnectionPool.from_url(url, max_connections=size)
    return aioredis.Redis(connection_pool=pool)


async def resources(app: web.Application) -> AsyncIterator[None]:
    app["db"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=6)
    app["pages"] = page_cache()
    yield
    await app["pages"].aclose()
    await app["db"].close()


async def render(db: asyncpg.Pool, slug: str) -> dict | None:
    async with db.acquire() as conn:
        art = await conn.fetchrow("SELECT headline, section, body, published FROM articles WHERE slug = $1", slug)
        if art is None:
            return None
        rel = await conn.fetch(
            "SELECT a.slug, a.headline FROM related r JOIN articles a ON a.slug = r.other "
            "WHERE r.slug = $1 ORDER BY r.weight DESC LIMIT 4", slug)
    paragraphs = [p.strip() + "." for p in art["body"].split(".") if p.strip()]
    return {"slug": slug, "headline": art["headline"], "section": art["section"],
            "published": art["published"].isoformat(), "paragraphs": paragraphs[:12],
            "related": [{"slug": r["slug"], "headline": r["headline"]} for r in rel]}


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/articles/{slug}")
async def article(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    pages: aioredis.Redis = request.app["pages"]
    cached = await pages.get(f"page:{slug}")
    if cached is None:
        page = await render(request.app["db"], slug)
        if page is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "no such article"}), content_type="application/json")
        cached = json.dumps(page)
        await pages.set(f"page:{slug}", cached, ex=PAGE_TTL_S)
    await pages.zincrby("most-read", 1, slug)
    return web.Response(body=cached, content_type="application/json")


@web.middleware
async def errors(request: web.Request, handler):
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as e:
        if LOG_STYLE == "json":
            log.error("article page failed: %s", request.path)
        else:
            log.exception("Error handling request %s", request.path)
        if ERROR_STYLE == "503":
            return web.json_response({"error": "article temporarily unavailable"}, status=503)
        if ERROR_STYLE == "200":
            return web.json_response({"slug": request.match_info.get("slug"), "paragraphs": [],
                                      "status": "error", "reason": type(e).__name__})
        return web.Response(status=500, text="500 Internal Server Error\n\nServer got itself in trouble")


def main() -> None:
    app = web.Application(middlewares=[errors])
    app.cleanup_ctx.append(resources)
    app.add_routes(routes)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)


if __name__ == "__main__":
    main()
