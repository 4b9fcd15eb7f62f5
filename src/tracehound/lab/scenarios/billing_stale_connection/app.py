"""Billing API: customer balances and invoices for the back-office and the customer portal."""

from __future__ import annotations

import logging
import os

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("billing")

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=5,
    max_overflow=5,
    pool_timeout=5,
)
SessionLocal = sessionmaker(engine)

app = FastAPI(title="billing")


def get_db():
    with SessionLocal() as db:
        yield db


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/api/customers/{customer_id}/balance")
def balance(customer_id: int, db: Session = Depends(get_db)) -> dict:
    row = db.execute(
        text(
            """
            SELECT c.id, c.name, c.currency,
                   coalesce(sum(i.amount_cents) FILTER (WHERE i.status = 'open'), 0) AS open_cents,
                   count(*) FILTER (WHERE i.status = 'open' AND i.due < date '2026-03-01') AS overdue
            FROM customers c LEFT JOIN invoices i ON i.customer_id = c.id
            WHERE c.id = :cid
            GROUP BY c.id
            """
        ),
        {"cid": customer_id},
    ).mappings().one_or_none()
    if row is None:
        raise HTTPException(status_code=404, detail="customer not found")
    return {
        "customer": {"id": row["id"], "name": row["name"]},
        "currency": row["currency"],
        "open_cents": row["open_cents"],
        "overdue_invoices": row["overdue"],
    }


@app.get("/api/customers/{customer_id}/invoices")
def invoices(customer_id: int, status: str | None = None, db: Session = Depends(get_db)) -> dict:
    rows = db.execute(
        text(
            """
            SELECT i.id, i.number, i.amount_cents, i.issued, i.due, i.status,
                   coalesce(sum(p.amount_cents), 0) AS paid_cents
            FROM invoices i LEFT JOIN payments p ON p.invoice_id = i.id
            WHERE i.customer_id = :cid AND (CAST(:status AS text) IS NULL OR i.status = :status)
            GROUP BY i.id
            ORDER BY i.issued DESC
            LIMIT 50
            """
        ),
        {"cid": customer_id, "status": status},
    ).mappings().all()
    return {
        "invoices": [
            {**dict(r), "issued": r["issued"].isoformat(), "due": r["due"].isoformat()} for r in rows
        ]
    }
