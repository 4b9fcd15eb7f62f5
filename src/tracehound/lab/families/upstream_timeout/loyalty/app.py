"""Hotel loyalty wallet (aiohttp): the guest's own points and the airline miles linked to them."""

from __future__ import annotations

import json
import logging
import os
import sys

from aiohttp import ClientError, ClientSession, ClientTimeout, web

PARTNER_URL = os.environ["PARTNER_URL"]
PARTNER_TIMEOUT = ClientTimeout(total=float(os.environ.get("PARTNER_TIMEOUT_S", "10")))
ERROR_STYLE = os.environ.get("ERROR_STYLE", "504")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")

out = open(os.environ["LOG_FILE"], "a", buffering=1) if os.environ.get("LOG_FILE") else sys.stderr  # noqa: SIM115
logging.basicConfig(stream=out, level=logging.INFO if LOG_STYLE != "none" else logging.CRITICAL + 1,
                    format="%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(levelname)s %(name)s %(message)s")
log = logging.getLogger("wallet")


def points_of(guest: int) -> int:
    return (guest * 7919) % 48000


async def wallet(request: web.Request) -> web.Response:
    guest = int(request.match_info["guest"])
    linked = f"FF{guest:08d}"
    try:
        async with request.app["partner"].get(f"{PARTNER_URL}/members/{linked}/balance") as resp:
            resp.raise_for_status()
            miles = await resp.json()
    except (TimeoutError, ClientError) as e:
        if LOG_STYLE == "json":
            log.warning(json.dumps({"msg": "partner balance failed", "guest": guest, "err": type(e).__name__}))
        else:
            log.warning("guest %s: partner balance failed: %r", guest, e)
        if ERROR_STYLE == "json":
            return web.json_response({"ok": False, "error": {"type": "partner_unavailable"}}, status=503)
        raise web.HTTPGatewayTimeout(text="partner did not answer") from e
    return web.json_response({"guest": guest, "points": points_of(guest),
                              "airline": {"member": linked, "miles": miles["miles"], "tier": miles["tier"]}})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def partner_session(app: web.Application):
    async with ClientSession(timeout=PARTNER_TIMEOUT) as session:
        app["partner"] = session
        yield


def main() -> None:
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get(r"/guests/{guest:\d+}/wallet", wallet)
    app.cleanup_ctx.append(partner_session)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)
