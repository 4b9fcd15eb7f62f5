"""Orders API: one of several identical nodes behind the load balancer."""

from __future__ import annotations

import logging
import os

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("orders")

NODE = os.environ.get("APP_INSTANCE", "0")

url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
if os.environ.get("DB_PASSWORD"):
    url = url.set(password=os.environ["DB_PASSWORD"])
engine = create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
SessionLocal = sessionmaker(engine)

app = FastAPI(title="orders")
log.info("orders node %s starting, database %s", NODE, url.render_as_string(hide_password=True))


@app.exception_handler(SQLAlchemyError)
async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    log.error("node %s: %s %s failed", NODE, request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)


def get_db():
    with SessionLocal() as db:
        yield db


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "node": NODE}


@app.get("/api/customers/{customer_id}/orders")
def customer_orders(customer_id: int, db: Session = Depends(get_db)) -> dict:
    rows = db.execute(
        text(
            "SELECT id, status, total_cents, created_at FROM orders"
            " WHERE customer_id = :c ORDER BY created_at DESC LIMIT 20"
        ),
        {"c": customer_id},
    ).all()
    if not rows:
        raise HTTPException(status_code=404, detail="no orders")
    return {
        "customer_id": customer_id,
        "orders": [
            {"id": r.id, "status": r.status, "total_cents": r.total_cents, "created_at": r.created_at.isoformat()}
            for r in rows
        ],
    }
