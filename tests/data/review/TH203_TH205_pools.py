"""TH203 (tiny pools), TH204 (no pool_timeout), TH205 (no liveness check)."""

import os

import asyncpg
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

POOL_SIZE = int(os.environ.get("POOL_SIZE", "2"))

tiny = create_engine("postgresql+psycopg://db/app", pool_size=POOL_SIZE, max_overflow=0, pool_timeout=2, pool_pre_ping=True)  # expect: TH203
bare = create_engine(os.environ["DATABASE_URL"])  # expect: TH204, TH205
async_bare = create_async_engine("postgresql+asyncpg://db/app", pool_timeout=5)  # expect: TH205
local = create_engine("sqlite:///app.db", pool_timeout=5)


async def make_pools():
    small = await asyncpg.create_pool("postgresql://db/app", min_size=1, max_size=2)  # expect: TH203
    fine = await asyncpg.create_pool("postgresql://db/app", min_size=2, max_size=20)
    return small, fine


# -- negatives ----------------------------------------------------------------------------------

good = create_engine("postgresql+psycopg://db/app", pool_size=10, max_overflow=10, pool_timeout=5, pool_pre_ping=True)
recycled = create_engine("postgresql+psycopg://db/app", pool_timeout=5, pool_recycle=1800)
unpooled = create_engine("postgresql+psycopg://db/app", poolclass=NullPool)
