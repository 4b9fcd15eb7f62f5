"""A per-key lock helper, as services write them."""

import asyncio
from collections import defaultdict
from contextlib import asynccontextmanager


class KeyedLock:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._locks = defaultdict(asyncio.Lock)

    @asynccontextmanager
    async def hold(self, key: str):
        lock = self._locks[key]
        await asyncio.wait_for(lock.acquire(), timeout=self.timeout)
        try:
            yield
        finally:
            lock.release()
