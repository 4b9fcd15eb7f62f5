"""Per-SKU locks for the stock counters (one process serves the inventory)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from contextlib import asynccontextmanager


class LockTimeout(RuntimeError):
    pass


class KeyedLocks:
    def __init__(self, acquire_timeout: float) -> None:
        self.acquire_timeout = acquire_timeout
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @asynccontextmanager
    async def hold(self, key: str):
        lock = self._locks[key]
        try:
            await asyncio.wait_for(lock.acquire(), timeout=self.acquire_timeout)
        except TimeoutError:
            raise LockTimeout(f"could not lock {key!r} within {self.acquire_timeout * 1000:.0f} ms") from None
        try:
            yield
        finally:
            lock.release()
