"""Inventory API: reserve stock for a customer's cart at checkout."""

from __future__ import annotations

import logging
import os

import asyncpg
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from locks import KeyedLocks, LockTimeout

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("inventory")

DATABASE_URL = os.environ["DATABASE_URL"]

app = FastAPI(title="inventory")
pool: asyncpg.Pool | None = None
stock_locks = KeyedLocks(acquire_timeout=float(os.environ.get("STOCK_LOCK_TIMEOUT", "0.05")))


class ReservationIn(BaseModel):
    sku: str
    customer_id: int
    qty: int = Field(default=1, ge=1, le=50)


@app.on_event("startup")
async def startup() -> None:
    global pool
    pool = await asyncpg.create_pool(
        DATABASE_URL,
        min_size=4,
        max_size=20,
        server_settings={"application_name": "inventory"},
    )


@app.on_event("shutdown")
async def shutdown() -> None:
    if pool is not None:
        await pool.close()


@app.exception_handler(LockTimeout)
async def busy(request: Request, exc: LockTimeout) -> JSONResponse:
    log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
    return JSONResponse({"detail": "inventory is busy, try again"}, status_code=503)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


async def bought_recently(conn: asyncpg.Connection, customer_id: int, sku: str) -> int:
    return await conn.fetchval(
        """
        SELECT coalesce(sum(qty), 0) FROM reservations
        WHERE customer_id = $1 AND sku = $2 AND created_at > now() - interval '1 day'
        """,
        customer_id,
        sku,
    )


@app.post("/api/reservations", status_code=201)
async def reserve(body: ReservationIn) -> dict:
    async with stock_locks.hold(body.sku), pool.acquire() as conn:
        item = await conn.fetchrow(
            """
            SELECT s.available, p.price_cents, p.per_customer_limit
            FROM stock s JOIN products p USING (sku)
            WHERE s.sku = $1
            """,
            body.sku,
        )
        if item is None:
            raise HTTPException(status_code=404, detail="unknown sku")
        if item["available"] < body.qty:
            raise HTTPException(status_code=409, detail="out of stock")
        if await bought_recently(conn, body.customer_id, body.sku) + body.qty > item["per_customer_limit"]:
            raise HTTPException(status_code=409, detail="per-customer limit reached")
        async with conn.transaction():
            await conn.execute(
                "UPDATE stock SET available = $2, reserved = reserved + $3, updated_at = now() WHERE sku = $1",
                body.sku,
                item["available"] - body.qty,
                body.qty,
            )
            rid = await conn.fetchval(
                "INSERT INTO reservations (sku, customer_id, qty, unit_price_cents) VALUES ($1, $2, $3, $4) RETURNING id",
                body.sku,
                body.customer_id,
                body.qty,
                item["price_cents"],
            )
    log.info("reserved sku=%s qty=%d customer=%d reservation=%d", body.sku, body.qty, body.customer_id, rid)
    return {"reservation_id": rid, "sku": body.sku, "qty": body.qty, "unit_price_cents": item["price_cents"]}
