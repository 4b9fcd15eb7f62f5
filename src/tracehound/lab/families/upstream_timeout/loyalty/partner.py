"""The airline partner's miles API (Starlette): a member's balance and tier."""

from __future__ import annotations

import asyncio
import os
import random

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CATCH_UP_SHARE = float(os.environ.get("PARTNER_CATCH_UP_SHARE", "0.08"))


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"up": True})


async def balance(request: Request) -> JSONResponse:
    member = request.path_params["member"]
    await asyncio.sleep(random.uniform(1.3, 2.2) if random.random() < CATCH_UP_SHARE else random.uniform(0.01, 0.06))
    digits = sum(map(ord, member))
    tier = ("blue", "silver", "gold")[digits % 3]
    return JSONResponse({"member": member, "miles": digits * 37 % 90000, "tier": tier})


app = Starlette(routes=[Route("/health", health), Route("/members/{member}/balance", balance)])
