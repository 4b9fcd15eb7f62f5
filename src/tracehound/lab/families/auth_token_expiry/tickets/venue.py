"""The venue's ticketing API (Starlette): OAuth refresh tokens, rotated on every use, and seat maps."""

from __future__ import annotations

import asyncio
import os
import secrets
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCESS_TTL_S = float(os.environ.get("ACCESS_TTL_S", "900"))
REUSE_INTERVAL_S = float(os.environ.get("REUSE_INTERVAL_S", "0"))
ISSUE_DELAY_S = 0.04
_refresh: dict[str, float | None] = {os.environ.get("VENUE_REFRESH_TOKEN", "rt-boxoffice-initial"): None}
_access: dict[str, float] = {}
ROWS = "ABCDEFGHJK"


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"up": True})


async def token(request: Request) -> JSONResponse:
    form = await request.form()
    presented = str(form.get("refresh_token", ""))
    if form.get("grant_type") != "refresh_token" or presented not in _refresh:
        return JSONResponse({"error": "invalid_grant", "error_description": "unknown refresh token"}, status_code=400)
    used_at = _refresh[presented]
    if used_at is not None and time.monotonic() - used_at > REUSE_INTERVAL_S:
        return JSONResponse({"error": "invalid_grant", "error_description": "refresh token already used"},
                            status_code=400)
    if used_at is None:
        _refresh[presented] = time.monotonic()
    await asyncio.sleep(ISSUE_DELAY_S)
    access, refresh = secrets.token_urlsafe(20), secrets.token_urlsafe(20)
    _access[access] = time.monotonic() + ACCESS_TTL_S
    _refresh[refresh] = None
    return JSONResponse({"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                         "expires_in": ACCESS_TTL_S})


async def seats(request: Request) -> JSONResponse:
    access = request.headers.get("authorization", "").removeprefix("Bearer ")
    if _access.get(access, 0.0) <= time.monotonic():
        return JSONResponse({"error": "invalid_token"}, status_code=401)
    performance = int(request.path_params["performance"])
    await asyncio.sleep(0.01)
    held = {(performance * 7 + n * 13) % 200 for n in range(90)}
    return JSONResponse({"performance": performance, "seats": [
        {"id": f"{ROWS[i // 20]}{i % 20 + 1}", "held": i in held} for i in range(200)]})


app = Starlette(routes=[Route("/health", health), Route("/oauth/token", token, methods=["POST"]),
                        Route("/v1/performances/{performance:int}/seats", seats)])
