"""Cycling forum: member cards (handle, posts, likes, favourite forum) for the thread pages."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
from cards import CardStore, client_from_env
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")


class OneLineJson(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"@timestamp": self.formatTime(record), "severity": record.levelname,
                           "component": record.name, "message": record.getMessage()})


log = logging.getLogger("forum.cards")
if LOG_STYLE != "none":
    out: logging.Handler = (logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE")
                            else logging.StreamHandler(sys.stderr))
    plain = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s")
    out.setFormatter(OneLineJson() if LOG_STYLE == "json" else plain)
    log.addHandler(out)
    log.setLevel(logging.INFO)
if LOG_STYLE != "plain":
    logging.getLogger("uvicorn.error").disabled = True


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    db = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=8)
    cache = client_from_env()
    app.state.cards = CardStore(db, cache)
    yield
    await cache.aclose()
    await db.close()


app = FastAPI(title="forum-cards", lifespan=lifespan)


def store(request: Request) -> CardStore:
    return request.app.state.cards


if ERROR_STYLE == "json":
    @app.exception_handler(Exception)
    async def card_failed(request: Request, exc: Exception) -> JSONResponse:
        log.error("member card could not be built (%s)", request.url.path)
        return JSONResponse({"error": "card_unavailable", "request": request.url.path}, status_code=500)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/members/{member_id}/card")
async def member_card(member_id: int, cards: Annotated[CardStore, Depends(store)], viewer: int = 0) -> dict:
    started = time.perf_counter()
    card = await cards.card(member_id)
    if card is None:
        raise HTTPException(404, "no such member")
    if viewer:
        await cards.touch(viewer)
    log.info("card %s in %.1f ms", member_id, (time.perf_counter() - started) * 1000)
    return {"member": member_id, "card": card}
