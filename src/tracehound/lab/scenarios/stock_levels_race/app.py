"""Stock levels of the main warehouse, served from the inventory export of the warehouse system."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, jsonify

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("stock")

#: The warehouse system rewrites its export continuously; serve a reading for half a second at most.
MAX_AGE_S = 0.5
SKUS = 48

app = Flask(__name__)


def read_export() -> list[dict[str, object]]:
    """One row per SKU from the export (the file share takes about 20 ms to read)."""
    time.sleep(0.02)
    return [{"sku": f"SKU-{i:05d}", "on_hand": (i * 37) % 500, "reserved": (i * 11) % 40, "bin": f"A{i % 12:02d}"}
            for i in range(SKUS)]


_levels: list[dict[str, object]] = read_export()
_read_at = time.monotonic()


def current_levels() -> list[dict[str, object]]:
    global _read_at
    if time.monotonic() - _read_at > MAX_AGE_S:
        _read_at = time.monotonic()
        _levels.clear()
        _levels.extend(read_export())
    return _levels


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/stock")
def stock():
    levels = current_levels()
    return jsonify(warehouse="main", levels=levels, count=len(levels))
