"""TH502: reads from a replica answer 404 for what was just written."""

from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException, Request


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.primary = await asyncpg.create_pool("postgresql://primary/app", max_size=10)
    app.state.replica = await asyncpg.create_pool("postgresql://replica/app", max_size=10)
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/modules")
async def create(request: Request, name: str):
    async with request.app.state.primary.acquire() as conn:
        return await conn.fetchval("INSERT INTO modules (name) VALUES ($1) RETURNING id", name)


@app.get("/modules/{module_id}")
async def load(module_id: int, request: Request):
    async with request.app.state.replica.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM modules WHERE id = $1", module_id)  # expect: TH502
    if row is None:
        raise HTTPException(status_code=404, detail="module not found")
    return dict(row)


@app.get("/modules/{module_id}/fixed")
async def load_fixed(module_id: int, request: Request):
    async with request.app.state.replica.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM modules WHERE id = $1", module_id)
    if row is None:
        async with request.app.state.primary.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM modules WHERE id = $1", module_id)
    if row is None:
        raise HTTPException(status_code=404, detail="module not found")
    return dict(row)


@app.get("/modules")
async def listing(request: Request):
    async with request.app.state.replica.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM modules LIMIT 50")
    return [dict(r) for r in rows]
