"""The harbour office's database, through one psycopg connection kept for the life of the process."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import psycopg
from psycopg.rows import dict_row


class Harbour:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: psycopg.AsyncConnection[dict[str, Any]] | None = None
        self.lock = asyncio.Lock()
        self.ping = os.environ.get("DB_PING") == "1"

    async def _connection(self) -> psycopg.AsyncConnection[dict[str, Any]]:
        if self.conn is not None and not self.conn.closed and self.ping:
            try:
                await self.conn.execute("SELECT 1")
            except psycopg.OperationalError:
                await self.conn.close()
        if self.conn is None or self.conn.closed:
            self.conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True, row_factory=dict_row)
        return self.conn

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async with self.lock:
            conn = await self._connection()
            cur = await conn.execute(sql, args)
            return await cur.fetchall()

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
