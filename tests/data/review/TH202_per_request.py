"""TH202: engines and clients created per request."""

import functools

import httpx
import redis.asyncio as redis
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine

app = FastAPI()
shared = httpx.AsyncClient(timeout=5)
_cache_client = None


def get_redis():
    return redis.from_url("redis://cache")  # expect: TH202


@app.get("/rates/{currency}")
async def rate(currency: str, cache=Depends(get_redis)):
    async with httpx.AsyncClient(timeout=5) as client:  # expect: TH202
        r = await client.get(f"https://rates.example.com/{currency}")
    return r.json()


@app.get("/report")
def report():
    engine = create_engine("postgresql+psycopg://db/app", pool_pre_ping=True, pool_timeout=5)  # expect: TH202
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT 1").scalar()


# -- negatives ----------------------------------------------------------------------------------


@functools.cache
def settings_client() -> httpx.Client:
    return httpx.Client(timeout=5)


def lazy_client() -> httpx.AsyncClient:
    global _cache_client
    if _cache_client is None:
        _cache_client = httpx.AsyncClient(timeout=5)
    return _cache_client


@app.get("/shared/{currency}")
async def shared_rate(currency: str):
    client = lazy_client()
    settings_client()
    r = await shared.get(f"https://rates.example.com/{currency}")
    return r.json(), client


def offline_job():
    return httpx.Client(timeout=5)
