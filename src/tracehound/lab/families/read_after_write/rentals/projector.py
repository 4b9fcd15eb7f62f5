"""Card projector: rebuilds the listing cards of every listing edited since its last card."""

from __future__ import annotations

import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"), level=logging.INFO,
    format="%(asctime)s %(levelname)s projector %(message)s",
)
log = logging.getLogger("projector")

EVERY = float(os.environ.get("SYNC_EVERY_MS", "250")) / 1000

PROJECT = """
WITH touched AS (
    UPDATE listings SET carded_at = clock_timestamp()
    WHERE carded_at IS NULL OR carded_at < updated_at
    RETURNING id, host, title, city, nightly_rate, status
)
INSERT INTO listing_cards AS c (listing_id, host, headline, city, nightly_rate, status, badges, refreshed_at)
SELECT id, host, title || ' in ' || city, city, nightly_rate, status,
       CASE WHEN nightly_rate < 80 THEN '["good value"]'::jsonb ELSE '[]'::jsonb END, clock_timestamp()
FROM touched
ON CONFLICT (listing_id) DO UPDATE SET
    host = EXCLUDED.host, headline = EXCLUDED.headline, city = EXCLUDED.city,
    nightly_rate = EXCLUDED.nightly_rate, status = EXCLUDED.status, badges = EXCLUDED.badges,
    refreshed_at = EXCLUDED.refreshed_at
"""

stats = {"runs": 0, "cards": 0}


def project_forever() -> None:
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        while True:
            started = time.monotonic()
            try:
                cur = conn.execute(PROJECT)
                stats["runs"] += 1
                stats["cards"] += max(cur.rowcount, 0)
            except psycopg.Error:
                log.exception("projection run failed")
            time.sleep(max(0.0, EVERY - (time.monotonic() - started)))


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f'{{"status": "ok", "runs": {stats["runs"]}, "cards": {stats["cards"]}}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    threading.Thread(target=project_forever, name="projector", daemon=True).start()
    log.info("projecting listing cards every %.0f ms", EVERY * 1000)
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Health).serve_forever()


if __name__ == "__main__":
    main()
