"""Checkout shipping options (FastAPI, httpx): what each delivery option costs for the cart."""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "504")
CARRIER_TIMEOUT_S = float(os.environ.get("CARRIER_TIMEOUT_S", "10"))
WAREHOUSE_POSTCODE = "LS11 5QT"

log = logging.getLogger("shipping")
if LOG_STYLE != "none":
    line = "%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=line)
else:
    log.disabled = True


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=os.environ["CARRIER_URL"], timeout=CARRIER_TIMEOUT_S) as client:
        app.state.carrier = client
        yield


app = FastAPI(title="shipping", lifespan=lifespan)


class Cart(BaseModel):
    cart_id: str
    postcode: str
    items: list[dict]


def unavailable(cart: Cart, exc: Exception):
    if LOG_STYLE == "json":
        log.error(json.dumps({"event": "shipping_options_failed", "cart": cart.cart_id, "error": repr(exc)}))
    else:
        log.exception("shipping options for cart %s failed", cart.cart_id)
    if ERROR_STYLE == "502":
        return PlainTextResponse("Bad Gateway", status_code=502)
    if ERROR_STYLE == "200":
        return {"cart_id": cart.cart_id, "options": [], "notice": "Shipping options are unavailable right now"}
    return JSONResponse({"detail": "shipping options could not be computed"}, status_code=504)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/carts/shipping-options")
async def shipping_options(cart: Cart):
    weight = sum(int(i.get("weight_g", 500)) * int(i.get("qty", 1)) for i in cart.items)
    try:
        r = await app.state.carrier.post("/v2/rates", json={"origin": WAREHOUSE_POSTCODE,
                                                             "destination": cart.postcode, "weight_g": weight})
        r.raise_for_status()
    except httpx.HTTPError as e:
        return unavailable(cart, e)
    free_over = 5000
    subtotal = sum(int(i.get("price_cents", 0)) * int(i.get("qty", 1)) for i in cart.items)
    options = [{**rate, "cents": 0 if rate["level"] == "economy" and subtotal >= free_over else rate["cents"]}
               for rate in r.json()["rates"]]
    return {"cart_id": cart.cart_id, "weight_g": weight, "options": options}
