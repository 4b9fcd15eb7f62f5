"""Fleet tracking (Starlette, asyncpg): where a vehicle is now, snapped onto the road network."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

SETTINGS = {
    "pool_size": int(os.environ.get("POOL_SIZE", "4")),
    "acquire_timeout": float(os.environ.get("POOL_TIMEOUT", "5")),
    "snap_ms": int(os.environ.get("WORK_MS", "150")),
    "errors": os.environ.get("ERROR_STYLE", "500"),
    "logs": os.environ.get("LOG_STYLE", "plain"),
}

logger = logging.getLogger("fleet")
if SETTINGS["logs"] != "none":
    stream = open(os.environ["LOG_FILE"], "a", buffering=1) if os.environ.get("LOG_FILE") else sys.stderr  # noqa: SIM115
    h = logging.StreamHandler(stream)
    if SETTINGS["logs"] == "json":
        h.setFormatter(logging.Formatter('{"@timestamp":"%(asctime)s","severity":"%(levelname)s","event":%(message)s}'))
    else:
        h.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    logger.addHandler(h)
    logger.setLevel(logging.INFO)


def event(text: str) -> str:
    return json.dumps(text) if SETTINGS["logs"] == "json" else text


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1,
                                               max_size=SETTINGS["pool_size"])
    yield
    await app.state.pool.close()


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def position(request: Request) -> JSONResponse | PlainTextResponse:
    vehicle = int(request.path_params["vehicle_id"])
    try:
        async with request.app.state.pool.acquire(timeout=SETTINGS["acquire_timeout"]) as conn:
            plate = await conn.fetchval("SELECT plate FROM vehicles WHERE id = $1", vehicle)
            if plate is None:
                return JSONResponse({"detail": "unknown vehicle"}, status_code=404)
            row = await conn.fetchrow("SELECT * FROM snap_to_road($1, $2)", vehicle, SETTINGS["snap_ms"])
    except (asyncio.TimeoutError, asyncpg.PostgresError) as e:
        logger.error(event(f"position lookup failed for vehicle {vehicle}: {e!r}"))
        style = SETTINGS["errors"]
        if style == "503":
            return PlainTextResponse("upstream busy", status_code=503)
        if style == "json":
            return JSONResponse({"code": 500, "message": "position lookup failed"}, status_code=500)
        if style == "200":
            return JSONResponse({"vehicle": vehicle, "position": None, "error": "lookup failed"})
        return PlainTextResponse("Internal Server Error", status_code=500)
    return JSONResponse({"vehicle": vehicle, "plate": plate, "position": {"lat": row["lat"], "lon": row["lon"]}})


app = Starlette(routes=[Route("/health", health), Route("/vehicles/{vehicle_id:int}/position", position)],
                lifespan=lifespan)
