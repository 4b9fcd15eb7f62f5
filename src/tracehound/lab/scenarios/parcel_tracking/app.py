"""Parcel tracking API of the delivery company: a customer's parcels and each parcel's scan events.

Standard library only (it runs on the depot boxes, where installing packages needs a ticket).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

from httpd import Handler, Server

KEEPALIVE_TIMEOUT = float(os.environ.get("KEEPALIVE_TIMEOUT", "5"))
DB_PATH = os.path.join(os.environ.get("DATA_DIR", "."), "tracking.db")

log = logging.getLogger("tracking")
_local = threading.local()

STATUSES = ["label_created", "collected", "at_depot", "in_transit", "out_for_delivery", "delivered"]
DEPOTS = ["Leeds", "Doncaster", "Nottingham", "Milton Keynes", "Croydon"]


def db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(DB_PATH)
        conn.row_factory = sqlite3.Row
    return conn


def seed() -> None:
    conn = sqlite3.connect(DB_PATH)
    conn.executescript("""
        CREATE TABLE IF NOT EXISTS parcels (id TEXT PRIMARY KEY, customer INTEGER, service TEXT, postcode TEXT);
        CREATE INDEX IF NOT EXISTS parcels_customer ON parcels (customer);
        CREATE TABLE IF NOT EXISTS events (parcel_id TEXT, at TEXT, status TEXT, place TEXT);
        CREATE INDEX IF NOT EXISTS events_parcel ON events (parcel_id, at);
    """)
    if conn.execute("SELECT count(*) FROM parcels").fetchone()[0] == 0:
        start = datetime(2031, 3, 2, 6, 0, tzinfo=timezone.utc)
        for customer in range(200):
            for n in range(6):
                pid = f"TRK{customer:05d}{n:02d}"
                conn.execute("INSERT INTO parcels VALUES (?, ?, ?, ?)",
                             (pid, customer, "next_day" if n % 2 else "standard", f"LS{customer % 30} {n}AB"))
                for k, status in enumerate(STATUSES[: 2 + (customer + n) % 5]):
                    at = start + timedelta(hours=5 * k + n)
                    conn.execute("INSERT INTO events VALUES (?, ?, ?, ?)",
                                 (pid, at.isoformat(), status, DEPOTS[(customer + k) % len(DEPOTS)]))
        conn.commit()
    conn.close()


class TrackingHandler(Handler):
    server_version = "tracking/2.3"

    def do_GET(self) -> None:
        if self.path == "/health":
            return self.send_json(200, {"status": "ok"})
        if m := re.fullmatch(r"/v1/customers/(\d+)/parcels", self.path):
            return self.customer_parcels(int(m[1]))
        if m := re.fullmatch(r"/v1/parcels/(TRK\d{7})", self.path):
            return self.parcel(m[1])
        self.send_json(404, {"error": "not found"})

    def customer_parcels(self, customer: int) -> None:
        rows = db().execute(
            """SELECT p.id, p.service, (SELECT status FROM events e WHERE e.parcel_id = p.id ORDER BY at DESC LIMIT 1)
               AS status FROM parcels p WHERE p.customer = ? ORDER BY p.id""", (customer,)).fetchall()
        self.send_json(200, {"customer": customer, "parcels": [dict(r) for r in rows]})

    def parcel(self, pid: str) -> None:
        p = db().execute("SELECT * FROM parcels WHERE id = ?", (pid,)).fetchone()
        if p is None:
            return self.send_json(404, {"error": f"no parcel {pid}"})
        events = db().execute("SELECT at, status, place FROM events WHERE parcel_id = ? ORDER BY at", (pid,))
        history = [dict(e) for e in events]
        self.send_json(200, {**dict(p), "status": history[-1]["status"], "events": history})

    def send_json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    seed()
    server = Server(TrackingHandler, "127.0.0.1", int(os.environ.get("PORT", "8080")), KEEPALIVE_TIMEOUT)
    server.serve_forever()


if __name__ == "__main__":
    main()
