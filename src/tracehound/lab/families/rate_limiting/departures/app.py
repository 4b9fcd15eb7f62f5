"""Departure boards for a regional transit network (Starlette): the next departures, service
alerts and platform changes of a stop, read from an in-memory timetable refreshed at start."""

from __future__ import annotations

import datetime as dt
import logging
import os
import random

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("departures")

LINES = ("S1", "S3", "RE7", "RB23", "U2", "Bus 142")


def build_timetable() -> dict[int, list[dict]]:
    rng = random.Random(7)
    table: dict[int, list[dict]] = {}
    for stop in range(1, 801):
        rows = []
        for _ in range(40):
            rows.append({"line": rng.choice(LINES), "minute_of_day": rng.randrange(300, 1440),
                         "platform": rng.randrange(1, 9), "towards": f"Stop {rng.randrange(1, 801)}"})
        table[stop] = sorted(rows, key=lambda r: r["minute_of_day"])
    return table


TIMETABLE = build_timetable()
log.info("timetable loaded: %d stops", len(TIMETABLE))


def stop_of(request: Request) -> list[dict]:
    rows = TIMETABLE.get(int(request.path_params["stop"]))
    if rows is None:
        raise HTTPException(404, "unknown stop")
    return rows


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def board(request: Request) -> JSONResponse:
    rows = stop_of(request)
    now = dt.datetime.now(dt.UTC)
    minute = now.hour * 60 + now.minute
    upcoming = [r for r in rows if r["minute_of_day"] >= minute][:10] or rows[:10]
    return JSONResponse({"stop": request.path_params["stop"], "departures": upcoming})


async def alerts(request: Request) -> JSONResponse:
    stop = int(request.path_params["stop"])
    items = [{"line": LINES[stop % len(LINES)], "text": "Replacement buses between 22:00 and 04:00"}] if stop % 5 == 0 else []
    return JSONResponse({"stop": stop, "alerts": items})


async def platforms(request: Request) -> JSONResponse:
    rows = stop_of(request)
    return JSONResponse({"stop": request.path_params["stop"],
                         "platforms": sorted({r["platform"] for r in rows})})


app = Starlette(routes=[
    Route("/health", health),
    Route("/stops/{stop:int}/board", board),
    Route("/stops/{stop:int}/alerts", alerts),
    Route("/stops/{stop:int}/platforms", platforms),
])
