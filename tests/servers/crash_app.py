"""A FastAPI app whose ``GET /x`` raises on every other call: uvicorn answers 500 and then closes.

uvicorn answers an unhandled exception with a 500 and closes the connection right after it,
without announcing ``Connection: close``. ``GET /count`` says how many ``/x`` requests the app
really handled (it is not one of them). Serve it with
``python -m uvicorn tests.servers.crash_app:app --port PORT``.
"""

from __future__ import annotations

import itertools

from fastapi import FastAPI

app = FastAPI()
_calls = itertools.count(1)
_handled = 0


@app.get("/x")
async def every_other_call_fails() -> dict:
    global _handled  # noqa: PLW0603  # the count /count reports: module state is the app's state
    _handled += 1
    n = next(_calls)
    if n % 2 == 0:
        raise RuntimeError(f"call {n} fails")
    return {"n": n}


@app.get("/count")
async def count() -> dict:
    return {"handled": _handled}
