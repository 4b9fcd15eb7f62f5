"""Sales reports for the merchant dashboard: a CSV of every sale of an account over a period."""

from __future__ import annotations

import csv
import io
import logging
import os
import random
from datetime import date, timedelta

from flask import Flask, Response, abort, request

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("reports")

app = Flask(__name__)

SALES_PER_DAY = {1: 4200, 2: 40, 3: 25, 4: 60, 5: 12}
PRODUCTS = [f"SKU-{i:05d}" for i in range(1, 400)]


def sales(account: int, start: date, days: int):
    rng = random.Random(account)
    for d in range(days):
        day = start + timedelta(days=d)
        for n in range(SALES_PER_DAY[account]):
            qty = rng.randint(1, 4)
            price = rng.randint(199, 9999)
            yield (f"{account}-{day:%Y%m%d}-{n:05d}", day.isoformat(), rng.choice(PRODUCTS), qty, price, qty * price)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/api/accounts/<int:account>/reports/sales.csv")
def sales_report(account: int):
    if account not in SALES_PER_DAY:
        abort(404)
    days = int(request.args.get("days", 30))
    start = date(2024, 6, 1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sale_id", "day", "sku", "quantity", "unit_price_cents", "total_cents"])
    total = 0
    for row in sales(account, start, days):
        writer.writerow(row)
        total += row[5]
    writer.writerow(["TOTAL", "", "", "", "", total])
    log.info("account %d: sales report, %d days, %d bytes", account, days, out.tell())
    return Response(out.getvalue(), mimetype="text/csv")
