"""Product search API for partner storefronts; every partner calls it with its own API key."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse

from ratelimit import FixedWindowLimiter

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("search")

CATALOG = [
    {"sku": f"SKU-{i:05d}", "title": f"{color} {kind} {i}", "price_cents": 500 + (i * 37) % 9000}
    for i, (color, kind) in enumerate(
        (c, k) for c in ("red", "blue", "green", "black", "white") for k in ("shoe", "shirt", "lamp", "mug", "bag") * 40
    )
]

REQUESTS_PER_SECOND = 20
limiter = FixedWindowLimiter(limit=REQUESTS_PER_SECOND, window=1.0)

app = FastAPI(title="search")


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/v2/search")
def search(
    q: str = Query(..., min_length=1),
    limit: int = Query(20, le=100),
    x_api_key: str = Header(...),
) -> JSONResponse:
    allowed, remaining, reset = limiter.hit(x_api_key)
    headers = {"X-RateLimit-Limit": str(limiter.limit), "X-RateLimit-Remaining": str(remaining)}
    if not allowed:
        log.warning("rate limited key=%s…: over %d requests/s", x_api_key[:6], limiter.limit)
        headers["Retry-After"] = limiter.retry_after(reset)
        return JSONResponse({"error": "too many requests"}, status_code=429, headers=headers)
    words = q.lower().split()
    hits = [p for p in CATALOG if all(w in p["title"] for w in words)]
    return JSONResponse({"query": q, "total": len(hits), "results": hits[:limit]}, headers=headers)
