"""Limited drops (Flask, psycopg 3 pool): shoppers hold a pair for ten minutes while they pay."""

from __future__ import annotations

import logging
import os

import psycopg
from flask import Flask, jsonify, request
from psycopg_pool import ConnectionPool

app = Flask(__name__)
pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=2, max_size=int(os.environ.get("POOL_SIZE", "10")),
                      timeout=10, open=True)
ERRORS = os.environ.get("ERROR_STYLE", "500")

if os.environ.get("LOG_STYLE", "plain") == "json":
    logging.basicConfig(level=logging.INFO,
                        format='{"ts":"%(asctime)s","severity":"%(levelname)s","component":"%(name)s","msg":"%(message)s"}')
else:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
log = logging.getLogger("drops")


@app.errorhandler(psycopg.errors.IntegrityError)
def refused(e: psycopg.errors.IntegrityError):
    if ERRORS == "409":
        log.warning("hold refused: %s", str(e).splitlines()[0])
        return jsonify(error="HOLD_CONFLICT", message="This item could not be held, please try again."), 409
    log.exception("hold failed")
    return jsonify(error="internal"), 500


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/drops/<int:drop_id>/holds")
def hold(drop_id: int):
    shopper = (request.get_json(silent=True) or {}).get("shopper", "")
    with pool.connection() as conn:
        row = conn.execute("SELECT remaining, per_shopper, price_cents FROM drops WHERE id = %s",
                           (drop_id,)).fetchone()
        if row is None:
            return jsonify(error="unknown drop"), 404
        remaining, per_shopper, price = row
        if remaining < 1:
            return jsonify(status="waitlisted", remaining=0)
        (mine,) = conn.execute("SELECT count(*) FROM holds WHERE shopper = %s AND drop_id = %s",
                               (shopper, drop_id)).fetchone()
        if mine >= per_shopper:
            return jsonify(status="limit_reached", remaining=remaining)
        taken = conn.execute("UPDATE drops SET remaining = remaining - 1 WHERE id = %s AND remaining >= 1 "
                             "RETURNING remaining", (drop_id,)).fetchone()
        if taken is None:
            return jsonify(status="waitlisted", remaining=0)
        (left,) = taken
        (hold_id,) = conn.execute("INSERT INTO holds (drop_id, shopper) VALUES (%s, %s) RETURNING id",
                                  (drop_id, shopper)).fetchone()
    return jsonify(status="held", hold=hold_id, remaining=left, price_cents=price)


@app.post("/drops/<int:drop_id>/holds/release")
def release(drop_id: int):
    shopper = (request.get_json(silent=True) or {}).get("shopper", "")
    with pool.connection() as conn:
        released = conn.execute("DELETE FROM holds WHERE drop_id = %s AND shopper = %s",
                                (drop_id, shopper)).rowcount
        if released:
            conn.execute("UPDATE drops SET remaining = remaining + %s WHERE id = %s", (released, drop_id))
    return jsonify(released=released)
