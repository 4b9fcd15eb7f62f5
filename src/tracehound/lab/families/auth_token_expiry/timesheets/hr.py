"""The HR system's API (the standard library's threading server): client-credentials tokens, then people data."""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

TOKEN_LIFETIME_S = float(os.environ.get("HR_TOKEN_LIFETIME_S", "3600"))
CLIENTS = {"timesheets": "ts-9f2c6e1d"}
_tokens: dict[str, float] = {}
_lock = threading.Lock()
FIRST = ["Amara", "Bill", "Chen", "Dara", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas"]
LAST = ["Okafor", "Walsh", "Li", "Byrne", "Yilmaz", "Adeyemi", "Lund", "Moreau", "Silva", "Berg"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            return self.send(200, {"status": "up"})
        parts = self.path.strip("/").split("/")
        if len(parts) != 5 or parts[:3] != ["api", "v2", "managers"] or parts[4] != "reports":
            return self.send(404, {"error": "not_found"})
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        with _lock:
            expiry = _tokens.get(token)
        if expiry is None or expiry <= time.time():
            return self.send(401, {"error": "invalid_token", "error_description": "The access token expired"},
                             {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        seed = sum(map(ord, parts[3]))
        reports = [{"employee_id": f"E{(seed * 31 + i * 17) % 9000 + 1000}",
                    "display_name": f"{FIRST[(seed + i) % 10]} {LAST[(seed * i + 3) % 10]}",
                    "contract_hours": (37.5, 30.0, 22.5)[(seed + i) % 3]} for i in range(6)]
        time.sleep(0.005)
        self.send(200, {"manager": parts[3], "reports": reports})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        if self.path != "/oauth2/token":
            return self.send(404, {"error": "not_found"})
        basic = self.headers.get("Authorization", "Basic ")[6:]
        user, _, password = base64.b64decode(basic or b"").decode().partition(":")
        if form.get("grant_type") != ["client_credentials"] or CLIENTS.get(user) != password:
            return self.send(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        with _lock:
            _tokens[token] = time.time() + TOKEN_LIFETIME_S
        self.send(200, {"access_token": token, "token_type": "Bearer", "expires_in": int(TOKEN_LIFETIME_S)})


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()
