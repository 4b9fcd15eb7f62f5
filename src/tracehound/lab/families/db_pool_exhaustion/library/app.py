"""Library loans service (Flask): a member's current loans, with fines and book metadata."""

from __future__ import annotations

import logging
import os
from datetime import date

from flask import Flask, jsonify

import covers
from dbpool import Pool, PoolTimeout

app = Flask(__name__)

STYLE = os.environ.get("LOG_STYLE", "plain")
if STYLE != "none":
    logging.basicConfig(
        filename=os.environ.get("LOG_FILE"),
        level=logging.INFO,
        format=('{"t":"%(asctime)s","lvl":"%(levelname)s","src":"%(name)s","text":"%(message)s"}' if STYLE == "json"
                else "%(asctime)s [%(process)d] %(levelname)s %(name)s %(message)s"),
    )
log = logging.getLogger("loans")
if STYLE == "none":
    log.disabled = True

pool = Pool(os.environ["DATABASE_URL"], size=int(os.environ.get("POOL_SIZE", "4")),
            timeout=float(os.environ.get("POOL_TIMEOUT", "10")))
FINE_PER_DAY_CENTS = 25
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")


@app.errorhandler(PoolTimeout)
def busy(e: PoolTimeout):
    log.error("loans lookup failed: %s", e)
    if ERROR_STYLE == "503":
        return jsonify(message="Service temporarily unavailable"), 503
    if ERROR_STYLE == "json":
        return jsonify(error="internal_error", error_description=str(e)), 500
    if ERROR_STYLE == "200":
        return jsonify(loans=[], warning="loans could not be loaded")
    return "<h1>Internal Server Error</h1>", 500


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/members/<int:member_id>/loans")
def loans(member_id: int):
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT l.id, l.due, b.isbn, b.title FROM loans l JOIN books b ON b.id = l.book_id "
            "WHERE l.member_id = %s AND l.returned IS NULL ORDER BY l.due",
            (member_id,),
        ).fetchall()
        items = []
        for loan_id, due, isbn, title in rows[:4]:
            late = max(0, (date.today() - due).days)
            items.append({"loan": loan_id, "title": title, "due": due.isoformat(),
                          "fine_cents": late * FINE_PER_DAY_CENTS, **covers.edition_info(isbn)})
    if not items:
        return jsonify(loans=[], member=member_id, count=0)
    return jsonify(loans=items, member=member_id, count=len(items))
