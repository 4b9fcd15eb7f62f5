"""Address check for a checkout (FastAPI, sync handlers, httpx): the shipping address a customer
types is normalised and located through an external geocoding provider before an order is taken."""

from __future__ import annotations

import logging
import os

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "502")
logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("address-check")
if LOG_STYLE == "none":
    log.disabled = True

provider = httpx.Client(base_url=os.environ["GEOCODER_URL"], timeout=httpx.Timeout(5.0),
                        headers={"Authorization": "Key " + os.environ.get("GEOCODER_KEY", "free_demo")},
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
app = FastAPI(title="address check")


class Address(BaseModel):
    street: str
    postcode: str
    city: str
    country: str = "DE"


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.post("/checkout/address")
def check_address(addr: Address) -> dict:
    query = f"{addr.street}, {addr.postcode} {addr.city}, {addr.country}"
    resp = provider.get("/v1/geocode", params={"q": query})
    if resp.status_code != 200:
        log.error("geocoder answered %s for %r: %s", resp.status_code, query, resp.text[:120])
        if ERROR_STYLE == "503":
            retry = resp.headers.get("Retry-After")
            raise HTTPException(503, "address service unavailable", headers={"Retry-After": retry} if retry else None)
        raise HTTPException(502, "address lookup failed")
    best = resp.json()["results"][0]
    return {"valid": best["confidence"] >= 0.5, "formatted": best["formatted"],
            "location": {"lat": best["lat"], "lon": best["lon"]}}
