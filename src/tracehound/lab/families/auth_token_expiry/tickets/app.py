"""Box office (aiohttp): which seats are still free for a performance, from the venue's seat-map API."""

from __future__ import annotations

import json
import logging
import os
import time

import aiohttp
from aiohttp import web

VENUE_URL = os.environ["VENUE_URL"]
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
EARLY_S = 0.2

log = logging.getLogger("boxoffice")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    fmt = "%(message)s" if LOG_STYLE == "json" else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=fmt)


class VenueGrant:
    """The box office's grant at the venue: an access token and the refresh token that renews it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.access = ""
        self.refresh = os.environ.get("VENUE_REFRESH_TOKEN", "rt-boxoffice-initial")
        self.expires_at = 0.0

    async def access_token(self) -> str:
        if self.access and time.monotonic() < self.expires_at - EARLY_S:
            return self.access
        async with self.session.post("/oauth/token", data={"grant_type": "refresh_token",
                                                           "refresh_token": self.refresh}) as r:
            body = await r.json()
            if r.status != 200:
                raise PermissionError(f"venue token refresh failed: {r.status} {body.get('error')}: "
                                      f"{body.get('error_description', '')}")
        self.access, self.refresh = body["access_token"], body["refresh_token"]
        self.expires_at = time.monotonic() + body["expires_in"]
        return self.access


async def venue(app: web.Application):
    async with aiohttp.ClientSession(VENUE_URL, timeout=aiohttp.ClientTimeout(total=5)) as session:
        app["venue"] = session
        app["grant"] = VenueGrant(session)
        yield


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def unavailable(performance: str, exc: Exception) -> web.Response:
    if LOG_STYLE == "json":
        log.error(json.dumps({"event": "seatmap_unavailable", "performance": performance, "error": str(exc)}))
    else:
        log.error("seat map for performance %s unavailable: %s", performance, exc)
    if ERROR_STYLE == "200":
        return web.json_response({"performance": performance, "free": [], "on_sale": False,
                                  "message": "Seat selection is temporarily unavailable."})
    raise exc


async def free_seats(request: web.Request) -> web.Response:
    performance = request.match_info["performance"]
    grant: VenueGrant = request.app["grant"]
    try:
        token = await grant.access_token()
        async with request.app["venue"].get(f"/v1/performances/{performance}/seats",
                                            headers={"Authorization": f"Bearer {token}"}) as r:
            if r.status != 200:
                raise PermissionError(f"seat map refused: {r.status}")
            seats = (await r.json())["seats"]
    except PermissionError as e:
        return unavailable(performance, e)
    free = [s["id"] for s in seats if not s["held"]]
    band = request.query.get("band")
    if band:
        free = [s for s in free if s.startswith(band)]
    return web.json_response({"performance": performance, "free": free[:60], "free_count": len(free),
                              "on_sale": True})


def main() -> None:
    app = web.Application()
    app.cleanup_ctx.append(venue)
    app.router.add_get("/health", health)
    app.router.add_get(r"/performances/{performance:\d+}/seats", free_seats)
    web.run_app(app, host="127.0.0.1", port=int(os.environ["PORT"]), access_log=None, print=None)


if __name__ == "__main__":
    main()
