"""Shipping service: books a parcel with the carrier and returns its label for the warehouse printer."""

from __future__ import annotations

import logging
import os
import time

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("shipping")

CARRIER_URL = os.environ["CARRIER_URL"]
# The carrier's SDK-style client: one shared session with connection pooling.
carrier = httpx.Client(base_url=CARRIER_URL, timeout=httpx.Timeout(30.0, connect=2.0),
                       headers={"X-Api-Key": "sandbox-7f3a"})

SHIPMENTS = {f"shp_{i:05d}": {"id": f"shp_{i:05d}", "weight_g": 400 + 37 * i % 2600, "service": "standard"}
             for i in range(1, 500)}


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def shipment(request: Request) -> JSONResponse:
    s = SHIPMENTS.get(request.path_params["shipment_id"])
    if s is None:
        return JSONResponse({"detail": "shipment not found"}, status_code=404)
    return JSONResponse(s)


def book_label(s: dict) -> dict:
    r = carrier.post("/v2/labels", json={"reference": s["id"], "weight_g": s["weight_g"], "service": s["service"]})
    r.raise_for_status()
    return r.json()


async def create_label(request: Request) -> JSONResponse:
    s = SHIPMENTS.get(request.path_params["shipment_id"])
    if s is None:
        return JSONResponse({"detail": "shipment not found"}, status_code=404)
    t = time.perf_counter()
    try:
        label = await run_in_threadpool(book_label, s)
    except httpx.HTTPError as e:
        log.error("shipment %s: carrier call failed: %r", s["id"], e)
        return JSONResponse({"detail": "carrier unavailable"}, status_code=502)
    log.info("shipment %s: label %s in %.0f ms", s["id"], label["tracking_number"], (time.perf_counter() - t) * 1000)
    return JSONResponse({"shipment": s["id"], **label}, status_code=201)


app = Starlette(routes=[
    Route("/health", health),
    Route("/api/shipments/{shipment_id}", shipment),
    Route("/api/shipments/{shipment_id}/label", create_label, methods=["POST"]),
])
