"""CRM contact lookup (Flask, SQLAlchemy ORM on psycopg): who is behind this email address.

The mail plugin and the support desk call it with addresses as people type them, in any case.
"""

from __future__ import annotations

import json
import logging
import os

from flask import Flask, jsonify, request
from models import Contact
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

app = Flask(__name__)

LOGS = os.environ.get("LOG_STYLE", "plain")
ERRORS = os.environ.get("ERROR_STYLE", "500")
if LOGS != "none":
    handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s" if LOGS == "json"
                                           else "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"))
    app.logger.addHandler(handler)
    app.logger.setLevel(logging.INFO)
else:
    app.logger.disabled = True

timeout_ms = int(os.environ.get("STATEMENT_TIMEOUT_MS", "0"))
engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=4, max_overflow=4, pool_pre_ping=True,
    connect_args={"options": f"-c statement_timeout={timeout_ms}"} if timeout_ms else {},
)


@app.errorhandler(OperationalError)
def database_error(e: OperationalError):
    if LOGS == "json":
        app.logger.error(json.dumps({"level": "error", "event": "contact_lookup_failed",
                                     "path": request.path, "exc": type(e.orig).__name__, "detail": str(e.orig)}))
    else:
        app.logger.exception("Exception on %s [%s]", request.path, request.method)
    if ERRORS == "json":
        return jsonify(status="error", reason="lookup failed, please retry"), 500
    return "<!doctype html><title>500 Internal Server Error</title><h1>Internal Server Error</h1>", 500


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/contacts/lookup")
def lookup():
    email = request.args.get("email", "").strip()
    if "@" not in email:
        return jsonify(error="an email address is required"), 400
    with Session(engine) as db:
        contact = db.scalars(select(Contact).where(func.lower(Contact.email) == email.lower())).first()
        if contact is None:
            return jsonify(match=None)
        local_part = email.lower().split("@", 1)[0]
        duplicates = db.scalar(select(func.count()).select_from(Contact).where(
            func.lower(Contact.email).like(local_part + "@%"), Contact.id != contact.id))
        open_deals = [d for d in contact.deals if d.stage in ("lead", "qualified")]
        return jsonify(match={
            "id": contact.id, "name": contact.full_name, "phone": contact.phone,
            "account": {"id": contact.account.id, "name": contact.account.name, "tier": contact.account.tier},
            "open_deals": len(open_deals),
            "possible_duplicates": duplicates,
            "pipeline_cents": sum(d.amount_cents for d in open_deals),
        })
