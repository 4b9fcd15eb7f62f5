"""Parcel tracking (FastAPI, sync handlers, psycopg 3 pool): the scan history of one parcel."""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse
from psycopg_pool import ConnectionPool

CONFIG = {
    "statement_timeout_ms": int(os.environ.get("STATEMENT_TIMEOUT_MS", "0")),
    "errors": os.environ.get("ERROR_STYLE", "500"),
    "logs": os.environ.get("LOG_STYLE", "plain"),
}

log = logging.getLogger("tracking")
if CONFIG["logs"] == "none":
    log.addHandler(logging.NullHandler())
    log.propagate = False
else:
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="%(asctime)s %(levelname)s [%(name)s] %(message)s")


def record(level: int, message: str, **fields: object) -> None:
    if CONFIG["logs"] == "json":
        log.log(level, json.dumps({"msg": message, **fields}, default=str))
    else:
        log.log(level, "%s %s", message, " ".join(f"{k}={v}" for k, v in fields.items()))


pool = ConnectionPool(
    os.environ["DATABASE_URL"], min_size=2, max_size=24, timeout=30, open=False,
    kwargs={"options": f"-c statement_timeout={CONFIG['statement_timeout_ms']}"},
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    pool.open(wait=True)
    yield
    pool.close()


app = FastAPI(title="tracking", lifespan=lifespan)

HISTORY = """
    SELECT s.status, d.city, s.scanned_at
    FROM scans s JOIN depots d ON d.id = s.depot_id
    WHERE s.parcel_id = %s
    ORDER BY s.scanned_at
"""


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/parcels/{code}/history")
def history(code: str):
    started = time.perf_counter()
    try:
        with pool.connection() as conn:
            parcel = conn.execute("SELECT id, weight_g FROM parcels WHERE code = %s", (code,)).fetchone()
            if parcel is None:
                raise HTTPException(404, "no such parcel")
            scans = conn.execute(HISTORY, (parcel[0],)).fetchall()
    except psycopg.errors.QueryCanceled as e:
        record(logging.ERROR, "history query failed", parcel=code, error=str(e).strip(),
               elapsed_ms=round((time.perf_counter() - started) * 1000))
        if CONFIG["errors"] == "json":
            return JSONResponse({"error": {"code": "TRACKING_UNAVAILABLE", "message": "could not load the history"}},
                                status_code=503)
        if CONFIG["errors"] == "200":
            return {"parcel": code, "events": None, "error": "history temporarily unavailable"}
        return PlainTextResponse("Internal Server Error", status_code=500)
    events = [{"status": st, "depot": city, "at": at.isoformat()} for st, city, at in scans]
    return {"parcel": code, "weight_g": parcel[1], "events": events,
            "delivered": bool(events) and events[-1]["status"] == "delivered"}
