"""TH501: shared state published half-built, or read and written back, across an await."""

import time

from fastapi import Depends, FastAPI

app = FastAPI()
_cache: dict[str, dict] = {}
_totals: dict[str, int] = {}
hits = 0


class FeatureService:
    def __init__(self) -> None:
        self._cache: dict[str, dict] = {}
        self._stamp: dict[str, float] = {}

    async def features(self, db, tenant: str) -> dict:
        if tenant in self._cache and time.monotonic() - self._stamp[tenant] < 1:
            return self._cache[tenant]
        found: dict[str, bool] = {}
        self._cache[tenant] = found  # expect: TH501
        self._stamp[tenant] = time.monotonic()
        for name, on in await db.execute("SELECT name, on FROM features"):
            found[name] = on
        return found

    async def features_fixed(self, db, tenant: str) -> dict:
        if tenant in self._cache:
            return self._cache[tenant]
        found = {}
        for name, on in await db.execute("SELECT name, on FROM features"):
            found[name] = on
        self._cache[tenant] = found
        return found


service = FeatureService()


def get_service() -> FeatureService:
    return service


@app.get("/features")
async def features(tenant: str, svc: FeatureService = Depends(get_service)):
    return await svc.features(None, tenant)


async def add_sale(shop: str, fetch) -> None:
    total = _totals.get(shop, 0)
    amount = await fetch(shop)
    _totals[shop] = total + amount  # expect: TH501


async def count_hit(fetch) -> None:
    global hits
    hits += await fetch()  # expect: TH501


async def load(key: str, fetch) -> dict:
    data = _cache.get(key)
    if data is None:
        data = await fetch(key)
        _cache[key] = data
    return data


async def local_only(fetch) -> dict:
    mine: dict = {}
    other = mine
    await fetch()
    other["x"] = 1
    return mine
