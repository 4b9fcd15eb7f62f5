"""Museum kiosk backend (standard library): the touch screens list an exhibition's rooms and open
each room's exhibit notes. Each kiosk keeps one connection and the server tracks kiosk sessions."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import registry

IDLE_TIMEOUT = float(os.environ.get("KEEPALIVE_TIMEOUT", "2"))
log = logging.getLogger("kiosk")

EXHIBITIONS = {
    e: {"id": e, "title": f"Exhibition {e}", "rooms": [f"R{e}{r:02d}" for r in range(1, 9)]} for e in range(500)
}
NOTES = {room: {"room": room, "notes": [f"Object {room}-{i}: provenance and dating" for i in range(1, 6)]}
         for ex in EXHIBITIONS.values() for room in ex["rooms"]}


class KioskHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kiosk/1.4"
    timeout = IDLE_TIMEOUT

    def setup(self) -> None:
        super().setup()
        self.session_started = time.monotonic()
        self.served = 0

    def finish(self) -> None:
        registry.session_ended(self.client_address[0], self.served, time.monotonic() - self.session_started)
        super().finish()

    def do_GET(self) -> None:
        self.served += 1
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        if m := re.fullmatch(r"/exhibitions/(\d+)", self.path):
            ex = EXHIBITIONS.get(int(m[1]))
            return self.reply(200, ex) if ex else self.reply(404, {"error": "no such exhibition"})
        if m := re.fullmatch(r"/rooms/(R\d+)/notes", self.path):
            notes = NOTES.get(m[1])
            return self.reply(200, notes) if notes else self.reply(404, {"error": "no such room"})
        self.reply(404, {"error": "not found"})

    def reply(self, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.info("%s %s", self.address_string(), format % args)


def main() -> None:
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), KioskHandler)
    server.daemon_threads = True
    log.info("kiosk backend up, idle timeout %gs", IDLE_TIMEOUT)
    server.serve_forever()


if __name__ == "__main__":
    main()
