"""The operator's tariff API (Starlette): ticket types and prices between two stations, for known keys."""

from __future__ import annotations

import asyncio
import os
import zlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KEYS = {k.strip() for k in os.environ.get("TARIFF_KEYS", "").split(",") if k.strip()}
TICKETS = [("Advance Single", "standard", 0.45, False, True), ("Off-Peak Single", "standard", 0.8, True, True),
           ("Anytime Single", "standard", 1.0, True, False), ("Anytime Single", "first", 1.6, True, False)]


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "up"})


async def tariffs(request: Request) -> JSONResponse:
    if request.headers.get("x-api-key") not in KEYS:
        return JSONResponse({"error": "invalid_api_key", "message": "API key not recognised"}, status_code=403)
    origin, destination = request.query_params.get("origin", ""), request.query_params.get("destination", "")
    await asyncio.sleep(0.005)
    base = 900 + zlib.crc32(f"{origin}:{destination}".encode()) % 6000
    return JSONResponse({"tariffs": [
        {"ticket": name, "class": cls, "pence": int(base * factor), "flexible": flexible, "railcard_valid": rc}
        for name, cls, factor, flexible, rc in TICKETS
    ]})


app = Starlette(routes=[Route("/health", health), Route("/v1/tariffs", tariffs)])
