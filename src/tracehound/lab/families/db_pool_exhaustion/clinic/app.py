"""Clinic scheduling API: open slots per clinician, with the patient's insurance checked first."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import eligibility

if os.environ.get("LOG_STYLE", "plain") == "json":
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format='{"time": "%(asctime)s", "level": "%(levelname)s", "msg": %(message)s}')
    def _msg(text_: str) -> str:
        return json.dumps(text_)
elif os.environ.get("LOG_STYLE") == "none":
    logging.disable(logging.CRITICAL)
    def _msg(text_: str) -> str:
        return text_
else:
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                        format="[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
    def _msg(text_: str) -> str:
        return text_

log = logging.getLogger("clinic")

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=int(os.environ.get("POOL_SIZE", "5")),
    max_overflow=0,
    pool_timeout=float(os.environ.get("POOL_TIMEOUT", "30")),
    pool_pre_ping=True,
)
SessionLocal = sessionmaker(engine)
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")

app = FastAPI(title="clinic")


def get_db() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


def failure(exc: Exception) -> JSONResponse:
    log.error(_msg(f"could not load slots: {exc}"))
    if ERROR_STYLE == "json":
        return JSONResponse({"status": "error", "reason": "database", "detail": str(exc).splitlines()[0]},
                            status_code=500)
    if ERROR_STYLE == "200":
        return JSONResponse({"slots": None, "errors": ["slots unavailable, try again"]})
    if ERROR_STYLE == "503":
        return JSONResponse({"detail": "Service Unavailable"}, status_code=503)
    raise exc


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/clinicians/{clinician_id}/slots")
def open_slots(clinician_id: int, patient: int, db: Session = Depends(get_db)):
    try:
        holder = db.execute(text("SELECT insurer, policy_no FROM patients WHERE id = :p"), {"p": patient}).first()
        if holder is None:
            raise HTTPException(status_code=404, detail="unknown patient")
        if not eligibility.check(holder.insurer, holder.policy_no):
            raise HTTPException(status_code=403, detail="not covered")
        rows = db.execute(
            text("SELECT id, starts_at FROM slots WHERE clinician_id = :c AND booked_by IS NULL "
                 "AND starts_at > now() ORDER BY starts_at LIMIT 10"),
            {"c": clinician_id},
        ).all()
    except SQLAlchemyError as e:
        return failure(e)
    return {"clinician": clinician_id, "slots": [{"id": r.id, "starts_at": r.starts_at.isoformat()} for r in rows]}
