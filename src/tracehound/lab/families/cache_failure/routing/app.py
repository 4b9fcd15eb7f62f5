"""Delivery estimates (Flask): the days a parcel needs between two postcodes with one carrier,
as shown on a shop's checkout page. Lanes come from PostgreSQL and are kept in Redis for an hour."""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime, timedelta

import psycopg
import redis
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")

app = Flask(__name__)
log = logging.getLogger("estimates")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler()
    handler.setFormatter(logging.Formatter(
        '{"time": "%(asctime)s", "level": "%(levelname)s", "event": "%(message)s"}' if LOG_STYLE == "json"
        else "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _cache() -> redis.Redis:
    size = int(os.environ.get("CACHE_CONNECTIONS", "10"))
    if os.environ.get("CACHE_POOL", "default") == "blocking":
        pool: redis.ConnectionPool = redis.BlockingConnectionPool.from_url(
            os.environ["REDIS_URL"], max_connections=size, timeout=float(os.environ.get("CACHE_WAIT_S", "0.05")),
            decode_responses=True)
    else:
        pool = redis.ConnectionPool.from_url(os.environ["REDIS_URL"], max_connections=size, decode_responses=True)
    return redis.Redis(connection_pool=pool)


cache = _cache()
LANE_TTL_S = 3600


def load_lane(carrier: str, origin: str, dest: str) -> dict | None:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        row = conn.execute(
            "SELECT l.transit_days, l.cutoff, fz.hub, tz.hub FROM lanes l "
            "JOIN zones fz ON fz.region = l.from_region AND fz.prefix = %s "
            "JOIN zones tz ON tz.region = l.to_region AND tz.prefix = %s "
            "WHERE l.carrier = %s",
            (origin[:2], dest[:2], carrier),
        ).fetchone()
    if row is None:
        return None
    days, cutoff, via, to_hub = row
    return {"transit_days": days, "cutoff": cutoff.strftime("%H:%M"), "via": [via, to_hub]}


def lane(carrier: str, origin: str, dest: str) -> dict | None:
    key = f"lane:{carrier}:{origin[:2]}:{dest[:2]}"
    raw = cache.get(key)
    if raw is not None:
        return json.loads(raw)
    found = load_lane(carrier, origin, dest)
    if found is not None:
        cache.set(key, json.dumps(found), ex=LANE_TTL_S)
    return found


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/estimate")
def estimate():
    origin, dest = request.args.get("from", ""), request.args.get("to", "")
    carrier = request.args.get("carrier", "dhl")
    if not (origin.isdigit() and dest.isdigit() and len(origin) == len(dest) == 5):
        return jsonify(error="from and to must be five-digit postcodes"), 400
    found = lane(carrier, origin, dest)
    if found is None:
        return jsonify(error=f"{carrier} does not serve this lane"), 404
    now = datetime.now()
    ship = now.date() if now.strftime("%H:%M") < found["cutoff"] else now.date() + timedelta(days=1)
    cache.incr(f"asked:{date.today().isoformat()}:{carrier}")
    arrives = ship + timedelta(days=found["transit_days"])
    return jsonify(carrier=carrier, ships=ship.isoformat(), arrives=arrives.isoformat(),
                   estimate={"days": found["transit_days"], "route": found["via"]})


@app.errorhandler(Exception)
def failed(e: Exception):
    if isinstance(e, HTTPException):
        return e
    if ERROR_STYLE == "json":
        log.error("estimate failed for %s", request.full_path)
    else:
        log.exception("Exception on %s [%s]", request.path, request.method)
    if ERROR_STYLE == "503":
        return jsonify(error="estimates are unavailable, try again shortly"), 503
    if ERROR_STYLE == "json":
        return jsonify(error={"code": "ESTIMATE_FAILED", "retryable": True}), 500
    if ERROR_STYLE == "200":
        return jsonify(carrier=request.args.get("carrier", "dhl"), estimate=None, note="no estimate right now")
    return "<!doctype html><title>500 Internal Server Error</title><h1>Internal Server Error</h1>", 500
