"""Grocery baskets (FastAPI): what a shopper has picked, priced, with an optional coupon."""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as redis
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
if LOG_STYLE != "none":
    logging.basicConfig(
        filename=os.environ.get("LOG_FILE"), level=logging.INFO,
        format=('{"ts": "%(asctime)s", "severity": "%(levelname)s", "event": "%(message)s"}' if LOG_STYLE == "json"
                else "%(asctime)s %(levelname)-7s baskets: %(message)s"),
    )
log = logging.getLogger("baskets")
log.disabled = LOG_STYLE == "none"

BASKET_TTL_MS = int(os.environ.get("BASKET_TTL_MS", "500"))
ON_WRITE = os.environ.get("CACHE_ON_WRITE", "keep")

LINES = """
SELECT l.sku, p.name, l.qty, p.price_cents FROM basket_lines l JOIN products p ON p.sku = l.sku
WHERE l.basket_id = $1 ORDER BY p.name
"""


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.db = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
    app.state.cache = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    log.info("baskets ready, basket views kept %d ms", BASKET_TTL_MS)
    yield
    await app.state.cache.aclose()
    await app.state.db.close()


app = FastAPI(title="baskets", lifespan=lifespan)


class LineIn(BaseModel):
    sku: str
    qty: int = Field(gt=0, le=99)


class CouponIn(BaseModel):
    code: str


def _key(basket_id: str) -> str:
    return f"basket-view:{basket_id}"


async def _price(db: asyncpg.Pool, basket_id: str) -> dict:
    async with db.acquire() as conn:
        code = await conn.fetchval("SELECT coupon FROM baskets WHERE id = $1", basket_id)
        rows = await conn.fetch(LINES, basket_id)
        coupon = None
        if code:
            pct = await conn.fetchval("SELECT percent_off FROM coupons WHERE code = $1", code)
            coupon = {"code": code, "percent_off": pct}
    lines = [{"sku": r["sku"], "name": r["name"], "qty": r["qty"], "cents": r["qty"] * r["price_cents"]} for r in rows]
    subtotal = sum(x["cents"] for x in lines)
    discount = subtotal * coupon["percent_off"] // 100 if coupon else 0
    return {"basket": basket_id, "lines": lines, "coupon": coupon, "subtotal_cents": subtotal,
            "total_cents": subtotal - discount}


async def _changed(request: Request, basket_id: str) -> None:
    if ON_WRITE == "evict":
        await request.app.state.cache.delete(_key(basket_id))


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/baskets/{basket_id}")
async def basket(basket_id: str, request: Request) -> dict:
    cache = request.app.state.cache
    hit = await cache.get(_key(basket_id))
    if hit is not None:
        return json.loads(hit)
    view = await _price(request.app.state.db, basket_id)
    await cache.set(_key(basket_id), json.dumps(view), px=BASKET_TTL_MS)
    return view


@app.post("/baskets/{basket_id}/lines", status_code=201)
async def add_line(basket_id: str, line: LineIn, request: Request) -> dict:
    async with request.app.state.db.acquire() as conn:
        async with conn.transaction():
            await conn.execute("INSERT INTO baskets (id) VALUES ($1) ON CONFLICT DO NOTHING", basket_id)
            try:
                await conn.execute(
                    "INSERT INTO basket_lines (basket_id, sku, qty) VALUES ($1, $2, $3) "
                    "ON CONFLICT (basket_id, sku) DO UPDATE SET qty = basket_lines.qty + EXCLUDED.qty",
                    basket_id, line.sku, line.qty)
            except asyncpg.ForeignKeyViolationError:
                raise HTTPException(404, f"no product {line.sku}") from None
    await _changed(request, basket_id)
    log.info("basket %s: +%d %s", basket_id, line.qty, line.sku)
    return {"basket": basket_id, "sku": line.sku, "added": line.qty}


@app.put("/baskets/{basket_id}/coupon")
async def apply_coupon(basket_id: str, body: CouponIn, request: Request) -> dict:
    code = body.code.strip().upper()
    async with request.app.state.db.acquire() as conn:
        pct = await conn.fetchval("SELECT percent_off FROM coupons WHERE code = $1", code)
        if pct is None:
            raise HTTPException(404, "unknown coupon")
        await conn.execute(
            "INSERT INTO baskets (id, coupon) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET coupon = EXCLUDED.coupon",
            basket_id, code)
    await _changed(request, basket_id)
    log.info("basket %s: coupon %s applied", basket_id, code)
    return {"basket": basket_id, "coupon": code, "percent_off": pct}
