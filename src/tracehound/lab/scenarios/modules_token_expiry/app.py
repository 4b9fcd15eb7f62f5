"""Canvas API: designers log in, create agile modules and load them into the schematic canvas."""

from __future__ import annotations

import json
import logging
import os
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import asyncpg
import jwt
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

import settings
from auth import current_user, verify_password

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("canvas")


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(settings.DATABASE_URL, min_size=2, max_size=settings.DB_POOL_MAX, command_timeout=5)
    log.info("canvas api ready")
    yield
    await app.state.pool.close()


app = FastAPI(title="canvas", lifespan=lifespan)


class Login(BaseModel):
    email: str
    password: str


class ModuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    kind: str = "sprint-board"
    blocks: list[dict] = []


def issue_token(user_id: int, email: str) -> str:
    now = datetime.now(timezone.utc)
    claims = {
        "sub": str(user_id),
        "email": email,
        "iss": settings.JWT_ISSUER,
        "iat": now,
        "exp": now + timedelta(seconds=settings.ACCESS_TOKEN_EXPIRE_MINUTES),
    }
    return jwt.encode(claims, settings.JWT_SECRET, algorithm=settings.JWT_ALGORITHM)



@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/auth/login")
async def login(body: Login, request: Request) -> dict:
    async with request.app.state.pool.acquire() as conn:
        user = await conn.fetchrow("SELECT id, email, password_hash, salt FROM users WHERE email = $1", body.email)
    if user is None or not verify_password(body.password, user["salt"], user["password_hash"]):
        raise HTTPException(status_code=401, detail="bad credentials")
    log.info("login user=%s", user["id"])
    return {"access_token": issue_token(user["id"], user["email"]), "token_type": "bearer"}


@app.post("/modules", status_code=201)
async def create_module(body: ModuleIn, request: Request, user_id: int = Depends(current_user)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(
            "INSERT INTO modules (owner_id, name, kind, blocks) VALUES ($1, $2, $3, $4::jsonb) "
            "RETURNING id, name, kind, created_at",
            user_id, body.name, body.kind, json.dumps(body.blocks),
        )
    return {"id": row["id"], "name": row["name"], "kind": row["kind"], "created_at": row["created_at"].isoformat()}


@app.get("/modules/{module_id}/load")
async def load_module(module_id: int, request: Request, user_id: int = Depends(current_user)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, owner_id, name, kind, blocks FROM modules WHERE id = $1", module_id
        )
    if row is None or row["owner_id"] != user_id:
        raise HTTPException(status_code=404, detail="module not found")
    blocks = json.loads(row["blocks"])
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "canvas": {"blocks": blocks, "edges": [], "zoom": 1.0},
    }
