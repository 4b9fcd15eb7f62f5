"""Warehouse picking service (aiohttp): pick lists for the handheld scanners, in walking order."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from aiohttp import web
from psycopg_pool import ConnectionPool

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
if LOG_STYLE != "none":
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(name)s %(levelname)s %(message)s")
log = logging.getLogger("picking")

ENGINE_MS = int(os.environ.get("SLOTTING_MS", "100"))
db = ConnectionPool(os.environ["DATABASE_URL"], min_size=2, max_size=32, open=False)


def note(event: str, **fields) -> None:
    if LOG_STYLE == "json":
        log.info(json.dumps({"ts": round(time.time(), 3), "event": event, **fields}))
    else:
        log.info("%s %s", event, " ".join(f"{k}={v}" for k, v in fields.items()))


def fetch_pick_path(order: int) -> list[dict]:
    with db.connection() as conn:
        rows = conn.execute("SELECT * FROM pick_path(%s, %s)", (order, ENGINE_MS)).fetchall()
    return [{"line": r[0], "sku": r[1], "qty": r[2], "location": r[3], "zone": r[4], "aisle": r[5]} for r in rows]


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def scanner(request: web.Request) -> web.Response:
    return web.json_response({"scanner": request.match_info["scanner"], "zone": "Z1", "battery": 87,
                              "firmware": "4.2.1"})


async def pick_list(request: web.Request) -> web.Response:
    order = int(request.match_info["order"])
    started = time.perf_counter()
    picks = fetch_pick_path(order)
    if not picks:
        raise web.HTTPNotFound(text=json.dumps({"error": "unknown order"}), content_type="application/json")
    picks.sort(key=lambda p: (p["zone"], p["aisle"]))
    note("pick_list", order=order, lines=len(picks), ms=round((time.perf_counter() - started) * 1000))
    return web.json_response({"order": order, "picks": picks})


async def open_pool(app: web.Application) -> None:
    db.open(wait=True)


async def close_pool(app: web.Application) -> None:
    db.close()


def make_app() -> web.Application:
    app = web.Application()
    app.on_startup.append(open_pool)
    app.on_cleanup.append(close_pool)
    app.router.add_get("/health", health)
    app.router.add_get("/scanners/{scanner}", scanner)
    app.router.add_get("/orders/{order:\\d+}/picks", pick_list)
    return app


def main() -> None:
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)


if __name__ == "__main__":
    sys.exit(main())
