"""City building permits (Flask on gunicorn): a permit's status and its inspection schedule, for the
citizens' portal and the inspectors' tablets."""

from __future__ import annotations

import logging
import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")

app = Flask(__name__)
if LOG_STYLE == "none":
    app.logger.disabled = True
    logging.getLogger("permits").disabled = True
else:
    logging.basicConfig(
        filename=os.environ.get("LOG_FILE"), level=logging.INFO,
        format=('{"when": "%(asctime)s", "level": "%(levelname)s", "pid": %(process)d, "msg": "%(message)s"}'
                if LOG_STYLE == "json" else "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"),
    )
log = logging.getLogger("permits")

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=int(os.environ.get("DB_POOL_SIZE", "5")),
    pool_pre_ping=os.environ.get("DB_PRE_PING", "0") == "1",
)


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/permits/<permit_id>")
def permit(permit_id: str):
    with Session(engine) as db:
        row = db.execute(text("SELECT parcel, kind, filed, status FROM permits WHERE id = :id"),
                         {"id": permit_id}).one_or_none()
        if row is None:
            abort(404)
    return jsonify(permit=permit_id, parcel=row.parcel, kind=row.kind, filed=row.filed.isoformat(), status=row.status)


@app.get("/permits/<permit_id>/inspections")
def inspections(permit_id: str):
    with Session(engine) as db:
        rows = db.execute(text("SELECT step, inspector, outcome, due FROM inspections WHERE permit_id = :id "
                               "ORDER BY step"), {"id": permit_id}).all()
    if not rows:
        abort(404)
    nxt = next((r for r in rows if r.outcome is None), None)
    return jsonify(permit=permit_id, inspections=[
        {"step": r.step, "inspector": r.inspector, "outcome": r.outcome or "pending", "due": r.due.isoformat()}
        for r in rows
    ], next_due=nxt.due.isoformat() if nxt else None)


@app.errorhandler(500)
def server_error(e):
    cause = getattr(e, "original_exception", None)
    if LOG_STYLE == "json":
        log.error("permit lookup failed")
    elif cause is not None:
        log.error("permit lookup failed: %s", cause)
    if ERROR_STYLE == "503":
        return jsonify(message="The permit register is unavailable. Please try again."), 503
    if ERROR_STYLE == "json":
        return jsonify(error={"type": "server_error", "message": "permit lookup failed"}), 500
    if ERROR_STYLE == "200":
        return jsonify(permit=None, inspections=[], notice="Permit details are not available right now.")
    return "<h1>Internal Server Error</h1><p>The server encountered an internal error.</p>", 500
