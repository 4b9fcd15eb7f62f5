"""Account API of the web shop: sign-in, the signed-in user's profile and recent orders."""

from __future__ import annotations

import logging
import os
import random
from datetime import date, timedelta

import bcrypt
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel
from tracehound.instrument import instrument

from accounts import Account, Sessions, load_accounts

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("accounts")

app = FastAPI(title="accounts")
instrument(app)
ACCOUNTS = load_accounts()
SESSIONS = Sessions()


class Credentials(BaseModel):
    email: str
    password: str


def current_account(authorization: str = Header(default="")) -> Account:
    scheme, _, token = authorization.partition(" ")
    account = SESSIONS.get(token) if scheme.lower() == "bearer" else None
    if account is None:
        raise HTTPException(status_code=401, detail="not signed in")
    return account


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/api/auth/login")
async def login(body: Credentials) -> dict:
    account = ACCOUNTS.get(body.email.strip().lower())
    if account is None or not bcrypt.checkpw(body.password.encode(), account.password_hash):
        log.info("failed sign-in for %s", body.email)
        raise HTTPException(status_code=401, detail="wrong email or password")
    token = SESSIONS.open(account)
    log.info("sign-in account=%s", account.id)
    return {"access_token": token, "token_type": "bearer", "expires_in": 3600}


@app.get("/api/me")
async def me(account: Account = Depends(current_account)) -> dict:
    return {"id": account.id, "email": account.email, "name": account.name, "plan": account.plan}


@app.get("/api/orders/recent")
async def recent_orders(account: Account = Depends(current_account)) -> dict:
    rng = random.Random(account.id)
    today = date(2026, 3, 1)
    orders = [
        {
            "id": account.id * 1000 + i,
            "placed": (today - timedelta(days=3 * i + rng.randint(0, 2))).isoformat(),
            "total_cents": rng.randint(900, 24900),
            "status": rng.choice(["delivered", "delivered", "shipped", "processing"]),
        }
        for i in range(10)
    ]
    return {"orders": orders}
