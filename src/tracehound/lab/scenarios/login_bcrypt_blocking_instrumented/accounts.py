"""Account store: the users fixture, the password check and the in-memory session table."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

SESSION_TTL = 3600.0


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    password_hash: bytes
    plan: str


def load_accounts() -> dict[str, Account]:
    doc = json.loads((Path(__file__).parent / "users.json").read_text())
    out = {}
    for u in doc["users"]:
        out[u["email"].lower()] = Account(u["id"], u["email"], u["name"], u["password_hash"].encode(), u["plan"])
    return out


class Sessions:
    def __init__(self) -> None:
        self._by_token: dict[str, tuple[Account, float]] = {}

    def open(self, account: Account) -> str:
        token = secrets.token_urlsafe(24)
        self._by_token[token] = (account, time.monotonic() + SESSION_TTL)
        return token

    def get(self, token: str) -> Account | None:
        hit = self._by_token.get(token)
        if hit is None or hit[1] < time.monotonic():
            self._by_token.pop(token, None)
            return None
        return hit[0]
