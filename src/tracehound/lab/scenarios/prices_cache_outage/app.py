"""Pricing API: the effective price of a product per region, cached in Redis."""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from datetime import date

import asyncpg
import redis.asyncio as redis
from fastapi import FastAPI, HTTPException, Request

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("pricing")

PRICE_TTL = int(os.environ.get("PRICE_CACHE_TTL", "60"))

EFFECTIVE_PRICE = """
SELECT p.sku, p.name, p.list_price_cents,
       COALESCE(max(r.discount_pct) FILTER (WHERE r.min_quantity <= $3), 0) AS discount_pct,
       count(r.id) AS rules
FROM products p
LEFT JOIN price_rules r
       ON r.product_id = p.id AND r.region = $2 AND $4::date BETWEEN r.valid_from AND r.valid_to
WHERE p.sku = $1
GROUP BY p.id
"""


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.db = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10, command_timeout=30)
    app.state.cache = redis.Redis(
        connection_pool=redis.ConnectionPool.from_url(os.environ["REDIS_URL"], max_connections=4, decode_responses=True)
    )
    log.info("pricing api ready")
    yield
    await app.state.cache.aclose()
    await app.state.db.close()


app = FastAPI(title="pricing", lifespan=lifespan)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


async def compute_price(db: asyncpg.Pool, sku: str, region: str, quantity: int) -> dict | None:
    async with db.acquire() as conn:
        row = await conn.fetchrow(EFFECTIVE_PRICE, sku, region, quantity, date.today())
    if row is None:
        return None
    discount = float(row["discount_pct"])
    unit = round(row["list_price_cents"] * (100 - discount) / 100)
    return {
        "sku": row["sku"],
        "name": row["name"],
        "region": region,
        "quantity": quantity,
        "list_price_cents": row["list_price_cents"],
        "discount_pct": discount,
        "unit_price_cents": unit,
        "total_cents": unit * quantity,
    }


@app.get("/prices/{sku}")
async def price(sku: str, request: Request, region: str = "eu", quantity: int = 1) -> dict:
    key = f"price:{sku}:{region}:{quantity}"
    cache = request.app.state.cache
    cached = await cache.get(key)
    if cached is not None:
        return json.loads(cached)
    result = await compute_price(request.app.state.db, sku, region, quantity)
    if result is None:
        raise HTTPException(status_code=404, detail="unknown sku")
    await cache.set(key, json.dumps(result), ex=PRICE_TTL)
    return result
