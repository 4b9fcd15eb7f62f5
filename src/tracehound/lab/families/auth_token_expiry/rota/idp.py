"""The trust's identity provider (FastAPI): password sign-in for staff, HS256 access tokens."""

from __future__ import annotations

import os
import time

import jwt
from fastapi import FastAPI, Form
from fastapi.responses import JSONResponse

SIGNING_KEY = os.environ.get("IDP_SIGNING_KEY", "trust-idp-hs256-key-0f4e9a2c71b3d8e5")
ACCESS_TOKEN_LIFETIME_S = int(os.environ.get("ACCESS_TOKEN_LIFETIME_S", "3600"))
CLOCK_OFFSET_S = float(os.environ.get("CLOCK_OFFSET_S", "0"))

app = FastAPI(title="idp")


@app.get("/health")
async def health() -> dict:
    return {"ok": True}


@app.post("/connect/token")
async def token(grant_type: str = Form(), username: str = Form(), password: str = Form(),
                audience: str = Form(default="")):
    if grant_type != "password" or not username.endswith("@trust.example") or password != "ward-pass":
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    now = int(time.time() + CLOCK_OFFSET_S)
    claims = {"sub": username, "name": username.split("@")[0].replace(".", " ").title(), "aud": audience,
              "iat": now, "exp": now + ACCESS_TOKEN_LIFETIME_S, "iss": "https://idp.trust.example"}
    return {"access_token": jwt.encode(claims, SIGNING_KEY, algorithm="HS256"), "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME_S}
