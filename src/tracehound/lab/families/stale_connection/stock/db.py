"""The warehouse database: one psycopg pool for the process, opened with the app."""

from __future__ import annotations

import os

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def open_pool() -> ConnectionPool:
    size = int(os.environ.get("DB_POOL_SIZE", "4"))
    pool = ConnectionPool(
        os.environ["DATABASE_URL"],
        min_size=size,
        max_size=size,
        kwargs={"row_factory": dict_row, "autocommit": True},
        check=ConnectionPool.check_connection if os.environ.get("DB_CHECK") == "1" else None,
        open=False,
    )
    pool.open(wait=True, timeout=20)
    return pool
