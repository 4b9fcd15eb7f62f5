"""Delivery route planner: the day's stop order for a depot's vans, as a plain WSGI application."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import time

STYLE = os.environ.get("LOG_STYLE", "plain")
logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format=('{"ts":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}'
            if STYLE == "json" else "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"),
)
log = logging.getLogger("planner")
if STYLE == "none":
    log.disabled = True

#: Stops per depot on an ordinary weekday; the central hub serves the whole city.
DEPOTS = {1: 60, 2: 90, 3: 45, 4: 120, 9: int(os.environ.get("HUB_STOPS", "2400"))}
ROUTE = re.compile(r"^/depots/(\d+)/route$")


def stops_of(depot: int) -> list[tuple[float, float]]:
    rng = random.Random(depot * 7919)
    return [(rng.uniform(0, 30), rng.uniform(0, 30)) for _ in range(DEPOTS[depot])]


def plan(stops: list[tuple[float, float]]) -> tuple[list[int], float]:
    """Greedy nearest-neighbour tour from the depot (stop 0): the order the drivers follow."""
    left = set(range(1, len(stops)))
    order, here, km = [0], 0, 0.0
    while left:
        x, y = stops[here]
        nxt = min(left, key=lambda i: math.hypot(stops[i][0] - x, stops[i][1] - y))
        km += math.hypot(stops[nxt][0] - x, stops[nxt][1] - y)
        left.remove(nxt)
        order.append(nxt)
        here = nxt
    return order, km


def reply(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        return reply(start_response, "200 OK", {"status": "ok"})
    m = ROUTE.match(path)
    if m is None or int(m.group(1)) not in DEPOTS:
        return reply(start_response, "404 Not Found", {"error": "not_found"})
    depot = int(m.group(1))
    started = time.perf_counter()
    order, km = plan(stops_of(depot))
    vans = max(1, len(order) // 40)
    legs = [order[i::vans][:5] for i in range(vans)]
    log.info("depot %d: planned %d stops for %d vans, %.1f km, in %.0f ms",
             depot, len(order), vans, km, (time.perf_counter() - started) * 1000)
    return reply(start_response, "200 OK", {"depot": depot, "stops": len(order), "vans": vans,
                                            "km": round(km, 1), "first_legs": legs[:3]})
