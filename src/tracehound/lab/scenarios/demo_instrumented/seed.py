"""Demo data: a few hundred customers and their orders."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Base, Customer, Order, OrderItem

COUNTRIES = ["DE", "FR", "NL", "IT", "ES", "US"]


def seed(engine) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        if db.scalar(select(func.count(Customer.id))):
            return
        rng = random.Random(7)
        customers = [
            Customer(name=f"Customer {i}", email=f"customer{i}@example.com", country=rng.choice(COUNTRIES))
            for i in range(1, 301)
        ]
        db.add_all(customers)
        db.flush()
        for _ in range(1000):
            order = Order(customer_id=rng.choice(customers).id)
            order.items = [
                OrderItem(
                    sku=f"SKU-{rng.randint(1000, 9999)}",
                    quantity=rng.randint(1, 4),
                    unit_price_cents=rng.randint(299, 8999),
                    weight_grams=rng.randint(100, 2500),
                )
                for _ in range(rng.randint(1, 5))
            ]
            db.add(order)
        db.commit()
