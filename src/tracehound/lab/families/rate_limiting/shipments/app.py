"""Shipment tracking for merchants (Flask on gunicorn threads, Redis): merchants poll the status of
their parcels with their merchant key; each request spends one unit of a per-second quota."""

from __future__ import annotations

import json
import logging
import os
import zlib

import redis
from flask import Flask, g, jsonify, make_response

from throttle import Quota, Verdict, metered

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "429")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"time": self.formatTime(record), "severity": record.levelname,
                           "component": record.name, "message": record.getMessage()})


def setup_logging() -> None:
    if LOG_STYLE == "none":
        logging.disable(logging.CRITICAL)
        return
    handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler()
    handler.setFormatter(JsonLines() if LOG_STYLE == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


setup_logging()
log = logging.getLogger("tracking")

app = Flask(__name__)
_redis = redis.Redis.from_url(os.environ["REDIS_URL"], max_connections=64)
_quota = Quota(_redis, int(os.environ.get("REQUESTS_PER_SECOND", "20")), os.environ.get("COUNT_BY", "key"))

CARRIERS = ("DHL", "UPS", "GLS", "DPD")
STATES = ("label_created", "picked_up", "in_transit", "at_hub", "out_for_delivery", "delivered")


def refuse(v: Verdict):
    log.warning("quota exceeded for %s (%d requests/s)", _quota.subject(), v.limit)
    if ERROR_STYLE == "429":
        resp = make_response(jsonify(error="too_many_requests", detail=f"limit is {v.limit} requests per second"), 429)
        resp.headers["Retry-After"] = str(v.retry_after)
    elif ERROR_STYLE == "503":
        resp = make_response(jsonify(error="service_busy", detail="try again later"), 503)
    else:
        resp = make_response(jsonify(ok=False, shipment=None, error="request could not be processed now"), 200)
    return resp


@app.after_request
def quota_headers(resp):
    v = getattr(g, "quota", None)
    if v is not None and ERROR_STYLE == "429":
        resp.headers["X-RateLimit-Limit"] = str(v.limit)
        resp.headers["X-RateLimit-Remaining"] = str(v.remaining)
    return resp


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/shipments/<tracking>")
@metered(lambda: _quota, refuse)
def shipment(tracking: str):
    h = zlib.crc32(tracking.encode())
    events = [{"state": s, "hub": f"HUB-{(h >> i) % 30:02d}"} for i, s in enumerate(STATES[: 1 + h % len(STATES)])]
    return jsonify(ok=True, shipment={"tracking": tracking, "carrier": CARRIERS[h % 4],
                                      "status": events[-1]["state"], "events": events})
