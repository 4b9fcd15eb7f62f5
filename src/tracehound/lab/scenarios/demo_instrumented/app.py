"""Orders API of a small web shop: order details with a live shipping quote."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from tracehound.instrument import instrument

import carrier
from models import Customer, Order
from seed import seed

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("shop")

engine = create_engine(
    os.environ.get("DATABASE_URL", "sqlite:///shop.db"),
    pool_size=2,
    max_overflow=0,
    pool_timeout=1,
    connect_args={"check_same_thread": False},
)
SessionLocal = sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(app: FastAPI):
    seed(engine)
    log.info("shop api ready")
    yield
    engine.dispose()


app = FastAPI(title="shop", lifespan=lifespan)
instrument(app, engine=engine)


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/orders/{order_id}")
def read_order(order_id: int, db: Session = Depends(get_db)) -> dict:
    order = db.scalars(
        select(Order).options(selectinload(Order.items)).where(Order.id == order_id)
    ).one_or_none()
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    customer = db.get(Customer, order.customer_id)
    items = [
        {"sku": i.sku, "quantity": i.quantity, "unit_price_cents": i.unit_price_cents}
        for i in order.items
    ]
    weight = sum(i.weight_grams * i.quantity for i in order.items)
    shipping = carrier.quote(customer.country, weight)
    subtotal = sum(i["unit_price_cents"] * i["quantity"] for i in items)
    return {
        "id": order.id,
        "status": order.status,
        "customer": {"id": customer.id, "name": customer.name},
        "items": items,
        "subtotal_cents": subtotal,
        "shipping": shipping,
        "total_cents": subtotal + shipping["price_cents"],
    }
