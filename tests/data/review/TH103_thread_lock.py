"""TH103: a threading lock held across an await."""

import asyncio
import threading

_lock = threading.Lock()
_alock = asyncio.Lock()


class Counter:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.n = 0

    async def bump(self, store) -> None:
        with self._lock:  # expect: TH103
            self.n = await store.get("n")

    def bump_sync(self) -> None:
        with self._lock:
            self.n += 1


async def refresh(store) -> None:
    with _lock:  # expect: TH103
        await store.refresh()


async def refresh_fixed(store) -> None:
    async with _alock:
        await store.refresh()
    with _lock:
        store.mark()
