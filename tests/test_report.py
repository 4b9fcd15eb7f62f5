"""The RCA report: report.md and a self-contained report.html from real investigations of the demo.

One lab instance of the demo scenario serves two investigations: a short one that cannot
reproduce (one request at a time never exhausts the pool) and a full one that does. Secrets are
seeded into the case (a bearer token, a password and an API key in the URL, a cookie in the
symptom) and into report.json where agents put their words; none may reach a rendered file.
The HTML is loaded in real headless Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DEMO_SECRETS

from tracehound import lab
from tracehound.case import Case
from tracehound.diagnosis.catalog import load_catalog
from tracehound.lab import servers
from tracehound.orchestrator import investigate
from tracehound.probe import Target
from tracehound.redact import redact_text
from tracehound.report import write_report
from tracehound.report.charts import MAX_POINTS, draw_all, load_records

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")

BEARER = "th-seeded-bearer-7f3a9c21"
URL_PASSWORD = "th-seeded-pw-51d2e8"
API_KEY = "th-seeded-key-88e1b4"
COOKIE = "th-seeded-cookie-0b7e66"
DSN_PASSWORD = "th-seeded-dsn-4a19f0"
BODY_PASSWORD = "th-seeded-body-c3d5e7"
REDIS_PASSWORD = "th-seeded-redis-9e2b71"
SECRETS = (BEARER, URL_PASSWORD, API_KEY, COOKIE, DSN_PASSWORD, BODY_PASSWORD, REDIS_PASSWORD,
           *DEMO_SECRETS.values())


@dataclass
class Investigations:
    reproduced: Path
    not_reproduced: Path


@pytest.fixture(scope="module")
def investigations(tmp_path_factory, demo_investigation) -> Investigations:
    """The session's demo investigation (secrets in its case and sources), copied so that agents'
    words can be seeded with more, and one on a 10 s budget with secrets in its URL."""
    tmp = tmp_path_factory.mktemp("report")
    assert demo_investigation.result.returncode == 0, demo_investigation.result.stderr
    shutil.copytree(demo_investigation.out, tmp / "full")
    sc = lab.get_scenario("demo")
    with lab.up(sc) as inst:
        try:
            url = inst.url.replace("://", f"://alice:{URL_PASSWORD}@", 1) + sc.target.path + f"?api_key={API_KEY}"
            target = Target.parse(url, None, [f"Authorization: Bearer {BEARER}"], None, None)
            symptom = f"{sc.symptom}; reproduced with curl -H 'Cookie: session={COOKIE}'"
            investigate(Case(target=target, symptom=symptom, budget_s=10), tmp / "short")
        finally:
            servers.guard()
    _seed_agent_words(tmp / "full" / "report.json")
    return Investigations(tmp / "full", tmp / "short")


def _seed_agent_words(report: Path) -> None:
    """Put secrets where agents write free text: a finding's detail and exemplars, an experiment's outcome."""
    data = json.loads(report.read_text())
    data["agents"][0]["findings"].append({
        "title": "What the service said",
        "detail": f"could not reach postgresql://app:{DSN_PASSWORD}@db:5432/shop nor redis://:{REDIS_PASSWORD}@cache:6379/0",
        "exemplars": [f'POST /login → 500 body {{"user": "alice", "password": "{BODY_PASSWORD}"}}',
                      f"GET /orders/42 with Authorization: Bearer {BEARER}"],
        "signals": [],
    })
    data["experiments"][0]["outcome"] += f"; first error echoed Cookie: session={COOKIE}"
    report.write_text(json.dumps(data))


@pytest.fixture(scope="module")
def rendered(investigations: Investigations) -> tuple[Path, Path]:
    return write_report(investigations.reproduced)


# -- the reproduced report --------------------------------------------------------------------


def test_markdown_has_every_section_of_a_root_cause_write_up(rendered, investigations):
    md_path, _ = rendered
    md = md_path.read_text()
    rep = json.loads((investigations.reproduced / "report.json").read_text())
    assert rep["verdict"] == "reproduced"
    for heading in ("Summary", "Symptom and case", "Evidence collected, per agent", "Experiments", "Charts",
                    "Hypotheses, ranked", "Root cause and contributing factors", "Recommended fix",
                    "Immediate (today)", "Short term (this week)", "Long term (next sprint)", "Verification",
                    "Rollback", "Prevention", "Follow-up tasks", "References", "Appendix: runs"):
        assert re.search(rf"^#+ {re.escape(heading)}$", md, re.MULTILINE), heading
    top = rep["hypotheses"][0]
    mode = load_catalog()[top["id"]]
    assert f"Root cause**: {top['title']}" in md
    assert f'--slo "{mode.verification.slo_text()}"' in md
    assert f"tracehound verify {investigations.reproduced.resolve() / 'report.json'}" in md
    assert mode.fixes.immediate[0] in md and mode.verification.steps[0] in md
    assert all(a.name in md for a in mode.prevention.alerts)
    if mode.fixes.code:
        assert "```" + mode.fixes.code[0].language in md
    # every agent and experiment, and the top hypotheses with every point of evidence
    assert all(f"| {a['name']} | {a['status']} |" in md for a in rep["agents"])
    assert all(e["purpose"] in md for e in rep["experiments"])
    assert all(f"`{e['signal']}`" in md for e in top["evidence_for"] + top["evidence_against"])
    assert "- [ ] " in md
    # the charts it refers to exist beside it
    charts = re.findall(r"!\[[^]]*\]\((charts/[\w]+\.svg)\)", md)
    assert {"charts/latency_over_time.svg", "charts/load_curve.svg", "charts/failure_latency.svg",
            "charts/status_distribution.svg"} <= set(charts)
    for c in charts:
        ET.parse(md_path.parent / c)


class _Page(HTMLParser):
    """Tags, resource references and nesting of an HTML page, as a browser's tokenizer sees them."""

    VOID: ClassVar[set[str]] = {"meta", "link", "img", "br", "hr", "input", "source", "col", "area", "base", "embed",
                                "wbr", "track"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.resources: list[str] = []
        self.anchors: list[str] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        for key in ("src", "srcset", "data", "poster", "xlink:href", "href", "action", "background"):
            v = a.get(key)
            if v is None:
                continue
            if tag == "a" and key == "href":
                self.anchors.append(v)
            else:
                self.resources.append(f"{tag} {key}={v}")
        if a.get("style"):
            self.styles.append(a["style"])
        self._in_style = tag == "style"
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def test_html_is_one_self_contained_file_with_inline_svg_charts(rendered):
    _, html_path = rendered
    html = html_path.read_text()
    page = _Page()
    page.feed(html)
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    # no resource of any kind from outside: no scripts, stylesheets, images, fonts, frames
    assert not [r for r in page.resources if not r.split("=", 1)[1].startswith(("#", "data:"))], page.resources
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    css = "\n".join(page.styles)
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(?!#|data:)", css)
    assert "@media print" in css
    # references are plain links to read, never fetched
    assert page.anchors and all(a.startswith(("#", "https://")) for a in page.anchors)
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.DOTALL)
    assert len(svgs) >= 4
    ids: list[str] = []
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed XML
        ids += [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)), "chart element ids collide across charts"


@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def _open(browser, html_path: Path, width: int = 1100):
    """A page showing ``html_path``; requests leaving ``file:``/``data:`` are recorded and refused."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    seen = {"requests": [], "outside": [], "console": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console",
            lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def guard(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            seen["outside"].append(url)
            route.abort()

    page.route("**/*", guard)
    page.goto(html_path.resolve().as_uri(), wait_until="load")
    return page, seen


def test_html_renders_in_chromium_without_errors_or_outside_requests(rendered, chromium, tmp_path):
    _, html_path = rendered
    page, seen = _open(chromium, html_path)
    try:
        assert not seen["outside"], seen["outside"]
        assert all(u.startswith(("file:", "data:")) for u in seen["requests"]), seen["requests"]
        assert not seen["errors"] and not seen["console"], (seen["errors"], seen["console"])
        assert page.locator("h1").inner_text().startswith("Root cause:")
        charts = page.locator("figure svg")
        assert charts.count() >= 4
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(shot, ARTIFACTS / "report.png")
        # printing: the table of contents goes, the content stays
        page.emulate_media(media="print")
        assert not page.locator("nav.toc").is_visible()
        assert page.locator("#verification").is_visible()
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
        assert not seen["outside"] and not seen["errors"] and not seen["console"]
    finally:
        page.close()


def test_no_seeded_secret_reaches_any_rendered_file(rendered, investigations):
    folder = investigations.reproduced
    source = (folder / "report.json").read_text()
    assert DSN_PASSWORD in source and BODY_PASSWORD in source and COOKIE in source  # the input does hold them
    outputs = [*rendered, *sorted((folder / "charts").glob("*.svg"))]
    assert len(outputs) >= 6
    for path in outputs:
        text = path.read_text()
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{path.name} holds {leaked}"
    md = rendered[0].read_text()
    assert "[redacted]" in md and "postgresql://[redacted]@db:5432/shop" in md


# -- not reproduced ---------------------------------------------------------------------------


def test_not_reproduced_report_says_what_was_tried_and_names_no_cause(investigations, chromium):
    folder = investigations.not_reproduced
    rep = json.loads((folder / "report.json").read_text())
    assert rep["verdict"] == "not_reproduced" and rep["next_steps"]
    md_path, html_path = write_report(folder)
    md = md_path.read_text()
    assert "# Investigation report: Not reproduced" in md
    assert "## Not reproduced: what was tried, what to try next" in md
    assert all(redact_text(s) in md for s in rep["next_steps"])
    for heading in ("Root cause and contributing factors", "Recommended fix", "Verification", "Hypotheses, ranked"):
        assert f"## {heading}" not in md
    named = [i for i in load_catalog() if i != "none" and re.search(rf"\b{i}\b", md)]
    assert not named, f"a report that did not reproduce names {named}"
    assert "tracehound verify" not in md
    assert not [s for s in SECRETS if s in md + html_path.read_text()]
    page, seen = _open(chromium, html_path)
    try:
        assert page.locator("#not-reproduced").is_visible()
        assert not seen["outside"] and not seen["errors"] and not seen["console"]
    finally:
        page.close()


# -- the command ------------------------------------------------------------------------------


def test_report_command_rerenders_and_refuses_a_folder_without_a_report(cli, investigations, tmp_path):
    folder = investigations.reproduced
    (folder / "report.html").unlink(missing_ok=True)
    r = cli("report", str(folder))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(folder / "report.md"), str(folder / "report.html")]
    assert (folder / "report.html").is_file()
    r = cli("report", str(tmp_path))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "report.json" in r.stderr
    (tmp_path / "report.json").write_text('{"schema": "something/else"}')
    r = cli("report", str(tmp_path))
    assert r.returncode == 2 and "not a tracehound report" in r.stderr and "Traceback" not in r.stderr


# -- charts -----------------------------------------------------------------------------------


def _synthetic_run(folder: Path, n: int, kind: str, concurrency: int, fail_every: int) -> Path:
    """A run folder with ``n`` requests, every ``fail_every``-th a 500 after 1 s."""
    folder.mkdir(parents=True)
    i = np.arange(n)
    failed = i % fail_every == 0
    pq.write_table(pa.table({
        "start_ns": pa.array(1_700_000_000_000_000_000 + i * 1_000_000, pa.int64()),
        "total_ms": pa.array(np.where(failed, 1000.0, 20.0 + (i % 50)), pa.float32()),
        "status": pa.array(np.where(failed, 500, 200), pa.int16()),
        "error_kind": pa.array([None] * n, pa.string()),
    }), folder / "requests.parquet")
    (folder / "run.json").write_text(json.dumps({"schema": "tracehound.run/1", "experiment": {
        "kind": kind, "role": "target", "concurrency": concurrency}}))
    return folder


def test_charts_stay_bounded_for_a_large_run_and_skip_cleanly_without_data(tmp_path):
    big = _synthetic_run(tmp_path / "big", 400_000, "sweep", 32, fail_every=4)
    charts = {c.name: c for c in draw_all(load_records([big]))}
    over_time = charts["latency_over_time"]
    assert over_time.drawn and "of 400,000 requests drawn" in over_time.caption
    assert over_time.svg.count("<use ") <= 4 * MAX_POINTS
    assert len(over_time.svg) < 2_000_000
    assert "1.00 s" in charts["failure_latency"].caption  # the plateau is found and marked
    assert charts["load_curve"].skipped == "fewer than two load levels were run"
    assert charts["idle_gap"].skipped == "the idle-gap experiment did not run"
    small = _synthetic_run(tmp_path / "small", 200, "sweep", 4, fail_every=1000)
    charts = {c.name: c for c in draw_all(load_records([big, small]))}
    assert charts["load_curve"].drawn and "4: 200 requests" in charts["load_curve"].caption
    assert {c.name for c in draw_all(load_records([])) if c.drawn} == set()


# -- redaction of free text (extensions made for the report) -----------------------------------


@pytest.mark.parametrize("text, secret", [
    ("redis://:hunter2secret@cache:6379/0", "hunter2secret"),
    ("{'Authorization': 'Bearer abc', 'X-Api-Key': 'k-123456'}", "k-123456"),
    ("GET /x with X-Api-Key: k-987654\nnext line", "k-987654"),
    ("echoed Cookie: session=zz-cookie-1; theme=dark", "theme=dark"),
    ("Set-Cookie: sid=zz-cookie-2; HttpOnly", "zz-cookie-2"),
])
def test_redact_text_masks_credentials_quoted_in_free_text(text, secret):
    out = redact_text(text)
    assert secret not in out and "[redacted]" in out


def test_redact_text_keeps_ordinary_words():
    for text in ("the session: 3 connections", "mailto:a@b.c", "http://host/p?e=a@b", "x-ratelimit-remaining: 5"):
        assert redact_text(text) == text
