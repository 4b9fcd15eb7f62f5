"""Marina berths (aiohttp): free berths on a pontoon for a given night and boat length, for the
harbour master's app and the visitors' booking page."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from datetime import date

from aiohttp import web

from store import Harbour

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
log = logging.getLogger("marina")
if LOG_STYLE != "none":
    logging.basicConfig(handlers=[logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE")
                                  else logging.StreamHandler(sys.stderr)],
                        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
else:
    logging.disable(logging.CRITICAL)

FREE_BERTHS = """
SELECT b.number, b.length_m, b.power FROM berths b
WHERE b.pontoon = %s AND b.length_m >= %s AND NOT EXISTS (
    SELECT 1 FROM bookings k WHERE k.pontoon = b.pontoon AND k.number = b.number AND %s >= k.arrives AND %s < k.leaves)
ORDER BY b.length_m, b.number
"""


async def harbour(app: web.Application) -> AsyncIterator[None]:
    app["db"] = Harbour(os.environ["DATABASE_URL"])
    yield
    await app["db"].close()


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def free(request: web.Request) -> web.Response:
    pontoon = request.match_info["pontoon"].upper()
    try:
        night = date.fromisoformat(request.query.get("night", date.today().isoformat()))
        length = float(request.query.get("length", "9"))
    except ValueError:
        return web.json_response({"error": "night is YYYY-MM-DD and length is metres"}, status=400)
    try:
        rows = await request.app["db"].rows(FREE_BERTHS, pontoon, length, night, night)
    except Exception as e:
        log.error("free berths for pontoon %s: %s", pontoon, e)
        if ERROR_STYLE == "200":
            return web.json_response({"pontoon": pontoon, "free": [], "message": "availability unknown"})
        return web.json_response({"error": "internal", "message": "could not read availability"}, status=500)
    return web.json_response({"pontoon": pontoon, "night": night.isoformat(), "free": [
        {"berth": f"{pontoon}{r['number']}", "length_m": float(r["length_m"]), "power": r["power"]} for r in rows]})


def main() -> None:
    app = web.Application()
    app.cleanup_ctx.append(harbour)
    app.router.add_get("/health", health)
    app.router.add_get("/pontoons/{pontoon}/free", free)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)


if __name__ == "__main__":
    main()
