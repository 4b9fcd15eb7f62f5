"""A web API that fails in known ways, and that logs the truth of what it did.

Endpoints:

- ``GET /ok``: 200 with a small JSON body.
- ``/status/{code}``: that status (``Retry-After: 3`` on 429 and 503).
- ``/delay/{ms}``: 200 after sleeping ``ms`` milliseconds without blocking; a client that gives up
  first is logged as ``disconnect`` at the moment the server notices.
- ``/reset``: no response; the server resets the TCP connection (SO_LINGER 0, then abort).
- ``/after-idle/{s}``: 500 for the first request after that path was not asked for ``s`` seconds,
  200 otherwise (a pooled connection dropped while idle, server side).
- ``/fail-nth/{n}``: 500 for the ``n``-th request to that path, 200 for every other one.
- ``/stall-every``: 200; with ``--stall-every S`` the whole event loop blocks for ``--stall`` seconds
  once every ``S`` seconds, whatever the endpoint.
- ``POST /login`` (JSON ``{"user", "password": "s3cret"}``) → ``{"access_token": …}``; 401 otherwise.
- ``GET /me``: needs ``Authorization: Bearer <token>``; 401 otherwise.
- ``POST /items`` → 201 ``{"id": n}`` with ``Location: /items/n``; ``GET /items/{n}`` reads it back.
- ``/bytes/{n}``: an ``n``-byte text body (large ones reach the client in many reads).
- ``/chunked/{k}``: a body sent in ``k`` chunks (``Transfer-Encoding: chunked``).
- ``/echo-headers``: the request headers as JSON; echoes ``X-Custom`` as a response header.

With ``--close-after N`` a connection is closed silently (FIN, no ``Connection: close``) right after
its N-th response, so a client that reuses it gets a reset or an EOF instead of a response.

Every request is one JSON line in ``--log``, written *before* the first byte of the response goes
out: ``event`` (``response``, ``reset`` or ``disconnect``), ``method``, ``path``, ``status`` (null
when none was sent), ``client_port``, ``conn_request`` (1-based count on its connection),
``body_hash`` (BLAKE2b-64 hex, as tracehound records it), ``body_len``, ``headers`` (those the endpoint
added, such as ``Location``) and ``t_ns``. Silent closes
(``close``) and stalls (``stall``, with ``t0_ns``/``t1_ns``) are logged too.

Run it with ``python -m tests.servers.faulty_app --log FILE [--port 0] [...]``; it prints
``listening on 127.0.0.1:PORT`` once its socket accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
from hashlib import blake2b
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

OK_BODY = b'{"ok":true,"service":"faulty"}'
PASSWORD = "s3cret"


class TruthLog:
    """One JSON line per event, flushed at once so a reader never misses a handled request."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "a", buffering=1)  # noqa: SIM115 -- open for the life of the process

    def write(self, **fields: Any) -> None:
        fields.setdefault("t_ns", time.time_ns())
        self._f.write(json.dumps(fields, separators=(",", ":")) + "\n")


def body_hash(body: bytes) -> str:
    return blake2b(body, digest_size=8).hexdigest()


class FaultyApp:
    """The ASGI application (no framework: every byte it sends is visible here)."""

    def __init__(self, log: TruthLog, stall_every: float = 0.0, stall: float = 1.0) -> None:
        self.log = log
        self.stall_every = stall_every
        self.stall = stall
        self.tokens: dict[str, str] = {}
        self.items: dict[int, Any] = {}
        self.ids = itertools.count(1)
        self._stall_task: asyncio.Task | None = None
        #: Per path: when it was last asked for, and how many times (``/after-idle``, ``/fail-nth``).
        self.last_asked: dict[str, float] = {}
        self.asked: dict[str, int] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                if self.stall_every > 0:
                    self._stall_task = asyncio.get_running_loop().create_task(self._stall_forever())
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if self._stall_task is not None:
                    self._stall_task.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _stall_forever(self) -> None:
        """Block the whole event loop for ``stall`` s once every ``stall_every`` s."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for k in itertools.count(1):
            await asyncio.sleep(max(0.0, start + k * self.stall_every - self.stall - loop.time()))
            t0 = time.time_ns()
            time.sleep(self.stall)  # noqa: ASYNC251 -- blocking the loop is the fault
            self.log.write(event="stall", t0_ns=t0, t1_ns=time.time_ns())

    async def _http(self, scope: dict, receive: Any, send: Any) -> None:
        method, path = scope["method"], scope["path"]
        body = b""
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        truth = {"method": method, "path": path, "client_port": scope["client"][1],
                 "conn_request": scope.get("faulty.conn_request")}
        result = await self._route(method, path, headers, body, receive)
        if result is None:
            self.log.write(event="disconnect", status=None, **truth)
            return
        status, payload, extra = result
        if isinstance(payload, list):  # chunks: no Content-Length, so uvicorn sends them chunked
            chunks = payload
        else:
            chunks = [payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()]
        raw = b"".join(chunks)
        sent = b"" if method == "HEAD" else raw  # uvicorn drops the body of a HEAD response
        self.log.write(event="response", status=status, body_hash=body_hash(sent), body_len=len(sent), headers=extra,
                       **truth)
        out = {"content-type": "application/json", **{k.lower(): v for k, v in extra.items()}}
        if len(chunks) == 1:
            out["content-length"] = str(len(raw))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out.items()]})
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i + 1 < len(chunks)})

    async def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes, receive: Any
    ) -> tuple[int, Any, dict[str, str]] | None:
        if path == "/ok":
            return 200, OK_BODY, {}
        if m := re.fullmatch(r"/status/(\d{3})", path):
            code = int(m.group(1))
            return code, {"status": code}, {"Retry-After": "3"} if code in (429, 503) else {}
        if m := re.fullmatch(r"/delay/(\d+)", path):
            ms = int(m.group(1))
            if not await _sleep_unless_gone(ms / 1000, receive):
                return None
            return 200, {"delayed_ms": ms}, {}
        if m := re.fullmatch(r"/after-idle/(\d+(?:\.\d+)?)", path):
            # Like a pooled connection the far side dropped while it sat idle: the first request
            # after the path has been quiet that long fails, the next ones work.
            now, last = time.monotonic(), self.last_asked.get(path)
            self.last_asked[path] = now
            if last is not None and now - last >= float(m.group(1)):
                return 500, {"detail": "connection was closed by the server while idle"}, {}
            return 200, OK_BODY, {}
        if m := re.fullmatch(r"/fail-nth/(\d+)", path):
            self.asked[path] = self.asked.get(path, 0) + 1
            if self.asked[path] == int(m.group(1)):
                return 500, {"detail": "internal error"}, {}
            return 200, OK_BODY, {}
        if path == "/stall-every":
            return 200, {"stall_every_s": self.stall_every, "stall_s": self.stall}, {}
        if path == "/login" and method == "POST":
            try:
                creds = json.loads(body)
            except ValueError:
                return 400, {"detail": "body is not JSON"}, {}
            if not isinstance(creds, dict) or creds.get("password") != PASSWORD:
                return 401, {"detail": "bad credentials"}, {}
            token = secrets.token_hex(12)
            self.tokens[token] = str(creds.get("user", "anonymous"))
            return 200, {"access_token": token}, {}
        if path == "/me":
            auth = headers.get("authorization", "")
            user = self.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
            if user is None:
                return 401, {"detail": "not authenticated"}, {"WWW-Authenticate": "Bearer"}
            return 200, {"user": user}, {}
        if path == "/items" and method == "POST":
            try:
                item = json.loads(body) if body else {}
            except ValueError:
                return 400, {"detail": "body is not JSON"}, {}
            i = next(self.ids)
            self.items[i] = item
            return 201, {"id": i}, {"Location": f"/items/{i}"}
        if m := re.fullmatch(r"/items/(\d+)", path):
            i = int(m.group(1))
            if i not in self.items:
                return 404, {"detail": "no such item"}, {}
            return 200, {"id": i, "item": self.items[i]}, {}
        if m := re.fullmatch(r"/bytes/(\d+)", path):
            n = int(m.group(1))
            return 200, bytes(b"0123456789abcdef"[i % 16] for i in range(n)), {"Content-Type": "text/plain"}
        if m := re.fullmatch(r"/chunked/(\d+)", path):
            return 200, [f"chunk {i};".encode() for i in range(int(m.group(1)))], {"Content-Type": "text/plain"}
        if path == "/echo-headers":
            return 200, {"headers": headers}, {"X-Custom": headers.get("x-custom", "echo")}
        return 404, {"detail": "not found"}, {}


async def _sleep_unless_gone(seconds: float, receive: Any) -> bool:
    """Sleep; False as soon as the client disconnects instead."""
    gone = asyncio.ensure_future(_wait_disconnect(receive))
    try:
        done, _ = await asyncio.wait({gone}, timeout=seconds)
        return not done
    finally:
        gone.cancel()


async def _wait_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def protocol_class(log: TruthLog, close_after: int = 0) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol, plus the faults the ASGI API cannot express."""

    class FaultyProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.served = 0
            self.resetting = False

        def on_headers_complete(self) -> None:
            self.served += 1
            if httptools.parse_url(self.url).path == b"/reset":
                self._reset()
                return
            self.scope["faulty.conn_request"] = self.served  # type: ignore[typeddict-unknown-key]
            super().on_headers_complete()

        def _reset(self) -> None:
            self.resetting = True
            log.write(event="reset", method=self.parser.get_method().decode(), path="/reset", status=None,
                      client_port=self.client[1] if self.client else None, conn_request=self.served)
            sock = self.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()  # close() with linger 0: the kernel sends RST, not FIN

        def on_body(self, body: bytes) -> None:
            if not self.resetting:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self.resetting:
                super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if close_after and self.served >= close_after and not self.transport.is_closing():
                self._unset_keepalive_if_required()
                log.write(event="close", client_port=self.client[1] if self.client else None,
                          conn_request=self.served)
                self.transport.close()  # a plain FIN, and no "Connection: close" was announced

    return FaultyProtocol


def _exit_with_parent(parent: int) -> None:
    """Exit when the process that started us is gone (no orphan if a test run is killed)."""

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.25)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.servers.faulty_app", description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed once listening)")
    p.add_argument("--log", required=True, help="JSONL file of what the server really did")
    p.add_argument("--close-after", type=int, default=0, help="close each connection silently after N responses")
    p.add_argument("--stall-every", type=float, default=0.0, help="block the event loop once every S seconds")
    p.add_argument("--stall", type=float, default=1.0, help="how long each stall blocks (seconds)")
    p.add_argument("--ssl-keyfile")
    p.add_argument("--ssl-certfile")
    p.add_argument("--parent", type=int, help="exit when this process is no longer our parent")
    args = p.parse_args(argv)
    if args.parent:
        _exit_with_parent(args.parent)
    log = TruthLog(args.log)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when their proto
    # says TCP, and without it the header and body writes of a response meet Nagle and delayed
    # ACKs (40 ms a response).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(4096)
    config = uvicorn.Config(
        FaultyApp(log, args.stall_every, args.stall),
        http=protocol_class(log, args.close_after),
        loop="asyncio",
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=30,
        ssl_keyfile=args.ssl_keyfile,
        ssl_certfile=args.ssl_certfile,
    )
    print(f"listening on 127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
