"""Postage calculator (Starlette): what a parcel costs to send, by service, weight band and destination zone."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
TARIFF = json.loads((HERE / os.environ.get("TARIFF_TABLE", "tariffs/current.json")).read_text())
MAX_WEIGHT_G = int(os.environ.get("MAX_WEIGHT_G", "30000"))
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ZONES = {"BT": "NI", "HS": "HI", "ZE": "HI", "KW": "HI", "IV": "HI", "PA": "HI", "TR": "UK", "IM": "IM"}

log = logging.getLogger("postage")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    fmt = "%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(levelname)s %(name)s %(message)s"
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=fmt)


def zone(postcode: str) -> str:
    area = "".join(c for c in postcode.upper()[:2] if c.isalpha())
    return ZONES.get(area, "UK")


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def quote(request: Request) -> JSONResponse:
    parcel = await request.json()
    weight = int(parcel.get("weight_g", 0))
    if weight <= 0 or weight > MAX_WEIGHT_G:
        if LOG_STYLE == "json":
            log.info(json.dumps({"event": "parcel_rejected", "weight_g": weight, "limit_g": MAX_WEIGHT_G}))
        else:
            log.info("rejected a parcel of %d g (limit %d g)", weight, MAX_WEIGHT_G)
        return JSONResponse({"error": "weight_out_of_range", "max_weight_g": MAX_WEIGHT_G}, status_code=422)
    service = parcel.get("service", "tracked48")
    bands = TARIFF["services"].get(service)
    if bands is None:
        return JSONResponse({"error": "unknown_service"}, status_code=422)
    z = zone(str(parcel.get("postcode", "")))
    band = next(b for b in bands if weight <= b["up_to_g"])
    price = band["pence"] + TARIFF["zone_surcharge"].get(z, 0)
    return JSONResponse({"service": service, "zone": z, "weight_g": weight, "price_pence": price,
                         "tariff": TARIFF["name"]})


app = Starlette(routes=[Route("/health", health), Route("/postage/quote", quote, methods=["POST"])])
