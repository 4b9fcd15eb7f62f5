"""Customers, their invoices, invoice lines and payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str]
    country: Mapped[str]

    invoices: Mapped[list[Invoice]] = relationship(back_populates="customer")


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    number: Mapped[str]
    issued_on: Mapped[date]
    due_on: Mapped[date]
    status: Mapped[str]
    currency: Mapped[str]

    customer: Mapped[Customer] = relationship(back_populates="invoices")
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.id")
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.paid_on")


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    description: Mapped[str]
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    tax_rate: Mapped[Decimal]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    paid_on: Mapped[date]
    amount_cents: Mapped[int]
    method: Mapped[str]

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
