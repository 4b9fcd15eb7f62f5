"""The address provider's search API, as the checkout sees it: a match with a confidence, in about GEO_LATENCY_MS."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

LATENCY_S = int(os.environ.get("GEO_LATENCY_MS", "150")) / 1000


async def health(request):
    return JSONResponse({"status": "ok"})


async def search(request):
    q = request.query_params.get("q", "")
    await asyncio.sleep(LATENCY_S * random.uniform(0.8, 1.2))
    h = int(hashlib.md5(q.encode()).hexdigest()[:8], 16)
    return JSONResponse({"results": [{"label": q.title(), "confidence": 0.7 + (h % 30) / 100,
                                      "lat": 38 + (h % 1000) / 1000, "lon": -9 + (h % 777) / 1000}]})


app = Starlette(routes=[Route("/health", health), Route("/v1/search", search)])
