"""Public API gateway of the table-booking app: validates requests and forwards them to the services."""

from __future__ import annotations

import http.client
import logging
import os
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from servicepool import ServicePool

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("gateway")

reservations = ServicePool(os.environ["RESERVATIONS_URL"])


@asynccontextmanager
async def lifespan(app: FastAPI):
    log.info("gateway ready, reservations service at %s", os.environ["RESERVATIONS_URL"])
    yield
    reservations.close()


app = FastAPI(title="bookings gateway", lifespan=lifespan)


class NewReservation(BaseModel):
    restaurant_id: int
    guest: str = Field(min_length=1, max_length=80)
    party_size: int = Field(ge=1, le=12)
    day: date
    time: str = Field(pattern=r"^\d\d:\d\d$")


def forward(method: str, path: str, payload: dict | None = None) -> JSONResponse:
    try:
        status, body = reservations.request(method, path, payload)
    except (OSError, http.client.HTTPException) as e:
        log.exception("%s %s: reservations service call failed (%s)", method, path, type(e).__name__)
        return JSONResponse({"detail": "reservations service unavailable"}, status_code=502)
    return JSONResponse(body, status_code=status)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/api/restaurants/{restaurant_id}/availability")
def availability(restaurant_id: int, day: date, party_size: int = 2) -> JSONResponse:
    return forward("GET", f"/restaurants/{restaurant_id}/availability?day={day.isoformat()}&party_size={party_size}")


@app.post("/api/reservations")
def create_reservation(body: NewReservation) -> JSONResponse:
    return forward("POST", "/reservations", body.model_dump(mode="json"))


@app.get("/api/guests/{guest}/reservations")
def guest_reservations(guest: str) -> JSONResponse:
    return forward("GET", f"/guests/{guest}/reservations")
