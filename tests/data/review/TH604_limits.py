"""TH604: the service answers 429 itself."""

import time

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from slowapi import Limiter

app = FastAPI()
slow = Limiter(key_func=lambda request: "k")


class WindowLimiter:
    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self.counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> bool:
        slot = int(time.time() // self.window)
        current, n = self.counts.get(key, (slot, 0))
        n = n + 1 if current == slot else 1
        self.counts[key] = (slot, n)
        return n <= self.limit


REQUESTS_PER_SECOND = 20
limiter = WindowLimiter(limit=REQUESTS_PER_SECOND, window=1.0)


@app.get("/search")
def search(q: str, x_api_key: str = Header(...)):
    if not limiter.hit(x_api_key):
        return JSONResponse({"error": "too many requests"}, status_code=429)  # expect: TH604
    return {"q": q}


@app.get("/export")
def export(x_api_key: str = Header(...)):
    if not limiter.hit(x_api_key):
        raise HTTPException(429, "slow down")  # expect: TH604
    return {}


@app.get("/decorated")
@slow.limit("5/minute")
def decorated():  # expect: TH604
    return {}


@app.get("/items")
def items():
    return JSONResponse({"error": "conflict"}, status_code=409)
