"""Rail fares (FastAPI, plain `def` handlers, requests): the fares for a journey, railcard applied."""

from __future__ import annotations

import json
import logging
import os

import requests
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

TARIFF_URL = os.environ["TARIFF_URL"]
TARIFF_API_KEY = os.environ.get("TARIFF_API_KEY", "")
ERROR_STYLE = os.environ.get("ERROR_STYLE", "502")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
RAILCARDS = {"16-25": 0.34, "senior": 0.34, "two-together": 0.34, "family": 0.34, "none": 0.0}

log = logging.getLogger("fares")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    fmt = "%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(levelname)s [%(name)s] %(message)s"
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=fmt)

http = requests.Session()
http.headers["X-Api-Key"] = TARIFF_API_KEY
http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))

app = FastAPI(title="fares")


@app.get("/health")
def health() -> dict:
    return {"ok": True}


def tariffs(origin: str, destination: str) -> list[dict]:
    r = http.get(f"{TARIFF_URL}/v1/tariffs", params={"origin": origin, "destination": destination}, timeout=5)
    r.raise_for_status()
    return r.json()["tariffs"]


@app.get("/journeys/fares")
def journey_fares(origin: str = Query(min_length=3, max_length=3), destination: str = Query(min_length=3, max_length=3),
                  railcard: str = "none"):
    discount = RAILCARDS.get(railcard, 0.0)
    if ERROR_STYLE == "500":
        rows = tariffs(origin, destination)
    else:
        try:
            rows = tariffs(origin, destination)
        except requests.RequestException as e:
            if LOG_STYLE == "json":
                log.error(json.dumps({"msg": "tariff lookup failed", "origin": origin, "destination": destination,
                                      "error": str(e)}))
            else:
                log.error("tariff lookup failed for %s-%s: %s", origin, destination, e)
            if ERROR_STYLE == "200":
                return {"origin": origin, "destination": destination, "fares": [],
                        "message": "No fares found for this journey"}
            return JSONResponse({"error": "fares_unavailable", "detail": "could not price this journey"},
                                status_code=502)
    fares = []
    for t in rows:
        pence = t["pence"]
        if t["railcard_valid"] and discount:
            pence = int(round(pence * (1 - discount) / 5) * 5)
        fares.append({"ticket": t["ticket"], "class": t["class"], "pence": pence, "flexible": t["flexible"]})
    fares.sort(key=lambda f: f["pence"])
    return {"origin": origin, "destination": destination, "railcard": railcard, "fares": fares}
