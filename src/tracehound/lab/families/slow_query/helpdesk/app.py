"""Helpdesk API (aiohttp, asyncpg): a customer's card and their latest tickets, for the agent console."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import asyncpg
from aiohttp import web

QUERY_TIMEOUT_S = float(os.environ.get("QUERY_TIMEOUT_S", "0")) or None
STATEMENT_TIMEOUT_MS = int(os.environ.get("STATEMENT_TIMEOUT_MS", "0"))
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")

logging.basicConfig(
    stream=open(os.environ["LOG_FILE"], "a", buffering=1) if os.environ.get("LOG_FILE") else sys.stderr,  # noqa: SIM115
    level=logging.INFO if os.environ.get("LOG_STYLE", "plain") != "none" else logging.CRITICAL,
    format="%(asctime)s %(name)s %(levelname)s %(message)s",
)

routes = web.RouteTableDef()
LATEST = """
    SELECT id, subject, status, priority, updated_at
    FROM tickets
    WHERE customer_id = $1
    ORDER BY updated_at DESC
    LIMIT $2
"""
BACKLOG = """
    SELECT count(*) FILTER (WHERE status = 'open') AS open, count(*) FILTER (WHERE status = 'pending') AS pending
    FROM tickets
    WHERE customer_id = $1
"""


def ticket(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": row["id"], "subject": row["subject"], "status": row["status"],
            "priority": row["priority"], "updated": row["updated_at"].isoformat()}


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/customers/{customer_id:\\d+}")
async def customer(request: web.Request) -> web.Response:
    row = await request.app["db"].fetchrow("SELECT id, name, plan, region FROM customers WHERE id = $1",
                                           int(request.match_info["customer_id"]))
    if row is None:
        raise web.HTTPNotFound(text="no such customer")
    return web.json_response(dict(row))


@routes.get("/customers/{customer_id:\\d+}/tickets")
async def tickets(request: web.Request) -> web.Response:
    cid = int(request.match_info["customer_id"])
    limit = min(int(request.query.get("limit", "20")), 100)
    try:
        rows = await request.app["db"].fetch(LATEST, cid, limit)
        backlog = await request.app["db"].fetchrow(BACKLOG, cid)
    except asyncpg.QueryCanceledError as e:
        if ERROR_STYLE != "json":
            raise
        logging.getLogger("helpdesk.tickets").warning("customer %s: %s", cid, e)
        return web.json_response(
            {"errors": [{"status": "503", "title": "Tickets could not be loaded", "detail": str(e)}]}, status=503)
    return web.json_response({"customer": cid, "open": backlog["open"], "pending": backlog["pending"],
                              "tickets": [ticket(r) for r in rows]})


async def connect(app: web.Application):
    settings = {"statement_timeout": str(STATEMENT_TIMEOUT_MS)} if STATEMENT_TIMEOUT_MS else {}
    app["db"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=20,
                                          command_timeout=QUERY_TIMEOUT_S, server_settings=settings)
    yield
    await app["db"].close()


def main() -> None:
    app = web.Application()
    app.add_routes(routes)
    app.cleanup_ctx.append(connect)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)


