"""Tax quote service: wraps the legacy tax engine, which takes about 300 ms per calculation."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, jsonify, request

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("taxquote")

RATES = {"DE": 0.19, "FR": 0.20, "NL": 0.21, "IT": 0.22, "ES": 0.21, "AT": 0.20}

app = Flask(__name__)


def legacy_tax_engine(country: str, net_cents: int, category: str) -> dict:
    """The legacy engine recomputes its jurisdiction tables on every call: slow, but steady."""
    time.sleep(0.3)
    rate = RATES.get(country, 0.0)
    if category == "books":
        rate = round(rate / 2, 3)
    return {"rate": rate, "tax_cents": round(net_cents * rate)}


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/quote")
def quote():
    country = request.args.get("country", "DE").upper()
    net = request.args.get("net_cents", type=int, default=0)
    category = request.args.get("category", "general")
    if country not in RATES:
        return jsonify(error=f"unsupported country {country}"), 422
    result = legacy_tax_engine(country, net, category)
    return jsonify(country=country, net_cents=net, gross_cents=net + result["tax_cents"], **result)
