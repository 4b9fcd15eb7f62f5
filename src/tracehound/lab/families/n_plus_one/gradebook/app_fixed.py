"""Gradebook API (Django): a course's roster with each student's advisor and grades so far."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import django
from django.conf import settings

_db = urlsplit(os.environ["DATABASE_URL"])
_LOG_STYLE = os.environ.get("LOG_STYLE", "plain")
_FORMATS = {
    "plain": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    "json": '{"time": "%(asctime)s", "level": "%(levelname)s", "logger": "%(name)s", "msg": "%(message)s"}',
}

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("SECRET_KEY", "gradebook-local"),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["roster"],
    MIDDLEWARE=[],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _db.path.lstrip("/"),
            "USER": _db.username,
            "PASSWORD": _db.password,
            "HOST": _db.hostname,
            "PORT": _db.port,
            "CONN_MAX_AGE": 60,
        }
    },
    LOGGING={
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"f": {"format": _FORMATS.get(_LOG_STYLE, _FORMATS["plain"])}},
        "handlers": {"h": {"class": "logging.StreamHandler", "formatter": "f"}},
        "loggers": {"gradebook": {"handlers": ["h"] if _LOG_STYLE != "none" else [], "level": "INFO"}},
    },
)
django.setup()

import logging  # noqa: E402
import time  # noqa: E402

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import Http404, JsonResponse  # noqa: E402
from django.shortcuts import get_object_or_404  # noqa: E402
from django.urls import path  # noqa: E402
from roster.models import Course, Enrollment  # noqa: E402

log = logging.getLogger("gradebook")


def health(request):
    return JsonResponse({"status": "ok"})


def roster(request, course_id: int):
    started = time.monotonic()
    course = get_object_or_404(Course, pk=course_id)
    enrollments = (Enrollment.objects.filter(course=course).order_by("section", "id")
                   .select_related("student__advisor").prefetch_related("grades"))
    rows = []
    for e in enrollments:
        scores = [float(g.points) for g in e.grades.all()]
        rows.append({
            "student": e.student.name,
            "number": e.student.number,
            "section": e.section,
            "advisor": e.student.advisor.name,
            "office": e.student.advisor.office,
            "average": round(sum(scores) / len(scores), 1) if scores else None,
        })
    log.info("roster course=%s students=%d in %.0f ms", course.code, len(rows),
             (time.monotonic() - started) * 1000)
    return JsonResponse({"course": course.code, "title": course.title, "students": rows})


def course_list(request):
    courses = list(Course.objects.order_by("id").values("id", "code", "title")[:100])
    if not courses:
        raise Http404("no courses")
    return JsonResponse({"courses": courses})


urlpatterns = [
    path("health", health),
    path("api/courses", course_list),
    path("api/courses/<int:course_id>/roster", roster),
]

app = get_wsgi_application()
