"""The web debugger: real headless Chromium against the lab's front-end pages, bad pages, and investigate.

One Chromium serves the module (launched once); each front-end scenario runs once for the module.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pyarrow.compute as pc
import pytest

from tracehound import lab
from tracehound.agents.browser import browser_agent, browser_findings
from tracehound.agents.har import inspect_har
from tracehound.browser import BadPage, BrowserMissing, Chromium, browse
from tracehound.case import Case, Sources
from tracehound.lab import servers
from tracehound.orchestrator import investigate
from tracehound.probe import Target


@pytest.fixture(scope="class")
def chrome():
    """One Chromium for the browse tests. Sync Playwright holds an event loop on this thread while it
    runs, so it is stopped before the tests that call asyncio.run (the agent, investigate)."""
    with Chromium() as c:
        yield c


@pytest.fixture(scope="module")
def canvas(tmp_path_factory):
    sc = lab.get_scenario("canvas_page_token_expiry")
    with lab.up(sc, log_dir=tmp_path_factory.mktemp("canvas") / "logs") as inst:
        yield sc, inst


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    sc = lab.get_scenario("profile_page_gateway_timeout")
    with lab.up(sc, log_dir=tmp_path_factory.mktemp("profile") / "logs") as inst:
        yield sc, inst


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _signals(findings) -> dict:
    return {s.name: s for f in findings for s in f.signals}


def _no_token_written(folder: Path) -> None:
    for f in folder.rglob("*"):
        if f.is_file() and f.suffix in (".json", ".har"):
            assert "eyJ" not in f.read_text(), f


class TestBrowse:
    """Chromium against the lab's pages: the cause evidence on each, and pages that cannot be browsed."""

    def test_browse_sees_the_expired_token_the_page_keeps(self, chrome, canvas, tmp_path: Path):
        sc, inst = canvas
        res = chrome.browse(inst.url + sc.page, times=10, interval_s=0.5, stop_after=2, out=tmp_path / "run")
        assert not res.loads[0].failed and len(res.failed_loads) == 2, [ld.reasons for ld in res.loads]
        ld = res.failed_loads[0]
        bad = [c for c in ld.api_calls if c.failed]
        assert [c.status for c in bad] == [401] and bad[0].token is not None and bad[0].token.expired
        assert bad[0].token.lifetime_s == pytest.approx(3, abs=1)
        assert ld.ui_errors == ["Failed to load module."]
        stored = [t for t in ld.tokens if t.where == "localStorage:canvas.session"]
        assert stored and stored[0].expired and all(s.preview == "[redacted]" for s in ld.storage if s.tokens)
        # Empty storage (a new session) works again; the stored state fails again.
        assert [(ld.fresh, ld.failed) for ld in res.rechecks] == [(True, False), (False, True)] * 2

        findings, tested, _ = browser_findings(res)
        sigs = _signals(findings)
        assert {"browser:token_expired", "browser:api_unauthorized", "browser:fresh_session_recovers",
                "browser:page_load_failed", "browser:token_short_lifetime"} <= set(sigs)
        assert sigs["browser:token_expired"].strength == 1.0 and sigs["browser:api_unauthorized"].strength == 1.0
        assert "browser:api_gateway_timeout" in tested and "browser:api_gateway_timeout" not in sigs

        # The requests are records of a run folder, tagged as the browser's.
        t = res.run.table
        assert set(t.column("source").to_pylist()) == {"browser"}
        refused = t.filter(pc.equal(t.column("status"), 401))
        assert refused.num_rows == 4 and set(refused.column("step").to_pylist()) == {"fetch"}  # two loads, two rechecks
        assert ld.screenshot and ld.screenshot.stat().st_size > 0 and ld.har and ld.har.is_file()
        _no_token_written(res.folder)
        assert "eyJ" not in json.dumps(t.column("body_sample").to_pylist())

    def test_browse_sees_a_504_behind_the_page_while_the_console_stays_silent(self, chrome, profile, tmp_path: Path):
        sc, inst = profile
        res = chrome.browse(inst.url + sc.page, times=16, interval_s=0.2, stop_after=1, out=tmp_path / "run")
        assert res.failed_loads, "three loads in ten fail; sixteen all passing is a one-in-three-hundred chance"
        ld = res.failed_loads[0]
        bad = [c for c in ld.api_calls if c.failed]
        assert [c.status for c in bad] == [504] and 1800 <= bad[0].total_ms <= 10_000  # the gateway's 2 s cut
        assert ld.ui_errors == ["Failed to load user data"]
        assert ld.console_silent and not ld.page_errors
        assert all(e.origin == "browser" for e in ld.console), [e.text for e in ld.console]
        assert res.rechecks == []  # one failing load is no streak

        findings, tested, _ = browser_findings(res)
        sigs = _signals(findings)
        assert {"browser:api_gateway_timeout", "browser:ui_error_console_silent", "browser:slow_api_calls"} <= set(sigs)
        assert "browser:token_expired" not in tested and "browser:api_unauthorized" not in sigs

        # The HAR kept for the failing load is read by the HAR inspector (Playwright's own format).
        h = inspect_har(ld.har)
        assert h.failures >= 1 and "har:server_wait_dominates" in {s.name for s in h.signals}
        _no_token_written(res.folder)

    def test_wait_for_a_selector(self, chrome, canvas, tmp_path: Path):
        sc, inst = canvas
        ok = chrome.browse(inst.url + sc.page, times=1, wait_for="#module .lane", out=tmp_path / "ok")
        assert not ok.loads[0].failed and ok.loads[0].missing_selector is None
        never = chrome.browse(inst.url + sc.page, times=1, wait_for="#no-such-thing", timeout_s=1.5,
                              out=tmp_path / "never")
        assert never.loads[0].reasons == ["'#no-such-thing' never appeared"]
        with pytest.raises(BadPage, match="--wait-for '\\[\\[' is not a usable selector"):
            chrome.browse(inst.url + sc.page, times=1, wait_for="[[", out=tmp_path / "bad")
        assert not (tmp_path / "bad").exists()

    def test_a_page_that_never_loads_or_is_not_html_is_one_line(self, chrome, profile, tmp_path: Path):
        _, inst = profile
        with pytest.raises(BadPage, match="cannot load .*ERR_CONNECTION_REFUSED"):
            chrome.browse(f"http://127.0.0.1:{_free_port()}/", times=3, out=tmp_path / "refused")
        with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            with pytest.raises(BadPage, match="no answer within 2 s"):
                chrome.browse(f"http://127.0.0.1:{port}/", times=3, timeout_s=2, out=tmp_path / "silent")
        with pytest.raises(BadPage, match=r"is not an HTML page \(it answered 200 application/json\)"):
            chrome.browse(inst.url + "/health", times=3, out=tmp_path / "json")
        with pytest.raises(BadPage, match="not an http"):
            chrome.browse("file:///etc/passwd", out=tmp_path / "file")
        assert not any((tmp_path / d).exists() for d in ("refused", "silent", "json", "file"))


def test_missing_chromium_names_the_debian_package(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("TRACEHOUND_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(BrowserMissing) as e:
        browse("http://127.0.0.1:9/")
    assert "apt-get install chromium" in e.value.line()


def test_the_cli_is_one_line_on_a_bad_page_and_reports_a_good_one(cli, canvas, tmp_path: Path):
    r = cli("browse", f"http://127.0.0.1:{_free_port()}/", "--times", "2")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 3 and len(lines) == 1 and lines[0].startswith("tracehound: error: cannot load"), r.stderr
    sc, inst = canvas
    r = cli("browse", inst.url + sc.page, "--times", "2", "--fresh", "--interval", "0", "--out", str(tmp_path / "ok"))
    assert r.returncode == 0, r.stderr
    assert "all 2 loads of the page went well" in r.stdout and str(tmp_path / "ok") in r.stdout
    assert (tmp_path / "ok" / "requests.parquet").is_file() and (tmp_path / "ok" / "browse.json").is_file()


def test_the_agent_skips_without_a_page_and_fails_alone_on_a_bad_one():
    case = Case(target=Target("http://127.0.0.1:9/x"))
    assert asyncio.run(browser_agent(case, [])).status == "skipped"
    case.sources.browser = f"http://127.0.0.1:{_free_port()}/"
    res = asyncio.run(browser_agent(case, []))
    assert res.status == "failed" and res.detail.startswith("cannot load") and "\n" not in res.detail


# The token scenario needs the sweep (its tokens die 2-3 s into each level); the 504s show from the baseline on.
# The budgets leave room for a busy machine: an investigation stops once its leader is clear.
@pytest.mark.parametrize("name, truth, budget, seen", [
    ("canvas_page_token_expiry", "auth_token_expiry", 40, "browser:token_expired"),
    ("profile_page_gateway_timeout", "upstream_timeout", 30, "browser:api_gateway_timeout"),
])
def test_investigate_with_the_page_ranks_the_cause(name: str, truth: str, budget: float, seen: str, canvas, profile,
                                                    tmp_path: Path):
    sc, inst = canvas if name == canvas[0].name else profile
    config = sc.probe_config(inst.url)
    case = Case(target=config.target, flow=config.flow, base_url=inst.url if config.flow else None,
                sources=Sources(browser=inst.url + sc.page), budget_s=budget, max_concurrency=12)
    try:
        inv = investigate(case, tmp_path / "inv")
    finally:
        servers.guard()
    assert inv.verdict == "reproduced"
    res = next(a for a in inv.agents if a.name == "browser")
    assert res.status == "ok", res.detail
    assert {"browser:page_load_failed", seen} <= {s.name for s in res.signals}
    ids = [h.id for h in inv.hypotheses]
    assert truth in ids[:3], [(h.id, round(h.confidence, 3)) for h in inv.hypotheses[:5]]
