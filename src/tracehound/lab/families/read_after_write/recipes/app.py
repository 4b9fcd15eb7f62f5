"""Recipe box (aiohttp): cooks save recipes into cookbooks and find them again by search."""

from __future__ import annotations

import asyncio
import logging
import os

import asyncpg
from aiohttp import web

from search import Doc, Index

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
REFRESH_S = float(os.environ.get("REFRESH_MS", "400")) / 1000
INDEX_ON_SAVE = os.environ.get("INDEX_ON_SAVE", "0") == "1"

if LOG_STYLE != "none":
    logging.basicConfig(
        filename=os.environ.get("LOG_FILE"), level=logging.INFO,
        format=('{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}'
                if LOG_STYLE == "json" else "%(asctime)s %(levelname)s %(name)s: %(message)s"),
    )
log = logging.getLogger("recipebox")
log.disabled = LOG_STYLE == "none"

CLAIM = """
UPDATE recipes SET indexed_at = clock_timestamp() WHERE id IN (
    SELECT id FROM recipes WHERE indexed_at IS NULL ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED
) RETURNING id, cookbook, title, minutes, ingredients, tags
"""

routes = web.RouteTableDef()


def _index(index: Index, rows: list[asyncpg.Record]) -> None:
    for r in rows:
        text = " ".join([r["title"], *r["ingredients"], *r["tags"]])
        index.add(Doc(r["id"], r["cookbook"], r["title"], r["minutes"]), text)


async def _refresh(app: web.Application) -> None:
    while True:
        await asyncio.sleep(REFRESH_S)
        try:
            async with app["db"].acquire() as conn:
                rows = await conn.fetch(CLAIM)
        except (asyncpg.PostgresError, OSError):
            log.exception("search refresh failed")
            continue
        _index(app["index"], rows)


def _doc(d: Doc) -> dict:
    return {"id": d.id, "cookbook": d.cookbook, "title": d.title, "minutes": d.minutes}


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "documents": len(request.app["index"].docs)})


@routes.post("/recipes")
async def save(request: web.Request) -> web.Response:
    try:
        doc = await request.json()
        book, title = str(doc["cookbook"]), str(doc["title"]).strip()
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "cookbook and title are required"}, status=400)
    if not title:
        return web.json_response({"error": "a recipe needs a title"}, status=400)
    async with request.app["db"].acquire() as conn:
        row = await conn.fetchrow(
            "INSERT INTO recipes (cookbook, title, ingredients, tags, minutes, indexed_at) "
            "VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN clock_timestamp() END) "
            "RETURNING id, cookbook, title, minutes, ingredients, tags",
            book, title, [str(x) for x in doc.get("ingredients", [])], [str(x) for x in doc.get("tags", [])],
            int(doc.get("minutes", 30)), INDEX_ON_SAVE,
        )
    if INDEX_ON_SAVE:
        _index(request.app["index"], [row])
    log.info("recipe %s saved in %s", row["id"], book)
    return web.json_response({**_doc(Doc(row["id"], book, title, row["minutes"])), "tags": list(row["tags"])},
                             status=201)


@routes.get("/recipes/{id:\\d+}")
async def recipe(request: web.Request) -> web.Response:
    async with request.app["db"].acquire() as conn:
        row = await conn.fetchrow("SELECT id, cookbook, title, minutes, ingredients, tags FROM recipes WHERE id = $1",
                                  int(request.match_info["id"]))
    if row is None:
        return web.json_response({"error": "no such recipe"}, status=404)
    return web.json_response({**dict(row), "ingredients": list(row["ingredients"]), "tags": list(row["tags"])})


@routes.get("/search")
async def find(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    hits = request.app["index"].search(q)
    return web.json_response({"query": q, "total": len(hits), "hits": [_doc(d) for d in hits]})


@routes.get("/cookbooks/{book}/recipes")
async def cookbook(request: web.Request) -> web.Response:
    book = request.match_info["book"]
    docs = request.app["index"].cookbook(book)
    return web.json_response({"cookbook": book, "recipes": [_doc(d) for d in docs[:50]]})


async def _start(app: web.Application) -> None:
    app["db"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=8)
    app["index"] = Index()
    async with app["db"].acquire() as conn:
        await conn.execute("UPDATE recipes SET indexed_at = NULL")
        _index(app["index"], await conn.fetch(CLAIM.replace("LIMIT 500", "")))
    app["refresher"] = asyncio.create_task(_refresh(app))
    log.info("recipe box ready: %d recipes indexed, refresh every %.0f ms", len(app["index"].docs), REFRESH_S * 1000)


async def _stop(app: web.Application) -> None:
    app["refresher"].cancel()
    await app["db"].close()


def main() -> None:
    app = web.Application()
    app.add_routes(routes)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)


if __name__ == "__main__":
    main()
