"""The parcel carrier's label API (sandbox): renders a shipping label, which takes about a second."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("carrier")


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def create_label(request: Request) -> JSONResponse:
    body = await request.json()
    # Rendering the label and booking the pickup slot.
    await asyncio.sleep(random.uniform(0.8, 1.4))
    tracking = "1Z" + uuid.uuid4().hex[:16].upper()
    pdf = base64.b64encode(f"%PDF-1.4 label {tracking} {body.get('weight_g')}g".encode()).decode()
    log.info("label %s for shipment %s", tracking, body.get("reference"))
    return JSONResponse({"tracking_number": tracking, "label_pdf": pdf, "service": body.get("service", "standard")},
                        status_code=201)


app = Starlette(routes=[Route("/health", health), Route("/v2/labels", create_label, methods=["POST"])])
