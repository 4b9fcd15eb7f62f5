"""The underwriter's rating API (FastAPI): OAuth client credentials, then a premium for a pet."""

from __future__ import annotations

import asyncio
import os
import time
import zlib

import jwt
from fastapi import FastAPI, Form, Header
from fastapi.responses import JSONResponse

SIGNING_KEY = os.environ.get("RATING_SIGNING_KEY", "rating-signing-key-2026-uw-prod-0001")
TOKEN_TTL_S = float(os.environ.get("TOKEN_TTL_S", "3600"))
CLOCK_OFFSET_S = float(os.environ.get("CLOCK_OFFSET_S", "0"))
CLIENTS = {"quotes-web": "s3cr3t-quotes-web"}

app = FastAPI(title="rating")


def now() -> float:
    return time.time() + CLOCK_OFFSET_S


def invalid(description: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_token", "error_description": description}, status_code=401,
                        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})


@app.get("/health")
async def health() -> dict:
    return {"ok": True}


@app.post("/oauth/token")
async def token(grant_type: str = Form(), client_id: str = Form(), client_secret: str = Form()):
    if grant_type != "client_credentials" or CLIENTS.get(client_id) != client_secret:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    issued = now()
    claims = {"sub": client_id, "scope": "rate", "iat": int(issued), "exp": issued + TOKEN_TTL_S}
    return {"access_token": jwt.encode(claims, SIGNING_KEY, algorithm="HS256"), "token_type": "Bearer",
            "expires_in": int(TOKEN_TTL_S)}


@app.post("/v3/rate")
async def rate(body: dict, authorization: str = Header(default="")):
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return invalid("missing bearer token")
    try:
        claims = jwt.decode(token, SIGNING_KEY, algorithms=["HS256"],
                            options={"verify_exp": False, "verify_iat": False})
    except jwt.InvalidTokenError:
        return invalid("malformed token")
    if claims["exp"] <= now():
        return invalid("token expired")
    await asyncio.sleep(0.01)
    seed = zlib.crc32(f"{body.get('species')}:{body.get('breed')}:{body.get('area')}".encode())
    annual = 18000 + seed % 30000 + 1500 * int(body.get("age", 0))
    return {"annual_pence": annual, "excess_pence": 9900 if annual < 40000 else 14900,
            "reference": f"RT-{seed % 10**8:08d}"}
