"""Holiday lets search (Django, no ORM): homes in a town for a number of guests, from the published listings."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import path

HERE = Path(__file__).resolve().parent
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
ON_ERROR = os.environ.get("ON_ERROR", "raise")

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "lets-search-not-secret"),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    INSTALLED_APPS=[],
    DATABASES={},
    LOGGING_CONFIG=None if LOG_STYLE == "none" else "logging.config.dictConfig",
    LOGGING={
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": "%(message)s" if LOG_STYLE == "json"
                                else "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "filename": os.environ.get("LOG_FILE", "lets.log"),
                              "formatter": "line"}},
        "loggers": {"django.request": {"handlers": ["file"], "level": "ERROR"},
                    "lets": {"handlers": ["file"], "level": "INFO"}},
    },
)
django.setup()
log = logging.getLogger("lets")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)


class Listings:
    """The published listings file, read on first use."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self._homes: list[dict] | None = None

    def homes(self) -> list[dict]:
        if self._homes is None:
            self._homes = json.loads(self.source.read_text(encoding="utf-8"))["homes"]
        return self._homes


LISTINGS = Listings(HERE / os.environ.get("LISTINGS_FILE", "data/listings.json"))


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def search(request: HttpRequest) -> JsonResponse:
    town = request.GET.get("town", "").strip().lower()
    guests = int(request.GET.get("guests", "2") or 2)
    try:
        homes = LISTINGS.homes()
    except OSError as e:
        if ON_ERROR == "raise":
            raise
        if LOG_STYLE == "json":
            log.warning(json.dumps({"event": "listings_unavailable", "town": town, "error": str(e)}))
        else:
            log.warning("listings unavailable, answering an empty search: %s", e)
        return JsonResponse({"town": town, "guests": guests, "count": 0, "results": []})
    found = [h for h in homes if h["town"].lower() == town and h["sleeps"] >= guests]
    found.sort(key=lambda h: (h["nightly_pence"], h["id"]))
    return JsonResponse({"town": town, "guests": guests, "count": len(found), "results": found[:20]})


def home(request: HttpRequest, home_id: int) -> JsonResponse:
    for h in LISTINGS.homes():
        if h["id"] == home_id:
            return JsonResponse(h)
    raise Http404("no such home")


urlpatterns = [path("health", health), path("search", search), path("homes/<int:home_id>", home)]
app = get_wsgi_application()
