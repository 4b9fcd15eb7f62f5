"""A stand-in for the third-party geocoding provider: answers address lookups, and counts each API
key's calls in a sliding one-second window against its plan's quota (429 with Retry-After beyond it)."""

from __future__ import annotations

import asyncio
import collections
import time

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

PLANS = {"free": 8, "business": 500}
app = FastAPI(title="geocoding provider")
_calls: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)


def plan_of(key: str) -> int:
    return PLANS.get(key.split("_", 1)[0], 0)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/v1/geocode")
async def geocode(q: str, authorization: str = Header("")) -> JSONResponse:
    key = authorization.removeprefix("Key ").strip()
    quota = plan_of(key)
    if quota == 0:
        return JSONResponse({"error": "invalid key"}, status_code=403)
    now = time.monotonic()
    window = _calls[key]
    while window and window[0] <= now - 1.0:
        window.popleft()
    if len(window) >= quota:
        return JSONResponse({"error": "quota exceeded", "plan_rps": quota}, status_code=429,
                            headers={"Retry-After": "1"})
    window.append(now)
    await asyncio.sleep(0.02)
    h = sum(map(ord, q))
    return JSONResponse({"results": [{"lat": 48 + h % 500 / 1000, "lon": 11 + h % 700 / 1000,
                                      "confidence": 0.9, "formatted": q.title()}]})
