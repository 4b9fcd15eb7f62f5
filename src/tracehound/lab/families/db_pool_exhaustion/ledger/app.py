"""Ledger API: account statements, settled by the database, served by FastAPI on async SQLAlchemy."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
               "msg": record.getMessage()}
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def _configure_logging() -> None:
    handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler(sys.stderr)
    if LOG_STYLE == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if LOG_STYLE != "none" else logging.CRITICAL)


_configure_logging()
log = logging.getLogger("ledger")

engine = create_async_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+asyncpg://", 1),
    pool_size=int(os.environ.get("POOL_SIZE", "5")),
    max_overflow=int(os.environ.get("POOL_OVERFLOW", "0")),
    pool_timeout=float(os.environ.get("POOL_TIMEOUT", "30")),
)
Session = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
SETTLE_MS = int(os.environ.get("WORK_MS", "150"))

app = FastAPI(title="ledger")


@app.exception_handler(Exception)
async def unexpected(request: Request, exc: Exception):
    log.exception("statement request failed: %s %s", request.method, request.url.path)
    if ERROR_STYLE == "503":
        return JSONResponse({"detail": "temporarily unavailable"}, status_code=503, headers={"Retry-After": "1"})
    if ERROR_STYLE == "json":
        return JSONResponse({"error": {"code": "LEDGER_UNAVAILABLE", "message": str(exc)[:200]}}, status_code=500)
    if ERROR_STYLE == "200":
        return JSONResponse({"ok": False, "error": type(exc).__name__})
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


@app.on_event("shutdown")
async def shutdown() -> None:
    await engine.dispose()


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/accounts/{account_id}/statement")
async def statement(account_id: int) -> dict:
    started = time.perf_counter()
    async with Session() as db:
        owner = await db.scalar(text("SELECT owner FROM accounts WHERE id = :id"), {"id": account_id})
        if owner is None:
            raise HTTPException(status_code=404, detail="no such account")
        row = (await db.execute(text("SELECT * FROM settle_statement(:id, :ms)"),
                                {"id": account_id, "ms": SETTLE_MS})).one()
    log.info("statement account=%s entries=%s in %.0f ms", account_id, row.n, (time.perf_counter() - started) * 1000)
    return {"ok": True, "account": account_id, "owner": owner,
            "statement": {"opening_cents": row.opening, "closing_cents": row.closing, "entries": row.n}}
