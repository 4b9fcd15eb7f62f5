"""TH104: a lock held across database and HTTP I/O."""

import asyncio
import threading

import asyncpg
import httpx
from fastapi import FastAPI

from keyed import KeyedLock

app = FastAPI()
pool: asyncpg.Pool | None = None
client = httpx.AsyncClient(timeout=5)
locks = KeyedLock(timeout=0.1)
counter_lock = asyncio.Lock()
table_lock = threading.Lock()
counts: dict[str, int] = {}


@app.post("/reserve/{sku}")
async def reserve(sku: str):
    async with locks.hold(sku), pool.acquire() as conn:  # expect: TH104
        return await conn.fetchval("SELECT available FROM stock WHERE sku = $1", sku)


@app.post("/notify/{sku}")
async def notify(sku: str):
    async with counter_lock:  # expect: TH104
        await client.post("https://hooks.example.com", json={"sku": sku})


@app.get("/count/{sku}")
async def count(sku: str):
    async with counter_lock:
        counts[sku] = counts.get(sku, 0) + 1
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT 1")


@app.get("/sync/{sku}")
def sync_count(sku: str):
    with table_lock:
        counts[sku] = counts.get(sku, 0) + 1
    with table_lock:  # expect: TH104
        return httpx.get("https://example.com", timeout=2)
