"""Courier route planner (aiohttp): every request plans one delivery round on one of a few
planner slots; the rest wait their turn, so a busy hour is slower but nothing is turned away."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time

from aiohttp import web

log = logging.getLogger("planner")
SLOTS = int(os.environ.get("PLANNER_SLOTS", "4"))
PLAN_MS = float(os.environ.get("PLAN_MS", "60"))

DEPOTS = {d: (52.40 + d / 100, 13.05 + d / 80) for d in range(1, 41)}


class Planner:
    """A fixed number of planning slots; a request waits for a free one as long as it takes."""

    def __init__(self, slots: int) -> None:
        self._slots = asyncio.Semaphore(slots)
        self.waiting = 0

    async def plan(self, depot: int, stops: int) -> list[dict]:
        self.waiting += 1
        if self.waiting > 3 * SLOTS and self.waiting % SLOTS == 0:
            log.warning("planner busy: %d rounds waiting for %d slots", self.waiting, SLOTS)
        try:
            async with self._slots:
                self.waiting -= 1
                started = time.perf_counter()
                await asyncio.sleep(PLAN_MS / 1000 * (0.8 + 0.1 * math.log2(stops + 1)))
                took = (time.perf_counter() - started) * 1000
        except BaseException:
            self.waiting -= 1
            raise
        lat, lon = DEPOTS[depot]
        log.debug("planned depot %s (%d stops) in %.0f ms", depot, stops, took)
        return [{"seq": i, "lat": round(lat + i * 0.003, 5), "lon": round(lon - i * 0.002, 5)} for i in range(stops)]


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def round_for(request: web.Request) -> web.Response:
    depot = int(request.match_info["depot"])
    if depot not in DEPOTS:
        raise web.HTTPNotFound(text='{"error": "unknown depot"}', content_type="application/json")
    try:
        stops = int(request.query.get("stops", "12"))
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "stops must be a number"}', content_type="application/json") from None
    if not 1 <= stops <= 60:
        raise web.HTTPBadRequest(text='{"error": "1 to 60 stops"}', content_type="application/json")
    route = await request.app["planner"].plan(depot, stops)
    return web.json_response({"depot": depot, "stops": len(route), "route": route})


async def start_planner(app: web.Application) -> None:
    app["planner"] = Planner(SLOTS)


def make_app() -> web.Application:
    app = web.Application()
    app.on_startup.append(start_planner)
    app.router.add_get("/health", health)
    app.router.add_get("/depots/{depot:\\d+}/round", round_for)
    return app


def main() -> None:
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")),
                access_log=None, print=None)


if __name__ == "__main__":
    main()
