"""A small thread-safe pool of psycopg connections, shared by the worker's threads."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


class PoolTimeout(Exception):
    pass


class Pool:
    def __init__(self, dsn: str, size: int, timeout: float) -> None:
        self.dsn = dsn
        self.size = size
        self.timeout = timeout
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._opened = 0
        self._lock = threading.Lock()

    def _get(self) -> psycopg.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._opened < self.size:
                self._opened += 1
                return psycopg.connect(self.dsn)
        try:
            return self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise PoolTimeout(f"couldn't get a connection after {self.timeout:.2f} sec") from None

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        conn = self._get()
        try:
            with conn.transaction():
                yield conn
        finally:
            if conn.closed:
                with self._lock:
                    self._opened -= 1
            else:
                self._idle.put(conn)
