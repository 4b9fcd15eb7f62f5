"""Smart-meter gateway: the portal lists a household's meters and reads each meter's latest
values. asyncio streams and a few lines of HTTP/1.1, no framework: it runs on the gateway's
small ARM box next to the meter bus."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time

from stats import ConnectionStats

KEEPALIVE_TIMEOUT = float(os.environ.get("KEEPALIVE_TIMEOUT", "2"))
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
log = logging.getLogger("gateway")

METERS = {
    h: [{"id": f"M{h:04d}{k}", "kind": kind} for k, kind in enumerate(("power", "gas", "water"))]
    for h in range(1, 501)
}
_rng = random.Random(7)
READINGS = {m["id"]: round(_rng.uniform(100, 90000), 1) for ms in METERS.values() for m in ms}


def route(method: str, path: str) -> tuple[int, dict]:
    if path == "/health":
        return 200, {"status": "ok"}
    if method != "GET":
        return 405, {"error": "method not allowed"}
    if m := re.fullmatch(r"/households/(\d+)/meters", path):
        meters = METERS.get(int(m[1]))
        return (200, {"household": int(m[1]), "meters": meters}) if meters else (404, {"error": "unknown household"})
    if m := re.fullmatch(r"/meters/(M\d{5})/reading", path):
        value = READINGS.get(m[1])
        if value is None:
            return 404, {"error": "unknown meter"}
        return 200, {"meter": m[1], "value": value, "read_at": int(time.time())}
    return 404, {"error": "not found"}


def access(peer: str, method: str, path: str, status: int, ms: float) -> None:
    if LOG_STYLE == "json":
        log.info(json.dumps({"peer": peer, "method": method, "path": path, "status": status, "ms": round(ms, 1)}))
    elif LOG_STYLE == "plain":
        log.info('%s "%s %s" %d %.1fms', peer, method, path, status, ms)


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = "%s:%d" % writer.get_extra_info("peername")[:2]
    stats = ConnectionStats(peer)
    try:
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), KEEPALIVE_TIMEOUT)
            except TimeoutError:
                await stats.flush()
                return
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            started = time.perf_counter()
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            if int(headers.get("content-length", "0")):
                await reader.readexactly(int(headers["content-length"]))
            status, doc = route(method, target.split("?", 1)[0])
            body = json.dumps(doc).encode()
            writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % (status, b"OK" if status == 200 else b"Error", len(body)) + body)
            await writer.drain()
            stats.requests += 1
            stats.bytes_out += len(body)
            access(peer, method, target, status, (time.perf_counter() - started) * 1000)
            if headers.get("connection", "").lower() == "close":
                return
    finally:
        writer.close()


async def run() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", int(os.environ.get("PORT", "8080")))
    log.info("gateway listening, keep-alive %gs", KEEPALIVE_TIMEOUT)
    async with server:
        await server.serve_forever()


def main() -> None:
    if LOG_STYLE == "none":
        logging.disable(logging.CRITICAL)
    else:
        logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                            format="%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(levelname)s %(message)s")
    asyncio.run(run())


if __name__ == "__main__":
    main()
