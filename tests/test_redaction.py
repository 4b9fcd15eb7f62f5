"""Secrets given to an investigation never reach what it writes: every file under --out is searched.

Secrets go into every input a user gives: the URL's password and API key, an Authorization
header, the symptom text, the database DSN and Redis URL, and a line of the service's log. The
outputs are every file the investigation leaves (report.json, report.md, report.html, charts,
each run's run.json and requests.parquet), the CLI's own output, and a verify run from it.
"""

from __future__ import annotations

import json
from pathlib import Path

from tracehound import lab
from tracehound.demo import free_port
from tracehound.lab import servers

URL_PASSWORD = "urlpass-5f1e2d"
API_KEY = "apikey-9c8b7a"
BEARER = "bearer-tok-3d4e5f6a"
COOKIE = "cookie-sess-7b8c9d"
DSN_PASSWORD = "dsnpass-1a2b3c"
REDIS_PASSWORD = "redispass-4d5e6f"
LOGGED_TOKEN = "logged-tok-0e1f2a"
SECRETS = (URL_PASSWORD, API_KEY, BEARER, COOKIE, DSN_PASSWORD, REDIS_PASSWORD, LOGGED_TOKEN)


def _leaks(folder: Path) -> dict[str, list[str]]:
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found = [s for s in SECRETS if s.encode() in data]
        if found:
            out[str(path.relative_to(folder))] = found
    return out


def test_no_secret_given_to_investigate_reaches_any_output(cli, tmp_path: Path) -> None:
    sc = lab.get_scenario("demo")
    log = tmp_path / "service.log"
    with lab.up(sc, log_dir=tmp_path / "logs") as inst:
        try:
            url = inst.url.replace("://", f"://alice:{URL_PASSWORD}@", 1) + sc.target["path"] + f"?api_key={API_KEY}"
            log.write_text(inst.app_log.read_text()
                           + f"2026-12-01 10:00:00,000 INFO app: GET /orders with Authorization: Bearer {LOGGED_TOKEN}\n")
            r = cli("investigate", url, "-H", f"Authorization: Bearer {BEARER}",
                    "--symptom", f"fails at peak; curl -H 'Cookie: session={COOKIE}' reproduces it",
                    "--logs", str(log), "--db", f"postgresql://app:{DSN_PASSWORD}@127.0.0.1:{free_port()}/shop",
                    "--redis", f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0",
                    "--budget", "40", "--out", str(tmp_path / "inv"), timeout=200)
            v = cli("verify", str(tmp_path / "inv"), url, "-H", f"Authorization: Bearer {BEARER}",
                    "--out", str(tmp_path / "verify"), "--slo", "error_rate<100%", timeout=200)
        finally:
            servers.guard()
    assert r.returncode == 0, r.stderr
    assert v.returncode in (0, 1), v.stderr
    report = json.loads((tmp_path / "inv" / "report.json").read_text())
    assert report["requests"] > 0 and (tmp_path / "inv" / "report.html").is_file()
    assert not _leaks(tmp_path / "inv"), _leaks(tmp_path / "inv")
    assert not _leaks(tmp_path / "verify"), _leaks(tmp_path / "verify")
    for stream in (r.stdout, r.stderr, v.stdout, v.stderr):
        assert not [s for s in SECRETS if s in stream], stream
