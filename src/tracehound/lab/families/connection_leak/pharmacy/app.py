"""Pharmacy stock API (FastAPI, psycopg pool): is a product on the shelf at this pharmacy?"""

from __future__ import annotations

import logging
import os
import sys

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")

if LOG_STYLE != "none":
    logging.basicConfig(
        stream=open(os.environ["LOG_FILE"], "a", buffering=1) if os.environ.get("LOG_FILE") else sys.stderr,
        level=logging.INFO,
        format=('{"time":"%(asctime)s","level":"%(levelname)s","name":"%(name)s","message":"%(message)s"}'
                if LOG_STYLE == "json" else "%(asctime)s | %(levelname)s | %(name)s | %(message)s"),
    )
    logging.getLogger("psycopg.pool").setLevel(logging.WARNING)
log = logging.getLogger("stock")

pool = ConnectionPool(
    os.environ["DATABASE_URL"],
    min_size=int(os.environ.get("POOL_SIZE", "6")),
    max_size=int(os.environ.get("POOL_SIZE", "6")),
    timeout=float(os.environ.get("POOL_TIMEOUT", "2")),
    kwargs={"row_factory": dict_row},
    open=True,
)

app = FastAPI(title="pharmacy-stock")


@app.exception_handler(PoolTimeout)
def database_unavailable(request: Request, exc: PoolTimeout) -> JSONResponse:
    log.error("stock lookup %s failed: %s", request.url.path, exc)
    if ERROR_STYLE == "503":
        return JSONResponse({"detail": "stock service unavailable"}, status_code=503)
    if ERROR_STYLE == "200":
        return JSONResponse({"available": None, "message": "stock could not be checked"})
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/pharmacies/{pharmacy_id}/products/{sku}")
def availability(pharmacy_id: int, sku: int) -> dict:
    conn = pool.getconn()
    product = conn.execute("SELECT name, prescription, discontinued, successor FROM products WHERE sku = %s",
                           (sku,)).fetchone()
    if product is None:
        pool.putconn(conn)
        raise HTTPException(status_code=404, detail="unknown product")
    if product["discontinued"]:
        return {"sku": sku, "name": product["name"], "available": 0, "discontinued": True,
                "replaced_by": product["successor"]}
    row = conn.execute("SELECT on_hand FROM stock WHERE pharmacy_id = %s AND sku = %s",
                       (pharmacy_id, sku)).fetchone()
    pool.putconn(conn)
    on_hand = row["on_hand"] if row else 0
    return {"sku": sku, "name": product["name"], "available": on_hand, "prescription": product["prescription"],
            "pharmacy": pharmacy_id}
