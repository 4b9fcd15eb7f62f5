"""Storefront promotions (Flask): the marketing console creates codes; checkout checks them."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "404")
RELOAD_S = float(os.environ.get("RELOAD_MS", "500")) / 1000
ON_MISS = os.environ.get("ON_MISS", "unknown")

if LOG_STYLE != "none":
    logging.basicConfig(
        filename=os.environ.get("LOG_FILE"), level=logging.INFO,
        format=('{"at":"%(asctime)s","level":"%(levelname)s","pid":%(process)d,"msg":"%(message)s"}'
                if LOG_STYLE == "json" else "%(asctime)s [%(process)d] %(levelname)s promotions: %(message)s"),
    )
log = logging.getLogger("promotions")
log.disabled = LOG_STYLE == "none"

ACTIVE = """
SELECT code, percent_off, min_basket_cents FROM promotions
WHERE starts_on <= current_date AND (ends_on IS NULL OR ends_on >= current_date)
"""


@dataclass(frozen=True)
class Promotion:
    code: str
    percent_off: int
    min_basket_cents: int

    def to_json(self) -> dict:
        return {"code": self.code, "percent_off": self.percent_off, "min_basket_cents": self.min_basket_cents,
                "valid": True}


class Catalogue:
    """The active promotions, held in memory and reloaded when older than RELOAD_MS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None
        self._codes: dict[str, Promotion] = {}
        self._loaded = 0.0

    def db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        return self._conn

    def _reload(self) -> None:
        rows = self.db().execute(ACTIVE).fetchall()
        self._codes = {r[0]: Promotion(*r) for r in rows}
        self._loaded = time.monotonic()

    def find(self, code: str) -> Promotion | None:
        with self._lock:
            if time.monotonic() - self._loaded > RELOAD_S:
                self._reload()
            found = self._codes.get(code)
            if found is None and ON_MISS == "database":
                row = self.db().execute(ACTIVE + " AND code = %s", (code,)).fetchone()
                if row is not None:
                    found = self._codes[code] = Promotion(*row)
            return found

    def add(self, p: Promotion) -> None:
        self.db().execute(
            "INSERT INTO promotions (code, percent_off, min_basket_cents, created_by) VALUES (%s, %s, %s, %s)",
            (p.code, p.percent_off, p.min_basket_cents, request.headers.get("X-User", "console")),
        )
        with self._lock:
            self._codes[p.code] = p


catalogue = Catalogue()


@app.get("/health")
def health():
    return jsonify(status="ok", pid=os.getpid())


@app.post("/promotions")
def create():
    doc = request.get_json(silent=True) or {}
    try:
        p = Promotion(str(doc["code"]).upper(), int(doc["percent_off"]), int(doc.get("min_basket_cents", 0)))
    except (KeyError, TypeError, ValueError):
        return jsonify(error="invalid_promotion", detail="code and percent_off are required"), 400
    try:
        catalogue.add(p)
    except psycopg.errors.UniqueViolation:
        return jsonify(error="duplicate_code", detail=f"{p.code} exists already"), 409
    except psycopg.errors.CheckViolation:
        return jsonify(error="invalid_promotion", detail="percent_off must be 1 to 90"), 400
    log.info("promotion %s created (%d%% off)", p.code, p.percent_off)
    return jsonify(p.to_json()), 201


@app.get("/promotions/<code>")
def check(code: str):
    found = catalogue.find(code.upper())
    if found is not None:
        return jsonify(found.to_json())
    log.warning("promotion %s: no such code", code.upper())
    if ERROR_STYLE == "200":
        return jsonify(code=code.upper(), valid=False, reason="This code is not valid")
    return jsonify(error="promotion_not_found", detail=f"no promotion {code.upper()}"), 404
