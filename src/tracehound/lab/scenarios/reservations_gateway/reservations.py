"""Reservations service: restaurants' tables, availability and bookings (internal, behind the gateway)."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import ForeignKey, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("reservations")

SEATINGS = [time(h, m) for h in range(18, 22) for m in (0, 30)]


class Base(DeclarativeBase):
    pass


class Restaurant(Base):
    __tablename__ = "restaurants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    seats: Mapped[int]


class Reservation(Base):
    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    restaurant_id: Mapped[int] = mapped_column(ForeignKey("restaurants.id"), index=True)
    guest: Mapped[str] = mapped_column(String(80), index=True)
    party_size: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)


engine = create_engine(
    os.environ.get("DATABASE_URL", "sqlite:///reservations.db"),
    connect_args={"check_same_thread": False, "timeout": 10},
)
SessionLocal = sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(app: FastAPI):
    Base.metadata.create_all(engine)
    with SessionLocal() as db:
        if not db.scalar(select(func.count(Restaurant.id))):
            db.add_all(Restaurant(id=i, name=f"Restaurant {i}", seats=200 + 20 * i) for i in range(1, 21))
            db.commit()
    log.info("reservations service ready")
    yield
    engine.dispose()


app = FastAPI(title="reservations", lifespan=lifespan)


def get_db():
    with SessionLocal() as db:
        yield db


class NewReservation(BaseModel):
    restaurant_id: int
    guest: str
    party_size: int
    day: date
    time: str


def booked(db: Session, restaurant_id: int, start: datetime) -> int:
    return db.scalar(
        select(func.coalesce(func.sum(Reservation.party_size), 0)).where(
            Reservation.restaurant_id == restaurant_id, Reservation.starts_at == start
        )
    )


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/restaurants/{restaurant_id}/availability")
def availability(restaurant_id: int, day: date, party_size: int = 2, db: Session = Depends(get_db)) -> dict:
    restaurant = db.get(Restaurant, restaurant_id)
    if restaurant is None:
        raise HTTPException(status_code=404, detail="no such restaurant")
    free = []
    for seating in SEATINGS:
        start = datetime.combine(day, seating)
        left = restaurant.seats - booked(db, restaurant_id, start)
        if left >= party_size:
            free.append({"time": seating.strftime("%H:%M"), "seats_left": left})
    return {"restaurant_id": restaurant_id, "day": day.isoformat(), "party_size": party_size, "seatings": free}


@app.post("/reservations", status_code=201)
def create_reservation(body: NewReservation, db: Session = Depends(get_db)) -> dict:
    restaurant = db.get(Restaurant, body.restaurant_id)
    if restaurant is None:
        raise HTTPException(status_code=404, detail="no such restaurant")
    start = datetime.combine(body.day, time.fromisoformat(body.time))
    if restaurant.seats - booked(db, restaurant.id, start) < body.party_size:
        raise HTTPException(status_code=409, detail="fully booked at that time")
    r = Reservation(restaurant_id=restaurant.id, guest=body.guest, party_size=body.party_size, starts_at=start)
    db.add(r)
    db.commit()
    log.info("reservation %d: %s, %d guests at %s on %s", r.id, body.guest, body.party_size, restaurant.name, start)
    return {"id": r.id, "restaurant_id": r.restaurant_id, "guest": r.guest, "party_size": r.party_size,
            "starts_at": r.starts_at.isoformat()}


@app.get("/guests/{guest}/reservations")
def guest_reservations(guest: str, db: Session = Depends(get_db)) -> dict:
    since = datetime.utcnow() - timedelta(days=1)
    rows = db.scalars(
        select(Reservation).where(Reservation.guest == guest, Reservation.starts_at >= since).order_by(Reservation.starts_at)
    ).all()
    return {"guest": guest, "reservations": [
        {"id": r.id, "restaurant_id": r.restaurant_id, "party_size": r.party_size, "starts_at": r.starts_at.isoformat()}
        for r in rows
    ]}
