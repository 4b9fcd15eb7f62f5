"""Canvas: designers sign in and load their agile modules into the schematic canvas page."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("canvas")

JWT_SECRET = os.environ.get("JWT_SECRET", "dev-only-canvas-secret-change-me")
JWT_ISSUER = "canvas"
TOKEN_TTL = os.environ.get("TOKEN_TTL", "3m")
PAGE = (Path(__file__).parent / "page.html").read_text()

app = FastAPI(title="canvas")


def _hash(password: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


USERS = {f"designer{i}@example.com": (i, f"s{i}", _hash("canvas-pass", f"s{i}")) for i in range(64)}
MODULES = {
    i: {"id": i, "owner": i, "name": f"Sprint board {i}", "kind": "sprint-board",
        "blocks": [{"type": "lane", "title": t} for t in ("Backlog", "Doing", "Review", "Done")]}
    for i in range(64)
}


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def ttl_seconds(text: str) -> int:
    """The token lifetime from the TOKEN_TTL setting, e.g. 90s, 6m or 2h."""
    text = text.strip()
    if text[-1:] in _UNITS:
        return int(text[:-1]) * _UNITS[text[-1]]
    return int(text)


def issue_token(user_id: int) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": str(user_id), "iss": JWT_ISSUER, "iat": now, "exp": now + timedelta(seconds=ttl_seconds(TOKEN_TTL))}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def current_user(authorization: str | None) -> int:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HTTPException(status_code=401, detail="missing bearer token")
    try:
        claims = jwt.decode(authorization.split(" ", 1)[1].strip(), JWT_SECRET, algorithms=["HS256"], issuer=JWT_ISSUER)
    except jwt.PyJWTError as e:
        log.warning("rejected bearer token: %s", e)
        raise HTTPException(status_code=401, detail="invalid token", headers={"WWW-Authenticate": "Bearer"})
    return int(claims["sub"])


class Login(BaseModel):
    email: str
    password: str


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/canvas", response_class=HTMLResponse)
async def canvas_page() -> str:
    return PAGE


@app.post("/api/login")
async def login(body: Login) -> dict:
    user = USERS.get(body.email)
    if user is None or not hmac.compare_digest(_hash(body.password, user[1]), user[2]):
        raise HTTPException(status_code=401, detail="bad credentials")
    log.info("login user=%s", user[0])
    return {"access_token": issue_token(user[0]), "token_type": "bearer"}


@app.get("/api/modules/{module_id}")
async def load_module(module_id: int, authorization: str | None = Header(default=None)) -> dict:
    user_id = current_user(authorization)
    module = MODULES.get(module_id)
    if module is None or module["owner"] != user_id:
        raise HTTPException(status_code=404, detail="module not found")
    return {**module, "canvas": {"zoom": 1.0, "edges": []}}
