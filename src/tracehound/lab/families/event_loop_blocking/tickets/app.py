"""Box office API (FastAPI): upcoming events, and live seat availability with prices per section."""

from __future__ import annotations

import logging
import os
import time

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

STYLE = os.environ.get("LOG_STYLE", "plain")
logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO if STYLE != "none" else logging.CRITICAL,
    format=('{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}'
            if STYLE == "json" else "%(asctime)s %(levelname)-5s %(name)s | %(message)s"),
)
log = logging.getLogger("boxoffice")

engine = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
                       pool_size=20, max_overflow=20, pool_timeout=30)
MODEL_MS = int(os.environ.get("PRICING_MS", "80"))
BUDGET_S = float(os.environ.get("REQUEST_BUDGET_S", "0"))
SECTIONS = ("A", "B", "C", "D")

app = FastAPI(title="boxoffice")


@app.middleware("http")
async def shed_late(request: Request, call_next):
    stamp = request.headers.get("x-request-start", "")
    if BUDGET_S > 0 and stamp.startswith("t="):
        waited = time.time() - float(stamp[2:])
        if waited > BUDGET_S:
            log.warning("dropped %s after %.2f s in the queue", request.url.path, waited)
            return JSONResponse({"error": {"code": "timeout", "message": "The request took too long, try again"}},
                                status_code=503)
    return await call_next(request)


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/events")
async def upcoming():
    with Session(engine) as db:
        rows = db.execute(text(
            "SELECT e.id, e.title, e.starts_at, v.name FROM events e JOIN venues v ON v.id = e.venue_id "
            "ORDER BY e.starts_at LIMIT 10")).all()
    return {"events": [{"id": r.id, "title": r.title, "starts_at": r.starts_at.isoformat(), "venue": r.name}
                       for r in rows]}


@app.get("/events/{event_id}/sections/{section}")
async def section(event_id: int, section: str):
    if section not in SECTIONS:
        raise HTTPException(404, "no such section")
    started = time.perf_counter()
    with Session(engine) as db:
        row = db.execute(text("SELECT * FROM quote_section(:e, :s, :ms)"),
                         {"e": event_id, "s": section, "ms": MODEL_MS}).one()
    log.info("event %s section %s: %s free, quoted in %.0f ms", event_id, section, row.free,
             (time.perf_counter() - started) * 1000)
    return {"event": event_id, "section": section, "free": row.free,
            "price": {"from_cents": row.from_cents, "to_cents": row.to_cents}}
