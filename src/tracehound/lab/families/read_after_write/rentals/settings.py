"""Django settings of the rentals API, wired from the environment."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

_db = urlsplit(os.environ["DATABASE_URL"])
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")

SECRET_KEY = os.environ.get("SECRET_KEY", "rentals-lab-only")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "urls"
INSTALLED_APPS = ["stays"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
APPEND_SLASH = False

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": unquote(_db.username or ""),
        "PASSWORD": unquote(_db.password or ""),
        "HOST": _db.hostname,
        "PORT": _db.port,
        "CONN_MAX_AGE": 60,
    }
}

OWNER_READS = os.environ.get("OWNER_READS", "cards")

_FORMATS = {
    "plain": "%(asctime)s %(levelname)s [%(name)s] %(message)s",
    "json": '{"time": "%(asctime)s", "level": "%(levelname)s", "logger": "%(name)s", "message": "%(message)s"}',
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": _FORMATS.get(LOG_STYLE, _FORMATS["plain"])}},
    "handlers": {
        "file": {"class": "logging.FileHandler", "filename": os.environ.get("LOG_FILE", "rentals.log"),
                 "formatter": "line"}
        if LOG_STYLE != "none" else {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["file"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["file"], "level": "INFO", "propagate": False}},
}
