"""Ward rota (Django, no ORM, pyjwt): nurses sign in through the trust's identity provider and see their shifts."""

from __future__ import annotations

import json
import logging
import os
from datetime import date, timedelta

import django
import jwt
import requests
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

IDP_URL = os.environ["IDP_URL"]
IDP_SIGNING_KEY = os.environ.get("IDP_SIGNING_KEY", "trust-idp-hs256-key-0f4e9a2c71b3d8e5")
JWT_LEEWAY_S = float(os.environ.get("JWT_LEEWAY_S", "0"))
REFUSAL_STATUS = int(os.environ.get("REFUSAL_STATUS", "401"))
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "rota-not-secret"),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
    LOGGING_CONFIG=None if LOG_STYLE == "none" else "logging.config.dictConfig",
    LOGGING={
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"format": "%(message)s" if LOG_STYLE == "json"
                                else "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "filename": os.environ.get("LOG_FILE", "rota.log"),
                              "formatter": "line"}},
        "loggers": {"django.request": {"handlers": ["file"], "level": "ERROR"},
                    "rota": {"handlers": ["file"], "level": "INFO"}},
    },
)
django.setup()
log = logging.getLogger("rota")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
idp = requests.Session()
SHIFTS = ["early 07:00-15:00", "late 14:30-22:30", "night 22:00-07:30", "off", "long day 07:00-19:30"]


def refuse(request: HttpRequest, reason: str) -> JsonResponse:
    if LOG_STYLE == "json":
        log.info(json.dumps({"event": "auth_refused", "path": request.path, "reason": reason}))
    else:
        log.info("refused %s: %s", request.path, reason)
    return JsonResponse({"detail": "Authentication credentials were not valid.", "code": "not_authenticated"},
                        status=REFUSAL_STATUS)


def nurse(request: HttpRequest) -> dict | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not token:
        return None
    return jwt.decode(token, IDP_SIGNING_KEY, algorithms=["HS256"], audience="ward-rota", leeway=JWT_LEEWAY_S)


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@csrf_exempt
def login(request: HttpRequest) -> JsonResponse:
    creds = json.loads(request.body or b"{}")
    r = idp.post(f"{IDP_URL}/connect/token", timeout=5, data={
        "grant_type": "password", "username": creds.get("username", ""), "password": creds.get("password", ""),
        "audience": "ward-rota"})
    if r.status_code != 200:
        return JsonResponse({"detail": "Sign-in failed."}, status=401)
    return JsonResponse({"access_token": r.json()["access_token"]})


def my_shifts(request: HttpRequest) -> JsonResponse:
    try:
        claims = nurse(request)
    except jwt.InvalidTokenError as e:
        return refuse(request, f"{type(e).__name__}: {e}")
    if claims is None:
        return refuse(request, "no bearer token")
    monday = date.fromisoformat(request.GET.get("week", "2026-12-07"))
    seed = sum(map(ord, claims["sub"]))
    week = [{"date": (monday + timedelta(days=d)).isoformat(), "shift": SHIFTS[(seed + d * 3) % len(SHIFTS)],
             "ward": f"Ward {(seed + d) % 9 + 1}"} for d in range(7)]
    return JsonResponse({"nurse": claims["sub"], "name": claims.get("name"), "week": week})


urlpatterns = [path("health", health), path("api/login", login), path("api/me/shifts", my_shifts)]
app = get_wsgi_application()
