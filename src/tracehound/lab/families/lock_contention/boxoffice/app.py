"""Box office (Flask): buy tickets for an event at the price demand sets right now."""

from __future__ import annotations

import json
import logging
import os
import time

import psycopg
from flask import Flask, abort, jsonify, request
from psycopg_pool import ConnectionPool

import pricing

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
LOCK_TIMEOUT_MS = int(os.environ.get("LOCK_TIMEOUT_MS", "500"))


class OneLineJson(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"at": self.formatTime(record), "level": record.levelname, "logger": record.name,
               "message": record.getMessage()}
        if record.exc_info:
            out["error"] = repr(record.exc_info[1])
        return json.dumps(out)


if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler()
    handler.setFormatter(OneLineJson() if LOG_STYLE == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
log = logging.getLogger("boxoffice")

threads = int(os.environ.get("THREADS", "16"))
pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=threads, max_size=threads + 4, timeout=10,
                      kwargs={"autocommit": True}, open=True)

app = Flask(__name__)


@app.errorhandler(psycopg.errors.LockNotAvailable)
def ticketing_busy(e: psycopg.errors.LockNotAvailable):
    log.error("ticket purchase failed", exc_info=e)
    if ERROR_STYLE == "409":
        return jsonify(error="conflict", message="the event is being updated, please try again"), 409
    if ERROR_STYLE == "200":
        return jsonify(ok=False, order=None, message="we could not complete your purchase")
    return jsonify(message="Internal Server Error"), 500


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/events/<int:event_id>")
def event(event_id: int):
    with pool.connection() as conn:
        row = conn.execute("SELECT title, starts_at, capacity - sold FROM events WHERE id = %s", (event_id,)).fetchone()
    if row is None:
        abort(404)
    return jsonify(event=event_id, title=row[0], starts_at=row[1].isoformat(), remaining=row[2])


@app.post("/events/<int:event_id>/tickets")
def buy(event_id: int):
    body = request.get_json(silent=True) or {}
    qty = int(body.get("qty", 1))
    buyer = str(body.get("buyer", "guest"))
    if not 1 <= qty <= 8:
        return jsonify(error="qty must be 1 to 8"), 422
    started = time.perf_counter()
    with pool.connection() as conn, conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
        row = conn.execute("SELECT capacity, sold, base_price_cents FROM events WHERE id = %s FOR UPDATE",
                           (event_id,)).fetchone()
        if row is None:
            abort(404)
        capacity, sold, base = row
        if sold + qty > capacity:
            return jsonify(error="sold out"), 409
        unit = pricing.quote(base, sold, capacity, qty)
        conn.execute("UPDATE events SET sold = sold + %s WHERE id = %s", (qty, event_id))
        order = conn.execute(
            "INSERT INTO orders (event_id, buyer, qty, unit_price_cents) VALUES (%s, %s, %s, %s) RETURNING id",
            (event_id, buyer, qty, unit),
        ).fetchone()[0]
    log.info("order %s: event=%s qty=%s unit=%s in %.0f ms", order, event_id, qty, unit,
             (time.perf_counter() - started) * 1000)
    return jsonify(ok=True, order=order, event=event_id, qty=qty, unit_price_cents=unit), 201
