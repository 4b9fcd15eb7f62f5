"""Token buckets per account: each holds up to `capacity` sends and refills at `refill` per second."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class Bucket:
    tokens: float
    stamp: float = field(default_factory=time.monotonic)


class Buckets:
    def __init__(self, capacity: float, refill: float) -> None:
        self.capacity = capacity
        self.refill = refill
        self._buckets: dict[str, Bucket] = {}

    def take(self, account: str) -> tuple[bool, float, float]:
        """(granted, tokens left, seconds until the next token)."""
        now = time.monotonic()
        b = self._buckets.setdefault(account, Bucket(self.capacity, now))
        b.tokens = min(self.capacity, b.tokens + (now - b.stamp) * self.refill)
        b.stamp = now
        if b.tokens >= 1:
            b.tokens -= 1
            return True, b.tokens, 0.0
        return False, b.tokens, (1 - b.tokens) / self.refill

    def policy(self) -> str:
        return f"{math.floor(self.capacity)};w={max(1, round(self.capacity / self.refill))}"
