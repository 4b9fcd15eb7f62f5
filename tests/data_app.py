"""A small API for data-driven load tests: customer records of which a few always fail, an endpoint that fails
every 7th request whatever the record, and an echo. Logs what it served (path, query, X-Region, body)."""

from __future__ import annotations

import itertools
import json
import os

from fastapi import FastAPI, Request, Response

app = FastAPI()
_served = itertools.count()
_log = open(os.environ.get("DATA_APP_LOG", os.devnull), "a", buffering=1)  # noqa: SIM115  # open for the app's life


def broken(customer: int) -> bool:
    """The records that fail every time: 3 of the ids 1..400 (7, 140, 273)."""
    return customer % 133 == 7


@app.middleware("http")
async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
    body = await request.body()
    response = await call_next(request)
    _log.write(json.dumps({"method": request.method, "path": request.url.path, "query": request.url.query,
                           "region": request.headers.get("x-region"), "body": body.decode(),
                           "status": response.status_code}) + "\n")
    return response


@app.get("/customers/{customer}")
async def customer(customer: int, response: Response) -> dict:
    if broken(customer):
        response.status_code = 500
        return {"error": "corrupt record"}
    return {"id": customer}


@app.get("/flaky/{customer}")
async def flaky(customer: int, response: Response) -> dict:
    """Fails every 7th request it serves, whatever the customer: failures that do not follow the data."""
    if next(_served) % 7 == 6:
        response.status_code = 503
        return {"error": "busy"}
    return {"id": customer}


@app.api_route("/echo/{rest:path}", methods=["GET", "POST"])
async def echo(rest: str) -> dict:
    return {"ok": True}
