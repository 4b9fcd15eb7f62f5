"""TH602 (no fallback when the cache fails) and TH603 (a pool that raises when full)."""

import json
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI, Request

sync_cache = redis.Redis.from_url("redis://cache", max_connections=8)  # expect: TH603
ok_cache = redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url("redis://cache", max_connections=8, timeout=2))


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.cache = redis.Redis(connection_pool=redis.ConnectionPool.from_url("redis://cache", max_connections=4))  # expect: TH603
    yield


app = FastAPI(lifespan=lifespan)


async def compute(sku: str) -> dict:
    return {"sku": sku}


async def cached_get(cache: redis.Redis, key: str):
    return await cache.get(key)


@app.get("/prices/{sku}")
async def price(sku: str, request: Request):
    cache = request.app.state.cache
    hit = await cache.get(sku)  # expect: TH602
    if hit is not None:
        return json.loads(hit)
    result = await compute(sku)
    await cache.set(sku, json.dumps(result), ex=60)
    return result


@app.get("/prices/{sku}/fixed")
async def price_fixed(sku: str, request: Request):
    cache = request.app.state.cache
    try:
        hit = await cache.get(sku)
    except redis.RedisError:
        hit = None
    if hit is not None:
        return json.loads(hit)
    result = await compute(sku)
    try:
        await cache.set(sku, json.dumps(result), ex=60)
    except (ConnectionError, TimeoutError):
        pass
    return result


@app.get("/prices/{sku}/helper")
async def price_helper(sku: str):
    try:
        return await cached_get(ok_cache, sku)
    except Exception:
        return await compute(sku)
