"""A tiny HTTP/1.1 server that fails in one chosen way, for the experiments of tracehound.plan.shapes.

Every path answers ``200 {"ok":true}`` unless a flag says otherwise:

- ``--idle-reset-ms M``: a request on a reused connection that sat idle at least ``M`` ms gets a
  reset instead of an answer (a keep-alive race, made certain).
- ``--fail-every N``: every ``N``-th request (over all connections) gets a 500.
- ``--hang-every N``: every ``N``-th request is never answered.
- ``--slow-every N --slow-ms S``: every ``N``-th request is answered after ``S`` ms.
- ``--cut-ms C``: a request not answered within ``C`` ms gets a 504 then (a gateway's timeout).
- ``--window-ms W --window-limit L``: more than ``L`` requests in one fixed window of ``W`` ms get 429.
- ``--pool K --hold-ms H --wait-ms T``: each request holds one of ``K`` slots for ``H`` ms; one that
  cannot get a slot within ``T`` ms gets a 503.

Run it with ``python -m tests.servers.exp_app [flags]``; it prints ``listening on 127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import sys
import time


def _response(status: int, reason: str, body: bytes, close: bool) -> bytes:
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + ("Connection: close\r\n" if close else "") + "\r\n")
    return head.encode() + body


class App:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.n = 0
        self.window = (-1, 0)
        self.pool = asyncio.Semaphore(a.pool) if a.pool else None

    async def answer(self) -> tuple[int, str] | None:
        """The status of the next request, or None for one never answered."""
        a = self.a
        self.n += 1
        n = self.n
        if a.window_ms:
            w = int(time.monotonic() * 1000 // a.window_ms)
            count = self.window[1] + 1 if self.window[0] == w else 1
            self.window = (w, count)
            if count > a.window_limit:
                return 429, "Too Many Requests"
        if a.fail_every and n % a.fail_every == 0:
            return 500, "Internal Server Error"
        if a.hang_every and n % a.hang_every == 0:
            await asyncio.sleep(3600)
        if a.slow_every and n % a.slow_every == 0:
            await asyncio.sleep(a.slow_ms / 1000)
        if self.pool is not None:
            try:
                await asyncio.wait_for(self.pool.acquire(), a.wait_ms / 1000)
            except TimeoutError:
                return 503, "Service Unavailable"
            try:
                await asyncio.sleep(a.hold_ms / 1000)
            finally:
                self.pool.release()
        return 200, "OK"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        last_end: float | None = None
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                now = time.monotonic()
                if (self.a.idle_reset_ms and last_end is not None
                        and (now - last_end) * 1000 >= self.a.idle_reset_ms):
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                close = b"connection: close" in head.lower()
                task = asyncio.ensure_future(self.answer())
                try:
                    got = await asyncio.wait_for(asyncio.shield(task), self.a.cut_ms / 1000) if self.a.cut_ms \
                        else await task
                except TimeoutError:
                    got = (504, "Gateway Timeout")
                    task.cancel()
                if got is None:
                    return
                status, reason = got
                writer.write(_response(status, reason, b'{"ok":%s}' % (b"true" if status == 200 else b"false"),
                                       close))
                await writer.drain()
                last_end = time.monotonic()
                if close:
                    return
        finally:
            with contextlib.suppress(Exception):
                writer.close()


async def main(argv: list[str]) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    for flag in ("idle-reset-ms", "fail-every", "hang-every", "slow-every", "slow-ms", "cut-ms", "window-ms",
                 "window-limit", "pool", "hold-ms", "wait-ms"):
        p.add_argument(f"--{flag}", type=int, default=0)
    a = p.parse_args(argv)
    app = App(a)
    server = await asyncio.start_server(app.handle, "127.0.0.1", a.port, backlog=512)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(sys.argv[1:]))
