"""TH201: sessions and connections not closed on every path."""

import asyncpg
import psycopg
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

app = FastAPI()
engine = create_async_engine("postgresql+asyncpg://db/app", pool_pre_ping=True, pool_timeout=5)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
sync_engine = create_engine("postgresql+psycopg://db/app", pool_pre_ping=True, pool_timeout=5)
SyncSession = sessionmaker(sync_engine)
pool: asyncpg.Pool | None = None


@app.get("/tasks")
async def list_tasks(user: str):
    db = SessionLocal()  # expect: TH201
    row = await db.scalar(select(1))
    if row is None:
        raise HTTPException(404)
    await db.close()
    return row


@app.get("/count")
def count():
    db = SyncSession()  # expect: TH201
    return db.scalar(select(1))


@app.get("/raw")
def raw():
    conn = psycopg.connect("postgresql://db/app")  # expect: TH201
    value = conn.execute("SELECT 1").fetchone()
    conn.close()
    return value


@app.get("/acquired")
async def acquired():
    conn = await pool.acquire()  # expect: TH201
    return await conn.fetchval("SELECT 1")


def leaky_dependency():
    db = SyncSession()  # expect: TH201
    yield db
    db.close()


# -- negatives ----------------------------------------------------------------------------------


async def get_db():
    async with SessionLocal() as session:
        yield session


def get_sync_db():
    db = SyncSession()
    try:
        yield db
    finally:
        db.close()


@app.get("/tasks/{task_id}")
async def get_task(task_id: int, db=Depends(get_db)):
    return await db.get(dict, task_id)


@app.get("/finally")
async def with_finally():
    db = SessionLocal()
    try:
        return await db.scalar(select(1))
    finally:
        await db.close()


@app.get("/released")
async def released():
    conn = await pool.acquire()
    try:
        return await conn.fetchval("SELECT 1")
    finally:
        await pool.release(conn)


def make_session():
    session = SyncSession()
    return session


@app.get("/with")
def with_block():
    with SyncSession() as db:
        return db.scalar(select(1))
