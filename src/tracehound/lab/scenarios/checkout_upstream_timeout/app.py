"""Checkout service: turns a cart into an order and authorizes the payment with the provider."""

from __future__ import annotations

import logging
import os
import uuid
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("checkout")

PAYMENTS_URL = os.environ["PAYMENTS_URL"]
PAYMENTS_TIMEOUT = httpx.Timeout(1.0)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.payments = httpx.AsyncClient(
        base_url=PAYMENTS_URL,
        timeout=PAYMENTS_TIMEOUT,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    yield
    await app.state.payments.aclose()


app = FastAPI(title="checkout", lifespan=lifespan)


class Checkout(BaseModel):
    cart_id: str
    amount_cents: int
    card_token: str


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/api/checkout")
async def checkout(body: Checkout) -> JSONResponse:
    order_id = f"ord_{uuid.uuid4().hex[:10]}"
    try:
        r = await app.state.payments.post(
            "/v1/authorizations",
            json={"order_id": order_id, "amount_cents": body.amount_cents, "card_token": body.card_token},
        )
        r.raise_for_status()
    except httpx.TimeoutException:
        log.exception("order %s: payment authorization failed", order_id)
        return JSONResponse({"error": "payment provider did not answer"}, status_code=504)
    except httpx.HTTPError:
        log.exception("order %s: payment authorization failed", order_id)
        return JSONResponse({"error": "payment provider error"}, status_code=502)
    auth = r.json()
    log.info("order %s: authorized %s", order_id, auth["id"])
    return JSONResponse({"order_id": order_id, "payment": auth["id"], "status": "confirmed"}, status_code=201)
