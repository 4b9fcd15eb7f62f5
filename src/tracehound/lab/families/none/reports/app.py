"""Sales reports (FastAPI, sync handlers): the daily report is rebuilt from the order feed every few
seconds, and the request that finds it stale waits for the rebuild."""

from __future__ import annotations

import logging
import os
import threading
import time

from fastapi import FastAPI

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("reports")

REFRESH_EVERY_S = float(os.environ.get("REFRESH_EVERY_S", "3"))
REBUILD_S = float(os.environ.get("REBUILD_S", "1.2"))

app = FastAPI(title="reports")
_lock = threading.Lock()
_state: dict = {"built_at": 0.0, "report": None}


def _rebuild() -> dict:
    time.sleep(REBUILD_S)
    now = time.time()
    return {"generated_at": now, "orders": int(now) % 997 + 3000, "revenue_cents": (int(now) % 7919) * 1000}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/reports/daily")
def daily() -> dict:
    with _lock:
        if time.time() - _state["built_at"] > REFRESH_EVERY_S:
            _state["report"] = _rebuild()
            _state["built_at"] = time.time()
            log.info("daily report rebuilt")
        return _state["report"]
