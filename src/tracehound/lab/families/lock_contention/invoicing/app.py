"""Invoicing (aiohttp, asyncpg): issues invoices with gapless numbers per tenant, as tax law asks."""

from __future__ import annotations

import json
import logging
import os

import asyncpg
from aiohttp import web

import taxes

LOCK_TIMEOUT = os.environ.get("LOCK_TIMEOUT", "400ms")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")

log = logging.getLogger("invoicing")


def _logging() -> None:
    if LOG_STYLE == "none":
        logging.disable(logging.CRITICAL)
        return
    fmt = ('{"ts":"%(asctime)s","lvl":"%(levelname)s","logger":"%(name)s","msg":%(message)s}' if LOG_STYLE == "json"
           else "%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=fmt)


def said(text: str) -> str:
    return json.dumps(text) if LOG_STYLE == "json" else text


routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.post("/tenants/{tenant:\\d+}/invoices")
async def issue(request: web.Request) -> web.Response:
    tenant = int(request.match_info["tenant"])
    doc = await request.json()
    lines = doc.get("lines") or []
    if not lines:
        raise web.HTTPUnprocessableEntity(text="an invoice needs lines")
    net = sum(int(line["net_cents"]) * int(line.get("qty", 1)) for line in lines)
    pool: asyncpg.Pool = request.app["pool"]
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            country = await conn.fetchval("SELECT country FROM tenants WHERE id = $1", tenant)
            if country is None:
                raise web.HTTPNotFound(text="unknown tenant")
            await conn.execute("SELECT pg_advisory_xact_lock(8211, $1)", tenant)
            number = await conn.fetchval(
                "SELECT coalesce(max(number), 0) + 1 FROM invoices WHERE tenant_id = $1", tenant)
            tax = await taxes.tax_due(country, lines)
            await conn.execute(
                "INSERT INTO invoices (tenant_id, number, customer, net_cents, tax_cents) VALUES ($1, $2, $3, $4, $5)",
                tenant, number, str(doc.get("customer", "")), net, tax)
    except asyncpg.PostgresError as e:
        log.error(said(f"invoice for tenant {tenant} not issued: {type(e).__name__}: {e}"))
        if ERROR_STYLE == "json":
            return web.json_response({"status": "failed", "code": "INVOICE_NOT_ISSUED"}, status=503)
        if ERROR_STYLE == "200":
            return web.json_response({"invoice": None, "status": "pending", "retry": True})
        raise
    log.info(said(f"tenant {tenant} invoice {number}: net {net} tax {tax}"))
    return web.json_response({"invoice": {"tenant": tenant, "number": number, "net_cents": net, "tax_cents": tax}},
                             status=201)


async def _pool(app: web.Application):
    size = int(os.environ.get("DB_CONNECTIONS", "40"))
    app["pool"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=size, max_size=size)
    yield
    await app["pool"].close()


def main() -> None:
    _logging()
    app = web.Application()
    app.add_routes(routes)
    app.cleanup_ctx.append(_pool)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None, access_log=None)
