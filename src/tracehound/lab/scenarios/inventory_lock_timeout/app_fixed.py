"""Inventory API: reserve stock for a customer's cart at checkout."""

from __future__ import annotations

import logging
import os

import asyncpg
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("inventory")

DATABASE_URL = os.environ["DATABASE_URL"]

app = FastAPI(title="inventory")
pool: asyncpg.Pool | None = None


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
    async with pool.acquire() as conn:
        product = await conn.fetchrow("SELECT price_cents, per_customer_limit FROM products WHERE sku = $1", body.sku)
        if product is None:
            raise HTTPException(status_code=404, detail="unknown sku")
        if await bought_recently(conn, body.customer_id, body.sku) + body.qty > product["per_customer_limit"]:
            raise HTTPException(status_code=409, detail="per-customer limit reached")
        async with conn.transaction():
            left = await conn.fetchval(
                """
                UPDATE stock SET available = available - $2, reserved = reserved + $2, updated_at = now()
                WHERE sku = $1 AND available >= $2
                RETURNING available
                """,
                body.sku,
                body.qty,
            )
            if left is None:
                raise HTTPException(status_code=409, detail="out of stock")
            rid = await conn.fetchval(
                "INSERT INTO reservations (sku, customer_id, qty, unit_price_cents) VALUES ($1, $2, $3, $4) RETURNING id",
                body.sku,
                body.customer_id,
                body.qty,
                product["price_cents"],
            )
    log.info("reserved sku=%s qty=%d customer=%d reservation=%d", body.sku, body.qty, body.customer_id, rid)
    return {"reservation_id": rid, "sku": body.sku, "qty": body.qty, "unit_price_cents": product["price_cents"]}
