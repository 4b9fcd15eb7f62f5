from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://db/shop", pool_pre_ping=True, pool_timeout=5)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with SessionLocal() as session:
        yield session


__all__ = ["AsyncSession", "SessionLocal", "get_session"]
