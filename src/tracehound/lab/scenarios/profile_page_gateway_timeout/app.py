"""Profile page and its API, behind the gateway: the member's card and their recent activity."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("profiles")

ACTIVITY_URL = os.environ["ACTIVITY_URL"]
PAGE = (Path(__file__).parent / "page.html").read_text()
MEMBERS = {
    i: {"id": i, "username": f"member{i}", "display_name": f"Member {i}", "team": ["Platform", "Design", "Data"][i % 3]}
    for i in range(1, 201)
}


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.activity = httpx.AsyncClient(base_url=ACTIVITY_URL, timeout=None)
    yield
    await app.state.activity.aclose()


app = FastAPI(title="profiles", lifespan=lifespan)


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/profile", response_class=HTMLResponse)
async def profile_page() -> str:
    return PAGE


@app.get("/api/profile/{member_id}")
async def profile(member_id: int) -> dict:
    member = MEMBERS.get(member_id)
    if member is None:
        raise HTTPException(status_code=404, detail="member not found")
    r = await app.state.activity.get(f"/v1/members/{member_id}/activity")
    r.raise_for_status()
    return {"member": member, "activity": r.json()["items"]}
