"""The HAR inspector: endpoints, timing phases, plateaus, expired or missing Authorization, CORS, redaction, bad
files."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tracehound.agents.har import har_agent, inspect_har
from tracehound.browser.har import entries, for_import, load, redact_har
from tracehound.case import Case
from tracehound.errors import BadImport
from tracehound.probe import Target

T0 = datetime(2026, 2, 10, 14, 23, tzinfo=UTC)
API = "http://api.example.test"
APP = "http://app.example.test"


def _b64(d: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")


def jwt(iat: float, exp: float) -> str:
    return (f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': '42', 'iat': int(iat), 'exp': int(exp)})}"
            ".c2lnbmF0dXJlLXNlY3JldA")


def entry(at: float, url: str, status: int, ms: float, method: str = "GET", wait: float | None = None,
          headers: dict | None = None, resp_headers: dict | None = None, failure: str | None = None) -> dict:
    wait = ms - 10 if wait is None else wait
    e = {
        "startedDateTime": (T0 + timedelta(seconds=at)).isoformat().replace("+00:00", "Z"),
        "time": ms,
        "_resourceType": "fetch",
        "request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [], "queryString": [],
                    "headers": [{"name": k, "value": v} for k, v in (headers or {}).items()],
                    "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                     "headers": [{"name": k, "value": v} for k, v in (resp_headers or {}).items()],
                     "content": {"size": 0, "mimeType": "application/json"}, "redirectURL": "",
                     "headersSize": -1, "bodySize": 0},
        "cache": {},
        "timings": {"blocked": 2, "dns": -1, "connect": -1, "ssl": -1, "send": 1, "wait": wait,
                    "receive": ms - wait - 3},
    }
    if failure:
        e["response"]["_failureText"] = failure
    return e


def write(tmp_path: Path, items: list[dict], name: str = "session.har") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": items}}))
    return p


@pytest.fixture
def session_har(tmp_path: Path) -> Path:
    """A profile endpoint that times out at the gateway one request in four, a module endpoint
    refusing an expired token, a refused preflight and a cross-origin answer without CORS headers."""
    start = T0.timestamp()
    items = []
    for i in range(32):
        if i % 4 == 3:
            items.append(entry(i, f"{API}/api/users/1/profile", 504, 2001.0 + i % 5, wait=1995.0))
        else:
            items.append(entry(i, f"{API}/api/users/1/profile", 200, 60.0 + i % 7))
    expired = jwt(start - 600, start - 30)
    for i in range(4):
        items.append(entry(40 + i, f"{API}/api/modules/7", 401, 12.0, headers={"Authorization": f"Bearer {expired}"}))
    items.append(entry(45, f"{API}/api/modules/8", 401, 11.0))
    items.append(entry(46, f"{API}/api/upload", 403, 5.0, method="OPTIONS",
                       headers={"Origin": APP, "Access-Control-Request-Method": "PUT"}))
    items.append(entry(47, f"{API}/api/me", 200, 30.0, headers={"Origin": APP}))
    return write(tmp_path, items)


def names(res) -> set[str]:
    return {s.name for s in res.signals}


def test_the_inspector_finds_each_cause_evidence(session_har: Path):
    res = inspect_har(session_har)
    got = names(res)
    assert res.entries == 39 and res.failures == 8 + 5 + 1
    # Expired bearer tokens, decoded against each entry's own time; the one sent without any.
    assert {"har:token_expired", "har:authorization_missing"} <= got
    expired = next(s for s in res.signals if s.name == "har:token_expired")
    assert expired.strength == 1.0 and "expired 70 s before" in expired.exemplars[0]  # sent 40 s after T0
    # CORS: the refused preflight and the cross-origin answer with no Access-Control-Allow-Origin.
    assert {"har:cors_preflight_failed", "har:cors_blocked"} <= got
    # Timing phases: the slow requests waited for the server; the traffic analysis sees the plateau.
    assert "har:server_wait_dominates" in got
    assert {"status_504", "failure_latency_plateau", "status_401"} <= got
    titles = [f.title for f in res.findings]
    assert any("endpoint" in t for t in titles) and any("timing phases" in t for t in titles)
    per_endpoint = next(f for f in res.findings if "endpoint" in f.title)
    assert per_endpoint.exemplars[0].startswith("GET /api/users/1/profile: 8/32 failed (25%)")
    assert {"har:token_expired", "status_504"} <= set(res.tested)
    # No token text in anything the inspector reports.
    assert "eyJ" not in json.dumps(res.to_dict())


def test_a_healthy_har_shows_no_failure_signal(tmp_path: Path):
    ok = jwt(T0.timestamp() - 10, T0.timestamp() + 3600)
    p = write(tmp_path, [entry(i, f"{API}/api/items", 200, 40.0, headers={"Authorization": f"Bearer {ok}"})
                         for i in range(20)])
    res = inspect_har(p)
    assert res.failures == 0
    assert not {n for n in names(res) if n.startswith(("har:", "status_"))}


def test_playwright_hars_with_status_minus_one_are_read(tmp_path: Path):
    items = [entry(i, f"{API}/api/feed", 200, 50.0) for i in range(6)]
    items += [entry(10 + i, f"{API}/api/feed", -1, -1, failure="net::ERR_CONNECTION_RESET") for i in range(3)]
    p = write(tmp_path, items)
    got = entries(load(p), p)
    assert [e.status for e in got[-3:]] == [0, 0, 0] and got[-1].error == "net::ERR_CONNECTION_RESET"
    assert all(e["response"]["status"] == 0 for e in for_import(load(p))["log"]["entries"][-3:])
    res = inspect_har(p)
    assert res.failures == 3 and "connection_errors" in names(res)


def test_the_agent_reads_the_case_hars_and_skips_without_one(session_har: Path, tmp_path: Path):
    import asyncio

    case = Case(target=Target("http://127.0.0.1:9/x"))
    assert asyncio.run(har_agent(case, [])).status == "skipped"
    case.sources.har = [session_har, tmp_path / "missing.har"]  # type: ignore[attr-defined]
    res = asyncio.run(har_agent(case, []))
    assert res.status == "ok" and "har:token_expired" in {s.name for s in res.signals}
    assert "missing.har" in res.detail and "No such file" in res.detail


def test_redact_har_masks_every_credential():
    token = jwt(T0.timestamp(), T0.timestamp() + 60)
    doc = {"log": {"entries": [{
        "request": {"url": f"{API}/cb?token=abcdef123456&page=2&t={token}", "headers": [
            {"name": "Authorization", "value": f"Bearer {token}"}, {"name": "Cookie", "value": "sid=s3cr3t"},
            {"name": "Accept", "value": "application/json"}],
            "cookies": [{"name": "sid", "value": "s3cr3t"}],
            "queryString": [{"name": "token", "value": "abcdef123456"}],
            "postData": {"mimeType": "application/json", "text": json.dumps({"password": "hunter22", "user": "ann"})}},
        "response": {"headers": [{"name": "Set-Cookie", "value": "sid=s3cr3t; HttpOnly"}],
                     "cookies": [{"name": "sid", "value": "s3cr3t"}],
                     "content": {"text": json.dumps({"access_token": token, "n": 1})}},
    }]}}
    text = json.dumps(redact_har(doc))
    for secret in ("eyJ", "s3cr3t", "hunter22", "abcdef123456"):
        assert secret not in text, secret
    assert "application/json" in text and "ann" in text and "page=2" in text
    assert "eyJ" in json.dumps(doc), "the original is left alone"


@pytest.mark.parametrize("content, problem", [
    ('{"log": {"entries": [{"request": ', "truncated"),
    ("this is not json", "not valid JSON at line 1"),
    ('{"log": {"pages": []}}', "no log.entries"),
    ('{"log": {"entries": [{"startedDateTime": "2026-01-01T00:00:00Z", "response": {"status": 200}}]}}',
     "entry 0 of log.entries is not a HAR entry (no 'request')"),
    ("", "empty"),
])
def test_a_malformed_har_is_one_line(cli, tmp_path: Path, content: str, problem: str):
    p = tmp_path / "bad.har"
    p.write_text(content)
    with pytest.raises(BadImport) as e:
        inspect_har(p)
    assert problem in e.value.line()
    r = cli("har", str(p))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tracehound: error: cannot read HAR") and problem in lines[0]


def test_har_command_prints_the_findings(cli, session_har: Path):
    r = cli("har", str(session_har))
    assert r.returncode == 0, r.stderr
    assert "GET /api/users/1/profile: 8/32 failed" in r.stdout
    assert "signal har:token_expired" in r.stdout and "signal status_504" in r.stdout
    r = cli("har", str(session_har), "--json")
    doc = json.loads(r.stdout)
    assert doc["entries"] == 39 and any(s["name"] == "har:cors_blocked" for f in doc["findings"] for s in f["signals"])


@pytest.mark.parametrize("field, value, says", [
    ("wait", 1e308, "timings.wait 1e+308 is not a time from 0 to 86,400,000 ms"),
    ("wait", float("inf"), "timings.wait inf is not a time from 0 to 86,400,000 ms"),
    ("wait", "12", "timings.wait '12' is not a number"),
    ("time", 1e308, "time 1e+308 is not a time from 0 to 86,400,000 ms"),
], ids=["1e308", "inf", "a-string", "time-1e308"])
def test_har_and_import_refuse_the_same_impossible_times(tmp_path: Path, field: str, value: object, says: str):
    """Issue 15, row 18: `har` accepted what `import` refused, and printed 300 digits and "median inf ms"."""
    from tracehound.probe.importers import import_file

    e = entry(0.0, f"{API}/orders", 200, 120)
    if field == "time":
        e["time"] = value
    else:
        e["timings"][field] = value
    har = write(tmp_path, [e, entry(1.0, f"{API}/orders", 200, 110)])
    with pytest.raises(BadImport) as inspected:
        inspect_har(har)
    with pytest.raises(BadImport) as imported:
        import_file(har, "har", tmp_path / "run")
    assert says in str(inspected.value) and says in str(imported.value)
    assert str(inspected.value).split(": ", 1)[1] == str(imported.value).split(": ", 1)[1]
