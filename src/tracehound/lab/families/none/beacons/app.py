"""Fitness-tracker telemetry (FastAPI, redis-py asyncio): devices post heart-rate beacons and read
their day's summary. Every device has a quota of beacons per minute, counted in Redis, and each
answer says how much of it is left."""

from __future__ import annotations

import logging
import os
import time
from contextlib import asynccontextmanager

import redis.asyncio as redis
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, Field

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("beacons")
PER_MINUTE = int(os.environ.get("BEACONS_PER_MINUTE", "2400"))


class Beacon(BaseModel):
    bpm: int = Field(ge=20, le=250)
    steps: int = Field(ge=0)


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.r = redis.from_url(os.environ["REDIS_URL"], max_connections=64, decode_responses=True)
    yield
    await app.state.r.aclose()


app = FastAPI(title="beacons", lifespan=lifespan)


async def spend_quota(r: redis.Redis, device: str, response: Response) -> None:
    window = int(time.time() // 60)
    key = f"quota:{device}:{window}"
    async with r.pipeline(transaction=True) as p:
        used, _ = await p.incr(key).expire(key, 90).execute()
    left = max(PER_MINUTE - used, 0)
    response.headers["X-RateLimit-Limit"] = str(PER_MINUTE)
    response.headers["X-RateLimit-Remaining"] = str(left)
    response.headers["X-RateLimit-Reset"] = str((window + 1) * 60)
    if used > PER_MINUTE:
        log.warning("device %s over its quota (%d beacons this minute)", device, used)
        raise HTTPException(429, "beacon quota exceeded", headers={"Retry-After": str((window + 1) * 60 - int(time.time()))})
    if used == PER_MINUTE // 10:
        log.info("device %s has used 10%% of its beacon quota", device)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/devices/{device}/beacons", status_code=202)
async def post_beacon(device: str, beacon: Beacon, request: Request, response: Response) -> dict:
    r = request.app.state.r
    await spend_quota(r, device, response)
    day = time.strftime("%Y-%m-%d")
    async with r.pipeline(transaction=False) as p:
        await (p.hincrby(f"day:{device}:{day}", "beacons", 1)
                .hincrby(f"day:{device}:{day}", "steps", beacon.steps)
                .hset(f"day:{device}:{day}", "last_bpm", beacon.bpm)
                .execute())
    return {"accepted": True}


@app.get("/devices/{device}/today")
async def today(device: str, request: Request, response: Response) -> dict:
    r = request.app.state.r
    await spend_quota(r, device, response)
    summary = await r.hgetall(f"day:{device}:{time.strftime('%Y-%m-%d')}")
    return {"device": device, "beacons": int(summary.get("beacons", 0)), "steps": int(summary.get("steps", 0)),
            "last_bpm": int(summary["last_bpm"]) if "last_bpm" in summary else None}
