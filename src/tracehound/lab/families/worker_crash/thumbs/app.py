"""Photo album service (Starlette): album pages and resized previews of the uploaded originals."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from PIL import Image
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("albums")

STORE = Path(os.environ.get("DATA_DIR", ".")) / "originals"
#: album -> (camera, width, height) of its photos as uploaded.
ALBUMS = {
    1: ("phone", 2048, 1536),
    2: ("phone", 1920, 1440),
    3: ("compact", 2400, 1600),
    7: ("full frame", int(os.environ.get("LARGE_WIDTH", "8192")), int(os.environ.get("LARGE_HEIGHT", "5464"))),
}


def original(album: int) -> Path:
    path = STORE / f"album-{album}.png"
    if not path.exists():
        STORE.mkdir(parents=True, exist_ok=True)
        _, w, h = ALBUMS[album]
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        Image.new("RGB", (w, h), (64 + album * 20, 120, 160)).save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, path)
    return path


async def health(request):
    return JSONResponse({"status": "ok"})


async def album(request):
    a = request.path_params["album"]
    if a not in ALBUMS:
        raise HTTPException(404)
    camera, w, h = ALBUMS[a]
    return JSONResponse({"album": a, "camera": camera, "photos": [
        {"n": n, "width": w, "height": h, "preview": f"/albums/{a}/photos/{n}/preview"} for n in range(1, 13)]})


def preview(request):
    a = request.path_params["album"]
    if a not in ALBUMS:
        raise HTTPException(404)
    size = min(int(request.query_params.get("size", "480")), 1600)
    with Image.open(original(a)) as img:
        img.load()
        img.thumbnail((size, size))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=80)
    log.info("album %s photo %s: preview %dx%d", a, request.path_params["n"], img.width, img.height)
    return Response(out.getvalue(), media_type="image/jpeg")


app = Starlette(routes=[
    Route("/health", health),
    Route("/albums/{album:int}", album),
    Route("/albums/{album:int}/photos/{n:int}/preview", preview),
])

for _a in ALBUMS:
    original(_a)
