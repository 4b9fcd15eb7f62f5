from fastapi import APIRouter, Depends

from shop.db import AsyncSession, get_session
from shop.repositories.orders import OrderRepository
from shop.services.orders import OrderService

router = APIRouter(prefix="/orders", tags=["orders"])


def get_service(session: AsyncSession = Depends(get_session)) -> OrderService:
    return OrderService(OrderRepository(session))


@router.get("/{order_id}")
async def read_order(order_id: int, service: OrderService = Depends(get_service)):
    return await service.details(order_id)
