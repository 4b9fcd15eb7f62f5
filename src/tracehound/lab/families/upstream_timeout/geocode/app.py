"""Sign-up address check (Flask, requests): is this a deliverable address, and where is it."""

from __future__ import annotations

import logging
import os
import re

import requests
from flask import Flask, abort, jsonify, request

app = Flask(__name__)
GEOCODER = os.environ["GEOCODER_URL"]
READ_TIMEOUT = float(os.environ.get("GEOCODER_READ_TIMEOUT", "10"))
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")

if os.environ.get("LOG_STYLE", "plain") == "none":
    logging.disable(logging.CRITICAL)
else:
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s")

http = requests.Session()
http.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32))


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/signup/address-check")
def address_check():
    form = request.get_json(force=True)
    postcode = str(form.get("postcode", "")).upper().strip()
    if not POSTCODE.match(postcode):
        return jsonify(valid=False, reason="postcode"), 422
    query = f"{form.get('line1', '')}, {form.get('town', '')}, {postcode}"
    try:
        resp = http.get(f"{GEOCODER}/search", params={"q": query}, timeout=(1.0, READ_TIMEOUT))
    except requests.exceptions.Timeout:
        if ERROR_STYLE == "500":
            raise
        app.logger.warning("address check: geocoder gave no answer within %.1fs", READ_TIMEOUT)
        if ERROR_STYLE == "200":
            return jsonify(valid=None, message="We could not check your address, please try again")
        abort(504)
    hits = resp.json()["results"]
    best = max(hits, key=lambda h: h["confidence"]) if hits else None
    return jsonify(valid=best is not None and best["confidence"] > 0.8, location=best)
