"""Activity service: a member's recent activity, from the event store."""

from __future__ import annotations

import asyncio
import logging
import os
import random

from fastapi import FastAPI

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("activity")

app = FastAPI(title="activity")


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/v1/members/{member_id}/activity")
async def activity(member_id: int) -> dict:
    # The hourly rollup answers most reads; a read that lands while the rollup is being
    # rewritten falls back to scanning the raw events.
    if random.random() < 0.3:
        delay = random.uniform(2.4, 3.0)
        log.info("member %s: rollup busy, scanned raw events in %.1f s", member_id, delay)
    else:
        delay = random.uniform(0.01, 0.04)
    await asyncio.sleep(delay)
    return {
        "member_id": member_id,
        "items": [
            {"kind": "commented", "on": "Quarterly planning", "ago_min": 12},
            {"kind": "starred", "on": "Design system v3", "ago_min": 55},
            {"kind": "joined", "on": "Platform guild", "ago_min": 240},
        ],
    }
