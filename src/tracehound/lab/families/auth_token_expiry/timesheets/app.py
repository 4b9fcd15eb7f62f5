"""Timesheet approvals (Flask, requests): a manager's team for the week, with names and contracts from the HR system."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import date, timedelta

import requests
from flask import Flask, jsonify

HR_URL = os.environ["HR_URL"]
HR_CLIENT = (os.environ.get("HR_CLIENT_ID", "timesheets"), os.environ.get("HR_CLIENT_SECRET", "ts-9f2c6e1d"))
TOKEN_CACHE_SECONDS = float(os.environ.get("TOKEN_CACHE_SECONDS", "3600"))
ERROR_STYLE = os.environ.get("ERROR_STYLE", "500")
LOG_STYLE = os.environ.get("LOG_STYLE", "plain")

app = Flask(__name__)
log = logging.getLogger("timesheets")
if LOG_STYLE == "none":
    logging.disable(logging.CRITICAL)
else:
    fmt = "%(message)s" if LOG_STYLE == "json" else "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(filename=os.environ.get("LOG_FILE"), level=logging.INFO, format=fmt)

hr = requests.Session()
hr.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=16))
_cache: dict[str, tuple[str, float]] = {}
_cache_lock = threading.Lock()


def hr_token() -> str:
    with _cache_lock:
        hit = _cache.get("hr")
        if hit and hit[1] > time.monotonic():
            return hit[0]
        r = hr.post(f"{HR_URL}/oauth2/token", data={"grant_type": "client_credentials"}, auth=HR_CLIENT, timeout=5)
        r.raise_for_status()
        token = r.json()["access_token"]
        _cache["hr"] = (token, time.monotonic() + TOKEN_CACHE_SECONDS)
        return token


def hours(employee: str, monday: date) -> list[float]:
    seed = sum(map(ord, employee)) + monday.toordinal()
    return [0.0 if d >= 5 else 7.5 + ((seed * (d + 3)) % 5 - 2) * 0.25 for d in range(7)]


@app.get("/health")
def health():
    return jsonify(status="ok")


@app.get("/managers/<manager>/week/<week>")
def week(manager: str, week: str):
    monday = date.fromisoformat(week)
    monday -= timedelta(days=monday.weekday())
    r = hr.get(f"{HR_URL}/api/v2/managers/{manager}/reports",
               headers={"Authorization": f"Bearer {hr_token()}"}, timeout=5)
    if ERROR_STYLE == "500":
        r.raise_for_status()
    elif r.status_code != 200:
        if LOG_STYLE == "json":
            log.warning(json.dumps({"event": "hr_lookup_failed", "manager": manager, "status": r.status_code,
                                    "www_authenticate": r.headers.get("WWW-Authenticate", "")}))
        else:
            log.warning("HR lookup for manager %s failed: %s %s", manager, r.status_code, r.text[:160])
        if ERROR_STYLE == "passthrough":
            return app.response_class(r.content, status=r.status_code, mimetype="application/json")
        return jsonify(ok=False, error="HR_UNAVAILABLE", message="Team details could not be loaded."), 503
    team = []
    for person in r.json()["reports"]:
        h = hours(person["employee_id"], monday)
        contracted = person["contract_hours"]
        team.append({"employee_id": person["employee_id"], "name": person["display_name"], "hours": h,
                     "total": sum(h), "overtime": max(0.0, sum(h) - contracted)})
    return jsonify(ok=True, manager=manager, week=monday.isoformat(), team=team)
