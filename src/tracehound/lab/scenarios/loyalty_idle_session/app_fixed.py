"""Loyalty service: a member's points balance and latest entries, for the storefront's account page."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("loyalty")

DATABASE_URL = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1)
engine = create_async_engine(DATABASE_URL, pool_size=5, max_overflow=5, pool_pre_ping=True)

BALANCE = text("""
    SELECT m.id, m.tier, COALESCE(SUM(p.points), 0) AS points
    FROM members m LEFT JOIN point_entries p ON p.member_id = m.id
    WHERE m.id = :member_id GROUP BY m.id, m.tier
""")
LATEST = text("""
    SELECT points, reason, created_at FROM point_entries
    WHERE member_id = :member_id ORDER BY created_at DESC LIMIT 5
""")


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def points(request: Request) -> JSONResponse:
    member_id = int(request.path_params["member_id"])
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(BALANCE, {"member_id": member_id})).first()
            if row is None:
                return JSONResponse({"detail": "member not found"}, status_code=404)
            latest = (await conn.execute(LATEST, {"member_id": member_id})).all()
    except DBAPIError:
        log.exception("member %s: points lookup failed", member_id)
        return JSONResponse({"detail": "internal error"}, status_code=500)
    return JSONResponse({
        "member": row.id, "tier": row.tier, "points": int(row.points),
        "latest": [{"points": e.points, "reason": e.reason, "at": e.created_at.isoformat()} for e in latest],
    })


@asynccontextmanager
async def lifespan(app: Starlette):
    yield
    await engine.dispose()


app = Starlette(routes=[Route("/health", health), Route("/api/members/{member_id:int}/points", points)],
                lifespan=lifespan)
