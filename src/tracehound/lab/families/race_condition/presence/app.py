"""Who is viewing a document right now (FastAPI, plain def handlers): editors send heartbeats, the
sidebar asks for the list of viewers."""

from __future__ import annotations

import logging
import os
import time

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="presence")
STALE_AFTER = float(os.environ.get("STALE_AFTER", "30"))

if os.environ.get("LOG_STYLE", "plain") == "none":
    logging.getLogger("uvicorn.error").disabled = True


class Heartbeat(BaseModel):
    session: str
    user: str
    cursor: int = 0


# document id -> session id -> (user, cursor, last seen)
viewers: dict[str, dict[str, tuple[str, int, float]]] = {}


def _seed() -> None:
    now = time.time()
    for d in range(1, 4):
        viewers[f"doc-{d}"] = {f"seed-{d}-{i}": (f"user{i % 300}", i, now) for i in range(40_000)}


_seed()


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/documents/{doc}/heartbeat")
def heartbeat(doc: str, beat: Heartbeat):
    sessions = viewers.setdefault(doc, {})
    sessions[beat.session] = (beat.user, beat.cursor, time.time())
    return {"ok": True}


@app.get("/documents/{doc}/viewers")
def list_viewers(doc: str):
    sessions = viewers.get(doc, {})
    cutoff = time.time() - STALE_AFTER
    users: dict[str, int] = {}
    for user, cursor, seen in sessions.values():
        if seen >= cutoff:
            users[user] = max(users.get(user, 0), cursor)
    return {"document": doc, "viewers": sorted(users), "count": len(users)}
