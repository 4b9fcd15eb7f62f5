"""TH206: one session or connection shared by requests or by gathered tasks."""

import asyncio
from contextlib import asynccontextmanager

import asyncpg
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql+psycopg://db/app", pool_pre_ping=True, pool_timeout=5)
SessionLocal = sessionmaker(engine)
session = SessionLocal()  # expect: TH206
unused = SessionLocal()
async_engine = create_async_engine("postgresql+asyncpg://db/app", pool_pre_ping=True, pool_timeout=5)
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.conn = await asyncpg.connect("postgresql://db/app")  # expect: TH206
    app.state.pool = await asyncpg.create_pool("postgresql://db/app", max_size=20)
    yield


app = FastAPI(lifespan=lifespan)


async def get_db():
    async with AsyncSessionLocal() as s:
        yield s


async def count(db: AsyncSession, table: str) -> int:
    return await db.scalar(select(1))


@app.get("/users/{user_id}")
def get_user(user_id: int):
    return session.get(dict, user_id)


@app.get("/row")
async def row(request: Request):
    return await request.app.state.conn.fetchrow("SELECT 1")


@app.get("/stats")
async def stats(db: AsyncSession = Depends(get_db)):
    return await asyncio.gather(count(db, "a"), count(db, "b"))  # expect: TH206


@app.get("/stats-each")
async def stats_each(tables: list[str], db: AsyncSession = Depends(get_db)):
    return await asyncio.gather(*(count(db, t) for t in tables))  # expect: TH206, TH401


# -- negatives ----------------------------------------------------------------------------------


async def count_own(table: str) -> int:
    async with AsyncSessionLocal() as db:
        return await db.scalar(select(1))


@app.get("/stats-fixed")
async def stats_fixed(request: Request):
    async with request.app.state.pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
    return await asyncio.gather(count_own("a"), count_own("b"))
