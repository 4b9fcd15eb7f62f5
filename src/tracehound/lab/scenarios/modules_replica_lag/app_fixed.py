"""Canvas API: agile modules are created in a workspace, then loaded into the schematic canvas."""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from db import create_pools

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("canvas")

MODULE = "SELECT id, workspace, name, kind, blocks, updated_at FROM modules WHERE id = $1"


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.primary, app.state.replica = await create_pools()
    log.info("canvas api ready")
    yield
    await app.state.replica.close()
    await app.state.primary.close()


app = FastAPI(title="canvas", lifespan=lifespan)


class ModuleIn(BaseModel):
    workspace: str
    name: str = Field(min_length=1, max_length=120)
    kind: str = "sprint-board"
    blocks: list[dict] = []


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/modules", status_code=201)
async def create_module(body: ModuleIn, request: Request) -> dict:
    async with request.app.state.primary.acquire() as conn:
        row = await conn.fetchrow(
            "INSERT INTO modules (workspace, name, kind, blocks) VALUES ($1, $2, $3, $4::jsonb) RETURNING id, created_at",
            body.workspace, body.name, body.kind, json.dumps(body.blocks),
        )
    log.info("module %s created in %s", row["id"], body.workspace)
    return {"id": row["id"], "workspace": body.workspace, "name": body.name, "created_at": row["created_at"].isoformat()}


@app.get("/workspaces/{workspace}/modules")
async def list_modules(workspace: str, request: Request, limit: int = 50) -> list[dict]:
    async with request.app.state.replica.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, name, kind, updated_at FROM modules WHERE workspace = $1 ORDER BY updated_at DESC LIMIT $2",
            workspace, limit,
        )
    return [{"id": r["id"], "name": r["name"], "kind": r["kind"], "updated_at": r["updated_at"].isoformat()} for r in rows]


@app.get("/modules/{module_id}")
async def load_module(module_id: int, request: Request) -> dict:
    async with request.app.state.replica.acquire() as conn:
        row = await conn.fetchrow(MODULE, module_id)
    if row is None:
        async with request.app.state.primary.acquire() as conn:
            row = await conn.fetchrow(MODULE, module_id)
    if row is None:
        log.warning("load of module %s: not found", module_id)
        raise HTTPException(status_code=404, detail="module not found")
    return {
        "id": row["id"],
        "workspace": row["workspace"],
        "name": row["name"],
        "kind": row["kind"],
        "canvas": {"blocks": json.loads(row["blocks"]), "edges": [], "zoom": 1.0},
        "updated_at": row["updated_at"].isoformat(),
    }
