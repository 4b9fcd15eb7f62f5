"""Document archive (Flask): documents by id, for holders of an API token."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time

from flask import Flask, abort, jsonify, request

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(message)s")
log = logging.getLogger("archive")

app = Flask(__name__)
CLIENTS = {f"client{i}": f"secret-{i}" for i in range(256)}
TOKENS: dict[str, tuple[str, float]] = {}
DOCUMENTS = {i: {"id": i, "title": f"Minutes {i}", "pages": 1 + i % 40} for i in range(1, 5001)}


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.post("/oauth/token")
def token():
    body = request.get_json(silent=True) or {}
    expected = CLIENTS.get(body.get("client_id", ""))
    if expected is None or not hmac.compare_digest(expected, body.get("client_secret", "")):
        log.info("token refused for %r", body.get("client_id"))
        return jsonify(error="invalid_client"), 401
    value = secrets.token_urlsafe(24)
    TOKENS[value] = (body["client_id"], time.time() + 3600)
    return jsonify(access_token=value, token_type="Bearer", expires_in=3600)


def client() -> str:
    header = request.headers.get("Authorization", "")
    held = TOKENS.get(header.removeprefix("Bearer ").strip())
    if held is None or held[1] < time.time():
        log.info("unauthenticated request to %s", request.path)
        abort(401)
    return held[0]


@app.get("/documents/<int:doc_id>")
def document(doc_id: int):
    who = client()
    doc = DOCUMENTS.get(doc_id)
    if doc is None:
        log.info("%s asked for unknown document %s", who, doc_id)
        abort(404)
    return jsonify(doc)
