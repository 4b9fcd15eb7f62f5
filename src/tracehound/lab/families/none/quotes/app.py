"""Fare quotes (FastAPI, asyncpg): every quote is priced by the revenue-management function."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException, Query, Request

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("fares")


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=4, max_size=30)
    yield
    await app.state.pool.close()


app = FastAPI(title="fares", lifespan=lifespan)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/routes/{route_id}/quote")
async def quote(route_id: int, request: Request, pax: int = Query(1, ge=1, le=9)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        route = await conn.fetchrow("SELECT origin, destination FROM routes WHERE id = $1", route_id)
        if route is None:
            raise HTTPException(404, "no such route")
        fare = await conn.fetchval("SELECT price_fare($1, $2)", route_id, pax)
    log.info("quoted route %s for %s passengers: %s", route_id, pax, fare)
    return {"route": route_id, "from": route["origin"], "to": route["destination"], "pax": pax, "fare_cents": fare}
