"""Secrets given to an investigation never reach what it writes: every file under --out is searched.

The session's demo investigation (tests/conftest.py) is given a secret in every input a user
gives besides the URL: an Authorization header, a cookie quoted in the symptom, the database
DSN's and the Redis URL's passwords, and a token in a line of the service's log. Its outputs are
every file it leaves (report.json, report.md, report.html, charts, each run's run.json and
requests.parquet) and the CLI's own output. A password and an API key in the URL are seeded
here; tests/test_verify.py searches a verify rerun, tests/test_report.py the rendered reports.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import DEMO_SECRETS, leaks

from tracehound.case import Case
from tracehound.lab import servers
from tracehound.orchestrator import investigate
from tracehound.probe import Target

URL_PASSWORD = "urlpass-5f1e2d"
API_KEY = "apikey-9c8b7a"


def test_no_secret_given_to_investigate_reaches_any_output(demo_investigation) -> None:
    r, out = demo_investigation.result, demo_investigation.out
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["requests"] > 0 and (out / "report.html").is_file() and list(out.glob("runs/*/requests.parquet"))
    # The service did log the token: the log analyst read a file that holds it.
    assert any(DEMO_SECRETS["logged"] in p.read_text(errors="replace") for p in out.parent.glob("logs/**/*.log"))
    assert not leaks(out, DEMO_SECRETS.values()), leaks(out, DEMO_SECRETS.values())
    for stream in (r.stdout, r.stderr):
        assert not [s for s in DEMO_SECRETS.values() if s in stream], stream


def test_secrets_in_the_url_stay_out_of_the_runs(faulty, tmp_path: Path) -> None:
    """A password and an API key in the URL: not in run.json, the records, the report or the charts."""
    base = faulty.base_url.replace("://", f"://alice:{URL_PASSWORD}@", 1)
    target = Target.parse(f"{base}/status/500?api_key={API_KEY}", None, [], None, None)
    try:
        investigate(Case(target=target, budget_s=10, max_concurrency=4), tmp_path / "inv")
    finally:
        servers.guard()
    assert list((tmp_path / "inv").glob("runs/*/run.json"))
    assert not leaks(tmp_path / "inv", (URL_PASSWORD, API_KEY)), leaks(tmp_path / "inv", (URL_PASSWORD, API_KEY))
