"""A small API for flow tests: login, an authenticated call, create-then-read. Logs what it served."""

from __future__ import annotations

import itertools
import json
import os
import secrets

from fastapi import FastAPI, Header, HTTPException, Request, Response

app = FastAPI()
_tokens: set[str] = set()
_items: dict[int, dict] = {}
_ids = itertools.count(1)
_log = open(os.environ.get("FLOW_APP_LOG", os.devnull), "a", buffering=1)  # noqa: SIM115  # open for the app's life


@app.middleware("http")
async def record(request: Request, call_next):  # type: ignore[no-untyped-def]
    response = await call_next(request)
    _log.write(json.dumps({"method": request.method, "path": request.url.path, "status": response.status_code}) + "\n")
    return response


@app.post("/login")
async def login(body: dict) -> dict:
    if body.get("password") != "s3cret":
        raise HTTPException(401, "bad credentials")
    token = secrets.token_hex(8)
    _tokens.add(token)
    return {"access_token": token}


@app.get("/me")
async def me(authorization: str = Header("")) -> dict:
    if authorization.removeprefix("Bearer ") not in _tokens:
        raise HTTPException(401, "not authenticated")
    return {"user": "alice"}


@app.post("/items", status_code=201)
async def create(body: dict, response: Response) -> dict:
    i = next(_ids)
    _items[i] = body
    response.headers["Location"] = f"/items/{i}"
    return {"id": i}


@app.get("/items/{i}")
async def read(i: int) -> dict:
    if i not in _items:
        raise HTTPException(404, "no such item")
    return {"id": i, **_items[i]}
