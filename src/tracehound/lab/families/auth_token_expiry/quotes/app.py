"""Pet insurance quotes (FastAPI, httpx): a monthly premium from the underwriter's rating API."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from contextlib import asynccontextmanager

import httpx
import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

UNDERWRITER_URL = os.environ["UNDERWRITER_URL"]
CLIENT_ID = os.environ.get("UNDERWRITER_CLIENT_ID", "quotes-web")
CLIENT_SECRET = os.environ.get("UNDERWRITER_CLIENT_SECRET", "s3cr3t-quotes-web")
REFRESH_MARGIN_S = float(os.environ.get("REFRESH_MARGIN_S", "0"))
ERROR_STYLE = os.environ.get("ERROR_STYLE", "502")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")

log = logging.getLogger("quotes")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    fmt = "%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(levelname)s %(name)s - %(message)s"
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=fmt)


class ServiceToken:
    """The client-credentials token for the rating API, reused until its `exp` claim."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""
        self.expires_at = 0.0
        self.lock = asyncio.Lock()

    def fresh(self) -> bool:
        return bool(self.token) and time.time() < self.expires_at - REFRESH_MARGIN_S

    async def get(self) -> str:
        if self.fresh():
            return self.token
        async with self.lock:
            if not self.fresh():
                r = await self.client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                                 "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
                r.raise_for_status()
                self.token = r.json()["access_token"]
                self.expires_at = jwt.decode(self.token, options={"verify_signature": False})["exp"]
        return self.token


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UNDERWRITER_URL, timeout=5) as client:
        app.state.rating = client
        app.state.token = ServiceToken(client)
        yield


app = FastAPI(title="quotes", lifespan=lifespan)


class Pet(BaseModel):
    species: str = Field(pattern="^(dog|cat|rabbit)$")
    breed: str
    age_years: int = Field(ge=0, le=25)
    postcode: str
    cover: str = "lifetime-4000"


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


def refused(pet: Pet, r: httpx.Response):
    if LOG_STYLE == "json":
        log.error(json.dumps({"event": "rating_refused", "status": r.status_code, "body": r.text[:200]}))
    else:
        log.error("rating API refused the quote for a %s (%s): %s %s", pet.species, pet.breed, r.status_code, r.text[:200])
    if ERROR_STYLE == "passthrough":
        return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))
    if ERROR_STYLE == "200":
        return {"quote": None, "status": "referred",
                "message": "We can't quote this pet online right now. Please call us on 0800 046 1234."}
    return JSONResponse({"error": "quote_unavailable", "detail": "the rating service did not answer"}, status_code=502)


@app.post("/quotes")
async def quote(pet: Pet, request: Request):
    token = await app.state.token.get()
    r = await app.state.rating.post("/v3/rate", headers={"Authorization": f"Bearer {token}"},
                                    json={"species": pet.species, "breed": pet.breed, "age": pet.age_years,
                                          "area": pet.postcode.split()[0].upper(), "product": pet.cover})
    if r.status_code != 200:
        return refused(pet, r)
    rate = r.json()
    monthly = round(rate["annual_pence"] / 12)
    return {"quote": {"monthly_pence": monthly, "excess_pence": rate["excess_pence"], "product": pet.cover,
                      "reference": rate["reference"]}, "status": "quoted"}
