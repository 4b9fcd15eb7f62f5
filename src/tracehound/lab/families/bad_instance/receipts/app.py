"""Pharmacy receipts (Flask, sqlite3): an order's receipt, every access journaled for the auditors."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from datetime import date, timedelta

from flask import Flask, g, jsonify

INSTANCE = os.environ.get("APP_INSTANCE", "0")
DATA_DIR = os.environ.get("DATA_DIR", ".")
DB_PATH = os.path.join(DATA_DIR, f"receipts-{INSTANCE}.db")
JOURNAL_PATH = os.environ.get("ACCESS_JOURNAL") or os.path.join(DATA_DIR, f"access-{INSTANCE}.journal")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
VAT = {"prescription": 0.0, "otc": 0.2, "device": 0.0}

app = Flask(__name__)
log = logging.getLogger("receipts")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    fmt = "%(message)s" if LOG_STYLE == "json" else "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=fmt)


def seed() -> None:
    db = sqlite3.connect(DB_PATH, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        db.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, patient TEXT, placed TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS lines"
                   " (order_id INTEGER, item TEXT, kind TEXT, qty INTEGER, pence INTEGER)")
        if not db.execute("SELECT count(*) FROM orders").fetchone()[0]:
            start = date(2026, 1, 5)
            items = [("Amoxicillin 500mg", "prescription", 965), ("Ibuprofen 200mg x24", "otc", 299),
                     ("Blood glucose strips", "device", 1450), ("Hay fever tablets", "otc", 475)]
            for oid in range(1, 401):
                db.execute("INSERT INTO orders VALUES (?, ?, ?)",
                           (oid, f"P{oid * 7919 % 100000:05d}", (start + timedelta(days=oid % 90)).isoformat()))
                for k in range(1 + oid % 3):
                    name, kind, pence = items[(oid + k) % len(items)]
                    db.execute("INSERT INTO lines VALUES (?, ?, ?, ?, ?)", (oid, name, kind, 1 + k, pence))
        db.execute("COMMIT")
    finally:
        db.close()


seed()
_journal_lock = threading.Lock()
_journal = open(JOURNAL_PATH, "a", encoding="utf-8")


def journal(event: dict) -> None:
    with _journal_lock:
        _journal.write(json.dumps(event) + "\n")
        _journal.flush()


def db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(DB_PATH)
    return g.db


@app.teardown_appcontext
def close_db(exc: BaseException | None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/orders/<int:order_id>/receipt")
def receipt(order_id: int):
    order = db().execute("SELECT id, patient, placed FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:
        return jsonify(error="not_found"), 404
    lines = db().execute("SELECT item, kind, qty, pence FROM lines WHERE order_id = ?", (order_id,)).fetchall()
    net = sum(q * p for _, _, q, p in lines)
    vat = sum(round(q * p * VAT[k]) for _, k, q, p in lines)
    body = {"order": order[0], "placed": order[2], "lines": [
        {"item": i, "qty": q, "pence": p} for i, _, q, p in lines], "net_pence": net, "vat_pence": vat,
        "total_pence": net + vat}
    event = {"at": time.time(), "event": "receipt_viewed", "order": order[0], "patient": order[1]}
    if ERROR_STYLE == "500":
        journal(event)
        return jsonify(body)
    try:
        journal(event)
    except OSError as e:
        if LOG_STYLE == "json":
            log.error(json.dumps({"event": "audit_write_failed", "order": order_id, "error": str(e)}))
        else:
            log.error("could not journal access to order %s: %s", order_id, e)
        return jsonify(code="RECEIPT_UNAVAILABLE", message="The receipt cannot be shown right now."), 503
    return jsonify(body)
