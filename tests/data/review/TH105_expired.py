"""TH105: attributes read after commit expired them, in async code."""

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

app = FastAPI()
engine = create_async_engine("postgresql+asyncpg://db/app", pool_pre_ping=True, pool_timeout=5)
Expiring = async_sessionmaker(engine)
Keeping = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


async def expiring_db():
    async with Expiring() as session:
        yield session


async def keeping_db():
    async with Keeping() as session:
        yield session


@app.post("/items")
async def create(name: str, db: AsyncSession = Depends(expiring_db)):
    item = Item(name=name)
    db.add(item)
    await db.commit()
    return {"id": item.id}  # expect: TH105


@app.post("/items/{item_id}")
async def rename(item_id: int, name: str, db: AsyncSession = Depends(expiring_db)):
    item = await db.get(Item, item_id)
    item.name = name
    await db.commit()
    return item  # expect: TH105


@app.post("/items-refreshed")
async def create_refreshed(name: str, db: AsyncSession = Depends(expiring_db)):
    item = Item(name=name)
    db.add(item)
    await db.commit()
    await db.refresh(item)
    return {"id": item.id}


@app.post("/items-kept")
async def create_kept(name: str, db: AsyncSession = Depends(keeping_db)):
    item = Item(name=name)
    db.add(item)
    await db.commit()
    return {"id": item.id}
