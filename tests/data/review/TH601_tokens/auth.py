"""TH601: token lifetimes under a minute, or in the wrong unit."""

import time
from datetime import datetime, timedelta, timezone

import jwt

import settings

KEY = "k"


def issue(user_id: int) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": str(user_id), "exp": now + timedelta(seconds=settings.ACCESS_TOKEN_EXPIRE_MINUTES)}  # expect: TH601
    return jwt.encode(claims, KEY)


def issue_refresh(user_id: int) -> str:
    expires = int(time.time()) + settings.REFRESH_TTL_SECONDS  # expect: TH601
    return jwt.encode({"sub": str(user_id), "exp": expires}, KEY)


def issue_fixed(user_id: int) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": str(user_id)}
    claims["exp"] = now + timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    return jwt.encode(claims, KEY)


def issue_long(user_id: int) -> str:
    return jwt.encode({"sub": str(user_id), "exp": int(time.time()) + 3600}, KEY)
