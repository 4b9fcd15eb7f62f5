"""Sorting hub (Starlette, asyncpg): scanners report parcels; each dispatch wave has one manifest per hub."""

from __future__ import annotations

import contextlib
import logging
import os
import time
import zlib

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

WAVE_SECONDS = float(os.environ.get("WAVE_SECONDS", "1"))
CHUTES = 24
SLOTS = 900
ERRORS = os.environ.get("ERROR_STYLE", "500")

logger = logging.getLogger("hub.scans")
if os.environ.get("LOG_STYLE", "plain") != "none":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=12)
    yield
    await app.state.pool.close()


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def scan(request: Request) -> JSONResponse:
    hub = request.path_params["hub"]
    body = await request.json()
    barcode = str(body.get("barcode", ""))
    if not barcode:
        return JSONResponse({"error": "barcode required"}, status_code=422)
    wave = int(time.time() // WAVE_SECONDS)
    chute = zlib.crc32(barcode.encode()) % CHUTES + 1
    try:
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            manifest_id, parcels = await conn.fetchrow(
                "INSERT INTO manifests (hub, wave, truck, parcels) "
                "VALUES ($1, $2, (SELECT truck FROM departures WHERE hub = $1 AND slot = $3), 1) "
                "ON CONFLICT (hub, wave) DO UPDATE SET parcels = manifests.parcels + 1 RETURNING id, parcels",
                hub, wave, wave % SLOTS)
            await conn.execute("INSERT INTO scans (manifest_id, barcode, chute) VALUES ($1, $2, $3)",
                               manifest_id, barcode, chute)
    except asyncpg.UniqueViolationError as e:
        if ERRORS != "json":
            raise
        logger.warning("scan %s not recorded: %s", barcode, e)
        return JSONResponse({"code": "SCAN_NOT_RECORDED", "retry": True}, status_code=503)
    return JSONResponse({"manifest": manifest_id, "wave": wave, "chute": chute, "parcels_in_wave": parcels})


app = Starlette(routes=[Route("/health", health), Route("/hubs/{hub}/scans", scan, methods=["POST"])],
                lifespan=lifespan)
