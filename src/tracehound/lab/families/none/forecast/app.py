"""Forecast tiles (Starlette): each tile is interpolated from the nearest model runs, which takes
anywhere from a few milliseconds to well over a second depending on the grid cell."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.WARNING)
rng = random.Random()


async def interpolate(z: int, x: int, y: int) -> list[float]:
    # Most cells are cached; the rest are recomputed, and a few sit on model-run boundaries.
    delay = min(rng.lognormvariate(-3.2, 1.1), 1.8)
    await asyncio.sleep(delay)
    seed = hashlib.blake2b(f"{z}/{x}/{y}".encode(), digest_size=8).digest()
    return [round(10 + b / 25, 1) for b in seed]


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def tile(request: Request) -> JSONResponse:
    z, x, y = (int(request.path_params[k]) for k in ("z", "x", "y"))
    if not 0 <= z <= 12:
        return JSONResponse({"error": "zoom out of range"}, status_code=400)
    temps = await interpolate(z, x, y)
    return JSONResponse({"tile": [z, x, y], "temperature_c": temps})


app = Starlette(routes=[
    Route("/health", health),
    Route("/tiles/{z:int}/{x:int}/{y:int}", tile),
])
