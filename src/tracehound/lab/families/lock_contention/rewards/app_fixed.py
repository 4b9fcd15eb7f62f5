"""Rewards (Starlette, Redis): members spend loyalty points on partner vouchers."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import redis.asyncio as redis
from redis.exceptions import LockError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import vouchers

COSTS = {"coffee": 150, "cinema": 900, "museum": 600}
MEMBER_LOCK_WAIT_S = float(os.environ.get("LOCK_WAIT_S", "0.5"))
ERROR_STYLE = os.environ.get("ERROR_STYLE", "503")

logger = logging.getLogger("rewards")
if os.environ.get("LOG_STYLE", "plain") != "none":
    out = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler(sys.stderr)
    out.setFormatter(logging.Formatter("%(levelname)-7s %(asctime)s rewards | %(message)s"))
    logger.addHandler(out)
    logger.setLevel(logging.INFO)

db = redis.from_url(os.environ["REDIS_URL"], decode_responses=True, max_connections=64)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    for member in range(1, 201):
        await db.set(f"points:{member}", 10**9, nx=True)
    yield
    await db.aclose()


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def balance(request: Request) -> JSONResponse:
    member = request.path_params["member"]
    points = await db.get(f"points:{member}")
    if points is None:
        return JSONResponse({"error": "unknown member"}, status_code=404)
    return JSONResponse({"member": member, "points": int(points)})


def refused(member: int, exc: Exception) -> JSONResponse:
    logger.warning("redemption for member %s refused: %s", member, exc)
    if ERROR_STYLE == "json":
        return JSONResponse({"error": {"type": "redemption_failed", "detail": str(exc)}}, status_code=500)
    if ERROR_STYLE == "200":
        return JSONResponse({"redeemed": False, "voucher": None, "reason": "please try again later"})
    return JSONResponse({"error": "busy"}, status_code=503, headers={"Retry-After": "2"})


async def redeem(request: Request) -> JSONResponse:
    member = request.path_params["member"]
    body = await request.json()
    reward = body.get("reward", "coffee")
    cost = COSTS.get(reward)
    if cost is None:
        return JSONResponse({"error": f"unknown reward {reward!r}"}, status_code=422)
    points = await db.decrby(f"points:{member}", cost)
    if points < 0:
        await db.incrby(f"points:{member}", cost)
        return JSONResponse({"error": "not enough points", "points": points + cost}, status_code=409)
    sequence = await db.incr(f"redemptions:{member}")
    code = await vouchers.issue(member, reward, sequence)
    logger.info("member %s redeemed %s (%s points) -> %s", member, reward, cost, code)
    return JSONResponse({"redeemed": True, "member": member, "reward": reward, "voucher": code,
                         "points": points - cost})


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/members/{member:int}/points", balance),
        Route("/members/{member:int}/redemptions", redeem, methods=["POST"]),
    ],
    lifespan=lifespan,
)
