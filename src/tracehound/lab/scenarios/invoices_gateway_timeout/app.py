"""Billing API: customers' invoices and account statements, behind the company gateway."""

from __future__ import annotations

import logging
import os
from decimal import ROUND_HALF_UP, Decimal

from fastapi import Depends, FastAPI, HTTPException, Query
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from models import Customer, Invoice

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("billing")

engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
    pool_size=10,
    max_overflow=10,
)
SessionLocal = sessionmaker(engine)

app = FastAPI(title="billing")


def get_db():
    with SessionLocal() as db:
        yield db


def invoice_summary(inv: Invoice) -> dict:
    net = sum(line.quantity * line.unit_price_cents for line in inv.lines)
    tax = sum(
        (Decimal(line.quantity * line.unit_price_cents) * line.tax_rate / 100).quantize(Decimal(1), ROUND_HALF_UP)
        for line in inv.lines
    )
    paid = sum(p.amount_cents for p in inv.payments)
    return {
        "id": inv.id,
        "number": inv.number,
        "issued_on": inv.issued_on.isoformat(),
        "due_on": inv.due_on.isoformat(),
        "status": inv.status,
        "currency": inv.currency,
        "lines": len(inv.lines),
        "net_cents": net,
        "tax_cents": int(tax),
        "total_cents": net + int(tax),
        "paid_cents": paid,
        "last_payment": inv.payments[-1].paid_on.isoformat() if inv.payments else None,
    }


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/api/customers/{customer_id}/invoices")
def list_invoices(
    customer_id: int,
    limit: int = Query(500, ge=1, le=1000),
    db: Session = Depends(get_db),
) -> dict:
    customer = db.get(Customer, customer_id)
    if customer is None:
        raise HTTPException(status_code=404, detail="customer not found")
    invoices = db.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer_id)
        .order_by(Invoice.issued_on.desc())
        .limit(limit)
    ).all()
    items = [invoice_summary(inv) for inv in invoices]
    return {
        "customer": {"id": customer.id, "name": customer.name},
        "count": len(items),
        "balance_cents": sum(i["total_cents"] - i["paid_cents"] for i in items),
        "invoices": items,
    }
