"""The rentals API: hosts create and edit listings; everybody browses listing cards."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from models import Listing, ListingCard

log = logging.getLogger("rentals")
STATUSES = ("draft", "live", "paused")


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _card(c: ListingCard) -> dict:
    return {"id": c.listing_id, "host": c.host, "headline": c.headline, "city": c.city,
            "nightly_rate": c.nightly_rate, "status": c.status, "badges": c.badges}


def _card_of(x: Listing) -> dict:
    return {"id": x.id, "host": x.host, "headline": f"{x.title} in {x.city}", "city": x.city,
            "nightly_rate": x.nightly_rate, "status": x.status,
            "badges": ["good value"] if x.nightly_rate < 80 else []}


def _owner_cards(**where) -> list[dict]:
    if settings.OWNER_READS == "source":
        return [_card_of(x) for x in Listing.objects.filter(**where).order_by("-id")]
    return [_card(c) for c in ListingCard.objects.filter(**where).order_by("-listing_id")]


def _body(request: HttpRequest) -> dict:
    try:
        doc = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _invalid(reason: str) -> JsonResponse:
    return JsonResponse({"detail": reason}, status=400)


@csrf_exempt
@require_http_methods(["POST"])
def listings(request: HttpRequest) -> JsonResponse:
    doc = _body(request)
    try:
        rate = int(doc.get("nightly_rate", 0))
    except (TypeError, ValueError):
        return _invalid("nightly_rate must be a whole number")
    if not doc.get("host") or not doc.get("title") or rate <= 0:
        return _invalid("host, title and a positive nightly_rate are required")
    x = Listing.objects.create(host=doc["host"], title=doc["title"], city=doc.get("city", "Lisbon"),
                               nightly_rate=rate, status=doc.get("status", "draft"))
    log.info("listing %s created by %s", x.id, x.host)
    return JsonResponse(_card_of(x), status=201)


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def listing(request: HttpRequest, listing_id: int) -> JsonResponse:
    if request.method == "PATCH":
        doc = _body(request)
        changes = {k: doc[k] for k in ("title", "city", "nightly_rate", "status") if k in doc}
        if "status" in changes and changes["status"] not in STATUSES:
            return _invalid(f"status must be one of {', '.join(STATUSES)}")
        x = Listing.objects.filter(pk=listing_id).first()
        if x is None:
            return JsonResponse({"detail": "Not found."}, status=404)
        for k, v in changes.items():
            setattr(x, k, v)
        x.save()
        log.info("listing %s updated: %s", x.id, ", ".join(sorted(changes)))
        return JsonResponse(_card_of(x))
    found = _owner_cards(pk=listing_id)
    if not found:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(found[0])


def host_listings(request: HttpRequest, host: str) -> JsonResponse:
    cards = _owner_cards(host=host)
    return JsonResponse({"host": host, "count": len(cards), "results": cards[:50]})
