import time

from sqlalchemy import select

from ..db import AsyncSession, SessionLocal


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: int):
        return await self.session.scalar(select(order_id))

    async def audit(self, order_id: int) -> None:
        db = SessionLocal()  # expect: TH201
        await db.execute(select(order_id))

    def legacy_lookup(self, order_id: int) -> int:
        time.sleep(0.2)
        return order_id
