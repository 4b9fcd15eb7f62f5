"""Payroll (Flask on gunicorn threads, psycopg 3 with psycopg_pool): a payslip is computed by the
database's gross-to-net function, which walks the year's tax tables and takes a quarter second."""

from __future__ import annotations

import json
import logging
import os
import time

from flask import Flask, abort, jsonify
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"ts": self.formatTime(record), "level": record.levelname.lower(),
                           "logger": record.name, "msg": record.getMessage()})


handler = logging.FileHandler(os.environ["LOG_FILE"]) if os.environ.get("LOG_FILE") else logging.StreamHandler()
handler.setFormatter(JsonLines())
logging.basicConfig(level=logging.INFO, handlers=[handler])
log = logging.getLogger("payroll")

SLOW_STATEMENT_MS = 200
THREADS = int(os.environ.get("DB_CONNECTIONS", "16"))
pool = ConnectionPool(os.environ["DATABASE_URL"], min_size=4, max_size=THREADS, timeout=30,
                      kwargs={"row_factory": dict_row}, open=True)

app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/employees/<int:employee>/payslips/<period>")
def payslip(employee: int, period: str):
    with pool.connection() as conn:
        person = conn.execute("SELECT id, name, grade FROM employees WHERE id = %s", (employee,)).fetchone()
        if person is None:
            abort(404)
        started = time.perf_counter()
        slip = conn.execute("SELECT * FROM gross_to_net(%s, %s)", (employee, period)).fetchone()
        took = (time.perf_counter() - started) * 1000
    if took > SLOW_STATEMENT_MS:
        log.warning("slow statement: gross_to_net(%s, %s) took %.0f ms", employee, period, took)
    return jsonify(employee=person["id"], name=person["name"], period=period,
                   gross_cents=slip["gross_cents"], net_cents=slip["net_cents"], tax_cents=slip["tax_cents"])
