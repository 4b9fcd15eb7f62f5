"""Per-client request limiting: a fixed one-second window per API key."""

from __future__ import annotations

import math
import threading
import time


class FixedWindowLimiter:
    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Count one request for ``key``: (allowed, remaining, seconds until the window resets)."""
        now = time.time()
        slot = int(now // self.window)
        with self._lock:
            current, count = self._counts.get(key, (slot, 0))
            if current != slot:
                count = 0
            count += 1
            self._counts[key] = (slot, count)
        reset = (slot + 1) * self.window - now
        return count <= self.limit, max(self.limit - count, 0), reset

    @staticmethod
    def retry_after(reset: float) -> str:
        return str(max(1, math.ceil(reset)))
