"""Catalog API: product lookups straight from PostgreSQL through an asyncpg pool."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException, Request

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("catalog")

PRODUCT = """
SELECT p.id, p.sku, p.name, p.price_cents, p.stock, c.name AS category
FROM products p JOIN categories c ON c.id = p.category_id
WHERE p.id = $1
"""


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=2, max_size=10, command_timeout=5
    )
    log.info("catalog ready")
    yield
    await app.state.pool.close()


app = FastAPI(title="catalog", lifespan=lifespan)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/products/{product_id}")
async def product(product_id: int, request: Request) -> dict:
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(PRODUCT, product_id)
    if row is None:
        raise HTTPException(status_code=404, detail="product not found")
    return dict(row)
