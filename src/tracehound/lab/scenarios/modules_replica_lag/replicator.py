"""Replica apply process: ships the primary's module change stream to the read replica."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("replicator")

APPLY_INTERVAL = float(os.environ.get("REPLICA_APPLY_INTERVAL", "0.05"))

APPLY = """
WITH batch AS (
    DELETE FROM module_changes RETURNING lsn, module_id
), applied AS (
    INSERT INTO replica.modules
    SELECT m.* FROM modules m WHERE m.id IN (SELECT module_id FROM batch)
    ON CONFLICT (id) DO UPDATE SET
        workspace = EXCLUDED.workspace, name = EXCLUDED.name, kind = EXCLUDED.kind,
        blocks = EXCLUDED.blocks, updated_at = EXCLUDED.updated_at
    RETURNING id
)
SELECT (SELECT count(*) FROM applied) AS rows, (SELECT max(lsn) FROM batch) AS lsn
"""

state = {"lsn": 0, "applied": 0, "last_apply": 0.0}


async def apply_loop(conn: asyncpg.Connection) -> None:
    while True:
        await asyncio.sleep(APPLY_INTERVAL)
        try:
            row = await conn.fetchrow(APPLY)
        except Exception:
            log.exception("apply failed")
            continue
        if row["lsn"] is not None:
            state["lsn"] = row["lsn"]
            state["applied"] += row["rows"]
        state["last_apply"] = time.time()


@asynccontextmanager
async def lifespan(app: FastAPI):
    conn = await asyncpg.connect(os.environ["DATABASE_URL"])
    task = asyncio.create_task(apply_loop(conn))
    log.info("replicator streaming, apply interval %.2fs", APPLY_INTERVAL)
    yield
    task.cancel()
    await conn.close()


app = FastAPI(title="replicator", lifespan=lifespan)


@app.get("/health")
async def health() -> dict:
    return {"status": "streaming", **state}
