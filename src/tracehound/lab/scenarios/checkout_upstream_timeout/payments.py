"""The payment provider's sandbox: authorizes a card payment; a few calls hit its slow path."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import uuid

from fastapi import FastAPI
from pydantic import BaseModel

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("payments")

app = FastAPI(title="payments")


class Authorization(BaseModel):
    order_id: str
    amount_cents: int
    currency: str = "EUR"
    card_token: str


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/v1/authorizations")
async def authorize(body: Authorization) -> dict:
    if random.random() < 0.06:
        delay = random.uniform(2.5, 3.2)
        log.info("order %s: issuer 3-D Secure check, %.1f s", body.order_id, delay)
    else:
        delay = random.uniform(0.02, 0.08)
    await asyncio.sleep(delay)
    return {"id": f"auth_{uuid.uuid4().hex[:12]}", "order_id": body.order_id, "status": "authorized"}
