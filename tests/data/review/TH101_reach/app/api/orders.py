import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends

from app.api.deps import get_order_service, load_settings
from app.core.retry import retry_forever
from app.services.orders import OrderService
from app.services.reports import reports
from app.storage import Storage

router = APIRouter(prefix="/orders")


@router.get("/{order_id}")
async def read(order_id: int, svc: OrderService = Depends(get_order_service)):
    return await svc.get(order_id)


@router.post("/{order_id}/export")
async def export(order_id: int, svc: OrderService = Depends(get_order_service)):
    return svc.export(order_id)  # expect: TH101


@router.get("/{order_id}/pdf")
async def pdf(order_id: int):
    return reports.render(order_id)  # expect: TH101


@router.get("/{order_id}/file")
async def file(order_id: int, storage: Annotated[Storage, Depends()]):
    return storage.load(f"{order_id}.json")  # expect: TH101


@router.post("/{order_id}/retry")
async def retry(order_id: int):
    retry_forever(order_id)  # expect: TH101


@router.get("/{order_id}/upstream")
async def upstream(order_id: int, svc: Annotated[OrderService, Depends(get_order_service)]):
    return svc.refresh(order_id)  # expect: TH101


@router.post("/{order_id}/export-fixed")
async def export_fixed(order_id: int, svc: OrderService = Depends(get_order_service)):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, svc.export, order_id)
    return await asyncio.to_thread(reports.render, order_id)


@router.get("/{order_id}/sync")
def sync_view(order_id: int, settings: dict = Depends(load_settings)):
    return reports.render(order_id)
