"""Servers on 127.0.0.1: a free port, and waiting until what listens there is ready."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable

from tracehound.errors import ServerFailed
from tracehound.lab.servers._process import Process

HOST = "127.0.0.1"
READY_TIMEOUT = 20.0

Ready = Callable[[], bool]
#: What starting a server on a given port needs: the process, its readiness test, and what we wait for.
Launch = tuple[Process, Ready, str]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(proc: Process, ready: Ready, what: str, timeout: float = READY_TIMEOUT) -> None:
    """Poll ``ready()`` until it is true; :class:`ServerFailed` if ``proc`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if not proc.alive():
            raise proc.failed(what)
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise proc.failed(f"{what} within {timeout:g}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def http_ready(port: int, path: str = "/") -> bool:
    """True once anything answers HTTP on ``port`` (any status: the server is up)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2.0)
    try:
        conn.request("GET", path, headers={"User-Agent": "tracehound-lab-readiness"})
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def start_listening(make: Callable[[int], Launch], timeout: float = READY_TIMEOUT,
                    attempts: int = 3) -> tuple[Process, int]:
    """Start ``make(port)`` on a free port, trying another port if the first one was taken meanwhile."""
    for attempt in range(attempts):
        port = free_port()
        proc, ready, what = make(port)
        proc.start()
        try:
            wait_until(proc, ready, what, timeout)
            return proc, port
        except ServerFailed:
            retry = proc.bind_failed() and attempt + 1 < attempts
            proc.stop()
            if not retry:
                raise
        except BaseException:
            proc.stop()
            raise
    raise AssertionError("unreachable")  # pragma: no cover
