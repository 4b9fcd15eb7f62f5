"""A geocoding service (standard library HTTP server): postcode and street to coordinates."""

from __future__ import annotations

import json
import os
import random
import sys
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FUZZY_SHARE = float(os.environ.get("GEOCODER_FUZZY_SHARE", "0.12"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write("geocoder %s\n" % (format % args))

    def reply(self, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            return self.reply(200, {"ok": True})
        if url.path != "/search":
            return self.reply(404, {"error": "not found"})
        q = parse_qs(url.query).get("q", [""])[0]
        time.sleep(random.uniform(1.1, 1.9) if random.random() < FUZZY_SHARE else random.uniform(0.005, 0.03))
        h = zlib.crc32(q.encode())
        self.reply(200, {"query": q, "results": [
            {"lat": 51.0 + (h % 1000) / 1000, "lon": -1.5 + (h // 1000 % 1000) / 1000, "confidence": 0.93}]})


def main() -> None:
    if os.environ.get("LOG_FILE"):
        sys.stderr = open(os.environ["LOG_FILE"], "a", buffering=1)  # noqa: SIM115
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
