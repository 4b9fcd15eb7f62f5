"""Checkout address service (Starlette): country list, and a shipping address checked against the provider."""

from __future__ import annotations

import logging
import os

import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s [%(process)d] %(levelname)s %(name)s - %(message)s")
log = logging.getLogger("checkout.address")

PROVIDER = os.environ["GEO_URL"]
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64))
COUNTRIES = [{"code": c, "name": n} for c, n in
             [("PT", "Portugal"), ("ES", "Spain"), ("FR", "France"), ("BE", "Belgium"), ("NL", "Netherlands")]]


def lookup(line: str) -> dict:
    r = session.get(f"{PROVIDER}/v1/search", params={"q": line}, timeout=10)
    r.raise_for_status()
    return r.json()["results"][0]


async def health(request: Request):
    return JSONResponse({"status": "ok"})


async def countries(request: Request):
    return JSONResponse({"countries": COUNTRIES})


async def validate(request: Request):
    body = await request.json()
    line = f"{body.get('street', '')}, {body.get('postcode', '')} {body.get('city', '')}".strip(", ")
    match = lookup(line)
    ok = match["confidence"] >= 0.75
    log.info("address checked: confidence %.2f", match["confidence"])
    return JSONResponse({"valid": ok, "normalized": match["label"], "location": [match["lat"], match["lon"]]})


app = Starlette(routes=[
    Route("/health", health),
    Route("/countries", countries),
    Route("/addresses/validate", validate, methods=["POST"]),
])
