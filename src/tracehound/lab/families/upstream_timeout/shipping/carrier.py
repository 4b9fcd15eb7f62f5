"""The carrier's rating API (a sandbox): prices a parcel for each service level."""

from __future__ import annotations

import asyncio
import logging
import os
import random

from fastapi import FastAPI
from pydantic import BaseModel

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s carrier %(levelname)s %(message)s")
log = logging.getLogger("carrier")
LIVE_SHARE = float(os.environ.get("CARRIER_LIVE_SHARE", "0.1"))

app = FastAPI(title="carrier rating")


class Parcel(BaseModel):
    origin: str
    destination: str
    weight_g: int


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/v2/rates")
async def rates(parcel: Parcel) -> dict:
    if random.random() < LIVE_SHARE:
        took = random.uniform(1.4, 2.4)
        log.info("live rating %s -> %s took %.2fs", parcel.origin, parcel.destination, took)
    else:
        took = random.uniform(0.01, 0.05)
    await asyncio.sleep(took)
    base = 290 + parcel.weight_g // 100 * 12
    return {"rates": [{"level": "economy", "cents": base, "days": 4},
                      {"level": "express", "cents": base * 2 + 150, "days": 1}]}
