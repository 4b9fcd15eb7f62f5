"""Parcel delivery quotes (Flask, SQLAlchemy): the price of delivering a parcel to a postcode."""

from __future__ import annotations

import logging
import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text
from sqlalchemy.exc import NoResultFound
from sqlalchemy.exc import TimeoutError as CheckoutTimeout

import reporting

ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    logging.basicConfig(
        filename=os.environ.get("LOG_FILE"), level=logging.INFO,
        format=('{"timestamp": "%(asctime)s", "severity": "%(levelname)s", "logger": "%(name)s", '
                '"message": "%(message)s"}' if LOG_STYLE == "json"
                else "[%(asctime)s] %(levelname)s %(name)s: %(message)s"),
    )
log = logging.getLogger("quotes")

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=int(os.environ.get("POOL_SIZE", "8")),
    max_overflow=0,
    pool_timeout=float(os.environ.get("POOL_TIMEOUT", "2")),
)

app = Flask(__name__)


@app.errorhandler(NoResultFound)
def not_served(e: NoResultFound):
    reporting.capture(e)
    return jsonify(deliverable=False, reason="we do not deliver to this postcode yet")


@app.errorhandler(CheckoutTimeout)
def database_busy(e: CheckoutTimeout):
    log.error("quote failed: %s", e)
    if ERROR_STYLE == "503":
        return jsonify(error="quotes are unavailable, try again shortly"), 503
    if ERROR_STYLE == "200":
        return jsonify(deliverable=None, error="quote unavailable")
    return jsonify(error="internal server error"), 500


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/quotes")
def quote():
    postcode = request.args.get("postcode", type=int)
    weight_g = request.args.get("weight_g", default=1000, type=int)
    if postcode is None or not 0 < weight_g <= 31500:
        return jsonify(error="postcode and a weight up to 31.5 kg are required"), 422
    with engine.connect() as conn:
        zone = conn.execute(
            text("SELECT z.id, z.depot, z.base_fee_cents, z.per_kg_cents, p.same_day FROM postcodes p "
                 "JOIN zones z ON z.id = p.zone_id WHERE p.postcode = :pc"),
            {"pc": postcode},
        ).one()
        surcharge = conn.execute(
            text("SELECT count(*) FROM postcodes WHERE zone_id = :z AND NOT same_day"), {"z": zone.id},
        ).scalar_one()
    kg = -(-weight_g // 1000)
    price = zone.base_fee_cents + kg * zone.per_kg_cents + (150 if surcharge > 300 else 0)
    return jsonify(deliverable=True, postcode=postcode, depot=zone.depot, price_cents=price,
                   same_day=zone.same_day)
