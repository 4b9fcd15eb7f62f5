"""A throwaway Redis, without persistence."""

from __future__ import annotations

import contextlib
import shutil
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.lab.servers._binaries import find_binary
from tracehound.lab.servers._folders import temp_dir
from tracehound.lab.servers._ports import HOST, Launch, start_listening
from tracehound.lab.servers._process import Process


@dataclass
class Redis:
    """A running Redis server without persistence."""

    port: int
    log: Path
    process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


@contextlib.contextmanager
def redis(log_dir: Path, args: Sequence[str] = ()) -> Iterator[Redis]:
    """A fresh ``redis-server`` on 127.0.0.1, no RDB/AOF; ``args`` are extra ``--option value`` pairs."""
    binary = find_binary("redis-server", "redis-server")
    root = temp_dir("redis")
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "redis.log"
    try:
        def make(port: int) -> Launch:
            argv = [
                binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
                "--dir", str(root), "--daemonize", "no", "--logfile", "", *args,
            ]
            return Process("redis-server", argv, log, cwd=root), lambda: _redis_ready(port), "answering PING"

        proc, port = start_listening(make)
        try:
            yield Redis(port, log, proc)
        finally:
            proc.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _redis_ready(port: int) -> bool:
    with socket.create_connection((HOST, port), timeout=1.0) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")
