"""TH207: a pooled connection held while the request waits on something else."""

import time
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker



@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool("postgresql://db/app", max_size=20)
    yield


app = FastAPI(lifespan=lifespan)
engine = create_engine("postgresql+psycopg://db/app", pool_pre_ping=True, pool_timeout=5)
SessionLocal = sessionmaker(engine)
client = httpx.AsyncClient(timeout=5)


def get_db():
    with SessionLocal() as db:
        yield db


def quote(country: str) -> float:
    time.sleep(0.15)
    return 4.5


@app.get("/orders/{order_id}")
def read_order(order_id: int, db: Session = Depends(get_db)):
    order = db.get(dict, order_id)
    shipping = quote(order["country"])  # expect: TH207
    return order, shipping


@app.get("/orders/{order_id}/fixed")
def read_order_fixed(order_id: int, db: Session = Depends(get_db)):
    shipping = quote("DE")
    order = db.get(dict, order_id)
    db.close()
    return order, shipping, quote("FR")


@app.post("/charge/{order_id}")
async def charge(order_id: int, request: Request):
    async with request.app.state.pool.acquire() as conn:
        total = await conn.fetchval("SELECT total FROM orders WHERE id = $1", order_id)
        await client.post("https://payments.example.com", json={"total": total})  # expect: TH207
    await client.post("https://payments.example.com/after", json={})
