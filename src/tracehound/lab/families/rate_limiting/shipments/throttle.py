"""Request quotas for merchants, counted in Redis in one-second windows."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import g, request


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class Quota:
    def __init__(self, client: redis.Redis, per_second: int, by: str) -> None:
        self.r = client
        self.per_second = per_second
        self.by = by

    def subject(self) -> str:
        if self.by == "ip":
            return "ip:" + (request.headers.get("X-Forwarded-For") or request.remote_addr or "-")
        return "key:" + request.headers.get("X-Merchant-Key", "anonymous")

    def spend(self) -> Verdict:
        second = int(time.time())
        key = f"quota:{self.subject()}:{second}"
        with self.r.pipeline() as p:
            used, _ = p.incr(key).expire(key, 5).execute()
        left = self.per_second - int(used)
        return Verdict(left >= 0, self.per_second, max(left, 0), 1)


def metered(quota: Callable[[], Quota], refuse: Callable[[Verdict], object]):
    """Decorate a view: spend one request of the caller's quota, or answer with ``refuse``."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            verdict = quota().spend()
            g.quota = verdict
            if not verdict.allowed:
                return refuse(verdict)
            return view(*args, **kwargs)

        return inner

    return wrap
