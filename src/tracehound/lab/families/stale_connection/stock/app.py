"""Warehouse stock (FastAPI, plain `def` handlers): where a part is and how many are left, for the
pickers' handhelds and the purchasing screen."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from db import open_pool

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")

log = logging.getLogger("stock")
if LOG_STYLE != "none":
    to: logging.Handler = (logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE")
                           else logging.StreamHandler(sys.stderr))
    to.setFormatter(logging.Formatter(
        '{"t": "%(asctime)s", "lvl": "%(levelname)s", "logger": "%(name)s", "message": "%(message)s"}'
        if LOG_STYLE == "json" else "%(levelname)s:     %(name)s - %(message)s"))
    log.addHandler(to)
    log.setLevel(logging.INFO)
if LOG_STYLE != "plain":
    logging.getLogger("uvicorn.error").disabled = True


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = open_pool()
    yield
    app.state.pool.close()


app = FastAPI(title="stock", lifespan=lifespan)


@app.exception_handler(Exception)
def lookup_failed(request: Request, exc: Exception) -> Any:
    if LOG_STYLE == "plain":
        log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    else:
        log.error("stock lookup failed for %s", request.url.path)
    if ERROR_STYLE == "json":
        return JSONResponse({"status": "error", "code": 5001, "detail": "stock lookup failed"}, status_code=500)
    if ERROR_STYLE == "503":
        return JSONResponse({"detail": "Service Unavailable"}, status_code=503)
    return PlainTextResponse("Internal Server Error", status_code=500)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/items/{sku}/locations")
def locations(sku: str, request: Request) -> dict:
    with request.app.state.pool.connection() as conn:
        item = conn.execute("SELECT description, unit FROM items WHERE sku = %s", (sku,)).fetchone()
        if item is None:
            raise HTTPException(404, "unknown sku")
        bins = conn.execute(
            "SELECT s.bin, b.aisle, b.level, s.quantity, s.counted_at FROM stock s JOIN bins b ON b.code = s.bin "
            "WHERE s.sku = %s ORDER BY b.aisle, b.level", (sku,)).fetchall()
    return {"sku": sku, "description": item["description"], "unit": item["unit"],
            "on_hand": sum(b["quantity"] for b in bins),
            "locations": [{"bin": b["bin"], "aisle": b["aisle"], "level": b["level"], "quantity": b["quantity"],
                           "counted": b["counted_at"].isoformat()} for b in bins]}


@app.get("/aisles/{aisle}/picklist")
def picklist(aisle: int, request: Request, limit: int = 20) -> dict:
    with request.app.state.pool.connection() as conn:
        rows = conn.execute(
            "SELECT s.sku, s.bin, s.quantity FROM stock s JOIN bins b ON b.code = s.bin "
            "WHERE b.aisle = %s AND s.quantity < 20 ORDER BY s.quantity LIMIT %s", (aisle, limit)).fetchall()
    return {"aisle": aisle, "low": rows}
