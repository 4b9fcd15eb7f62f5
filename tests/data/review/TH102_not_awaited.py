"""TH102: coroutines called without await."""

import asyncio

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

app = FastAPI()
engine = create_async_engine("postgresql+asyncpg://db/app", pool_pre_ping=True, pool_timeout=5)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_db():
    async with SessionLocal() as session:
        yield session


async def notify(user_id: int) -> None:
    await asyncio.sleep(0)


@app.post("/items/{item_id}")
async def rename(item_id: int, name: str, db: AsyncSession = Depends(get_db)):
    item = await db.get(dict, item_id)
    db.commit()  # expect: TH102
    notify(item_id)  # expect: TH102
    asyncio.sleep(1)  # expect: TH102
    return item


@app.post("/items-fixed/{item_id}")
async def rename_fixed(item_id: int, db: AsyncSession = Depends(get_db)):
    await db.commit()
    await notify(item_id)
    task = asyncio.create_task(notify(item_id))
    await task
    db.add(item_id)
