"""Service-desk queue (FastAPI, redis-py asyncio): visitors take a numbered ticket at a branch."""

from __future__ import annotations

import json
import logging
import os
from datetime import date

import redis.asyncio as redis
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

r = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
app = FastAPI(title="queue")
ERRORS = os.environ.get("ERROR_STYLE", "409")
LOGS = os.environ.get("LOG_STYLE", "plain")

log = logging.getLogger("queue.tickets")
if LOGS != "none":
    _h = logging.StreamHandler()
    _h.setFormatter(logging.Formatter('{"level":"%(levelname)s","logger":"%(name)s","message":%(message)s}'
                                      if LOGS == "json" else "%(levelname)s %(name)s - %(message)s"))
    log.addHandler(_h)
    log.setLevel(logging.INFO)


def say(text: str) -> str:
    return json.dumps(text) if LOGS == "json" else text


class Visit(BaseModel):
    visitor: str
    service: str = "general"


class TicketIssuedTwice(Exception):
    pass


@app.exception_handler(TicketIssuedTwice)
async def issued_twice(request, exc: TicketIssuedTwice):
    log.error(say(f"could not issue ticket: {exc}"))
    if ERRORS == "409":
        return JSONResponse({"detail": "ticket number already taken"}, status_code=409)
    if ERRORS == "200":
        return JSONResponse({"ticket": None, "message": "We could not print your ticket, please try again."})
    raise exc


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/branches/{branch}/tickets")
async def take_ticket(branch: str, visit: Visit):
    day = date.today().isoformat()
    counter = f"queue:{branch}:{day}:last"
    last = await r.get(counter)
    number = int(last or 0) + 1
    minutes = int(await r.hget(f"branch:{branch}", f"minutes:{visit.service}") or 6)
    await r.set(counter, number, ex=86_400)
    if not await r.set(f"queue:{branch}:{day}:{number}", visit.visitor, nx=True, ex=86_400):
        raise TicketIssuedTwice(f"number {number} at {branch} is already held")
    served = int(await r.get(f"queue:{branch}:{day}:served") or 0)
    ahead = max(0, number - served - 1)
    return {"ticket": f"{branch[:1].upper()}{number:03d}", "number": number, "ahead": ahead,
            "estimated_wait_minutes": ahead * minutes}


@app.post("/branches/{branch}/served")
async def next_visitor(branch: str):
    day = date.today().isoformat()
    served = await r.incr(f"queue:{branch}:{day}:served")
    await r.expire(f"queue:{branch}:{day}:served", 86_400)
    holder = await r.get(f"queue:{branch}:{day}:{served}")
    if holder is None:
        raise HTTPException(404, "nobody holds that number")
    return {"now_serving": served, "visitor": holder}
