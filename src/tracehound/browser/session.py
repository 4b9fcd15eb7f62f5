"""Loading a page again and again in headless Chromium, the way a person refreshing it would.

Each load runs in a new browser context. By default it starts with the cookies and localStorage
the previous load left behind, as a returning visitor's browser would (a stored token ages from
one load to the next); ``fresh=True`` starts every load with empty storage. When the loads with
kept storage fail to the end, a few more loads alternate empty and kept storage: a failure that
a new session clears and the old one brings back lies in what the browser stored. For every
load it keeps the console, uncaught errors, each request with its status and timing, error text
shown on the page, and what sits in storage (tokens reduced to their time
claims); a failing load also leaves a screenshot and a HAR (redacted) in ``loads/``.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tracehound.browser import chromium, tokens
from tracehound.browser.chromium import BadPage
from tracehound.browser.har import redact_har
from tracehound.browser.page_load import (
    API_TYPES,
    BrowseResult,
    ConsoleEntry,
    NetworkCall,
    PageLoad,
    StoredItem,
)
from tracehound.probe.importers._fields import url_parts
from tracehound.probe.importers.har import error_kind
from tracehound.probe.records import DEFAULT_HEADERS, SAMPLE_BYTES, body_digest
from tracehound.redact import MASK, is_secret_header, redact_text, redact_url

DEFAULT_TIMES = 10
DEFAULT_TIMEOUT_S = 15.0
DEFAULT_INTERVAL_S = 1.0
#: Pairs of loads (empty storage, then the kept storage) run after kept-storage loads kept failing.
RECHECK_PAIRS = 2
#: Response bodies of API calls read per load (for their hash and a redacted sample).
MAX_BODIES = 50
#: Visible lines longer than this are prose, not an error banner.
MAX_LINE = 240

#: Error wording common to English-language web front ends: generic phrases, no application's own words.
UI_ERROR = re.compile(
    r"(?i)\b(?:"
    r"(?:failed|unable|could\s*n[o']t|can\s*n[o']t|cannot)\s+(?:to\s+)?(?:load|fetch|get|retrieve|reach|connect|"
    r"save|display|find|open|process|complete)"
    r"|something\s+went\s+wrong|an?\s+(?:unexpected\s+|unknown\s+|internal\s+)?error\s+(?:has\s+)?occurred"
    r"|error\s+(?:loading|fetching|while|occurred)|(?:loading|request|network|server|connection)\s+(?:failed|error)"
    r"|timed?\s*out|please\s+try\s+again|try\s+again\s+later|session\s+(?:has\s+)?expired|(?:sign|log)\s*in\s+again"
    r"|not\s+authori[sz]ed|unauthori[sz]ed|access\s+denied|forbidden|service\s+unavailable|bad\s+gateway"
    r"|gateway\s+time-?out|internal\s+server\s+error|^\s*error\b|^\s*oops\b)"
)

_PAGE_TEXT_JS = """() => {
  const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const alerts = Array.from(document.querySelectorAll('[role=alert],[role=alertdialog],[aria-live=assertive]'))
    .filter(visible).map(e => (e.innerText || '').trim()).filter(Boolean);
  return {text: document.body ? document.body.innerText.slice(0, 50000) : '', alerts: alerts.slice(0, 20)};
}"""
_STORAGE_JS = """() => {
  const dump = s => { try { const o = []; for (let i = 0; i < s.length && i < 200; i++) { const k = s.key(i);
    o.push([k, s.getItem(k)]); } return o; } catch (e) { return []; } };
  return {local: dump(window.localStorage), session: dump(window.sessionStorage)};
}"""
_NAV_AT = re.compile(r"\s+at\s+\S+$")

Progress = Callable[[PageLoad], None]


class Chromium:
    """Headless Chromium for one or more browse sessions; a context manager that always stops it."""

    def __init__(self) -> None:
        self._pw: Any = None
        self._browser: Any = None

    def __enter__(self) -> Chromium:
        self._pw, self._browser = chromium.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._browser is not None:
            chromium.stop(self._pw, self._browser)
            self._pw = self._browser = None

    @property
    def version(self) -> str:
        return f"Chromium {self._browser.version}" if self._browser is not None else ""

    def browse(self, url: str, times: int = DEFAULT_TIMES, wait_for: str | None = None, out: str | Path | None = None,
               timeout_s: float = DEFAULT_TIMEOUT_S, interval_s: float = DEFAULT_INTERVAL_S, fresh: bool = False,
               stop_after: int | None = None, on_load: Progress | None = None,
               budget_s: float | None = None) -> BrowseResult:
        """Load ``url`` ``times`` times and write what the loads showed as a run folder.

        ``stop_after`` ends the session once that many loads failed; ``budget_s`` starts no load
        after that many seconds. :class:`BadPage` when the first load gets no answer at all or the
        URL is not an HTML page (one line, naming why).
        """
        if self._browser is None:
            raise RuntimeError("Chromium is not started: use `with Chromium() as c:`")
        _check_url(url)
        if times < 1:
            raise BadPage("--times must be at least 1")
        from tracehound.browser.records import prepare_folder, save

        folder = prepare_folder(out, url)
        scratch = Path(tempfile.mkdtemp(prefix="tracehound-har-"))
        result = BrowseResult(_shown(url), [], folder=folder, browser_version=self.version, fresh=fresh)
        state: dict[str, Any] | None = None
        seq = [0]
        began = time.monotonic()

        def over() -> bool:
            return budget_s is not None and time.monotonic() - began + interval_s >= budget_s

        try:
            for i in range(times):
                if i and over():
                    break
                if i:
                    time.sleep(interval_s)
                load, state = self._load(url, i, fresh or state is None, None if fresh else state, wait_for,
                                         timeout_s, folder, scratch, seq)
                if i == 0:
                    _first_load_usable(load, url)
                result.loads.append(load)
                if on_load is not None:
                    on_load(load)
                if stop_after is not None and len(result.failed_loads) >= stop_after:
                    break
            if not fresh and _kept_storage_failing(result.loads):
                # Clean and kept storage in turn: does a new session make the failure go, and the old one keep it?
                for clean in (True, False) * RECHECK_PAIRS:
                    if over():
                        break
                    time.sleep(interval_s)
                    check, _ = self._load(url, len(result.loads) + len(result.rechecks), clean,
                                          None if clean else state, wait_for, timeout_s, folder, scratch, seq)
                    result.rechecks.append(check)
                    if on_load is not None:
                        on_load(check)
        except BadPage:
            if not result.loads:
                _discard(folder)
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        result.run = save(result, folder)
        return result

    # -- one load --------------------------------------------------------------------------------
    def _load(self, url: str, index: int, fresh: bool, state: dict[str, Any] | None, wait_for: str | None,
              timeout_s: float, folder: Path, scratch: Path, seq: list[int]) -> tuple[PageLoad, dict[str, Any] | None]:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        raw_har = scratch / f"load-{index + 1:02d}.har"
        ctx = self._browser.new_context(storage_state=state, record_har_path=str(raw_har), record_har_content="embed",
                                        service_workers="block", viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        rec = _Recorder(page)
        t0 = time.time()
        load = PageLoad(index, _shown(url), t0, fresh)
        deadline = time.monotonic() + timeout_s

        def left_ms() -> float:
            return max(1.0, (deadline - time.monotonic()) * 1000)

        new_state: dict[str, Any] | None = state
        try:
            try:
                resp = page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            except PlaywrightTimeout:
                resp = None
                load.nav_error = f"no answer within {timeout_s:g} s"
            except PlaywrightError as e:
                resp = None
                load.nav_error = _first_line(str(e))
            if resp is not None:
                load.status = resp.status
                load.content_type = resp.header_value("content-type")
            if load.nav_error is None:
                if wait_for:
                    try:
                        page.wait_for_selector(wait_for, state="visible", timeout=left_ms())
                    except PlaywrightTimeout:
                        load.missing_selector = wait_for
                    except PlaywrightError as e:
                        raise BadPage(f"--wait-for {wait_for!r} is not a usable selector: "
                                      f"{_first_line(str(e))}") from None
                with contextlib.suppress(PlaywrightTimeout):  # requests still pending are recorded as such
                    page.wait_for_load_state("networkidle", timeout=left_ms())
                load.ui_errors = _ui_errors(page)
                load.storage = _storage(page, ctx)
            load.calls = rec.calls(index, seq, timeout_s)
            load.console, load.page_errors = rec.console, rec.page_errors
            if load.failed and not (load.nav_error and load.status == 0):  # no page to picture
                loads = folder / "loads"
                loads.mkdir(exist_ok=True)
                shot = loads / f"load-{index + 1:02d}.png"
                with contextlib.suppress(PlaywrightError):
                    page.screenshot(path=str(shot), full_page=True, timeout=5000)
                    load.screenshot = shot
            if load.nav_error is None:
                with contextlib.suppress(PlaywrightError):
                    new_state = ctx.storage_state()
        finally:
            with contextlib.suppress(PlaywrightError):
                ctx.close()
        load.seconds = time.time() - t0
        if load.failed and raw_har.is_file():
            load.har = _keep_har(raw_har, folder / "loads" / raw_har.name)
        raw_har.unlink(missing_ok=True)
        return load, new_state


class _Recorder:
    """The page's events, collected as they come (handlers only store; reading happens after)."""

    def __init__(self, page: Any) -> None:
        self.requests: list[tuple[Any, float]] = []
        self.responses: dict[Any, Any] = {}
        self.ended: dict[Any, tuple[float, str | None]] = {}
        self.console: list[ConsoleEntry] = []
        self.page_errors: list[str] = []
        page.on("request", lambda r: self.requests.append((r, time.time())))
        page.on("response", lambda r: self.responses.__setitem__(r.request, r))
        page.on("requestfinished", lambda r: self.ended.__setitem__(r, (time.time(), None)))
        page.on("requestfailed", lambda r: self.ended.__setitem__(r, (time.time(), r.failure or "failed")))
        page.on("console", lambda m: self.console.append(ConsoleEntry.of(m.type, redact_text(m.text)[:2000])))
        page.on("pageerror", lambda e: self.page_errors.append(redact_text(_error_text(e))[:2000]))

    def calls(self, load: int, seq: list[int], timeout_s: float) -> list[NetworkCall]:
        out = []
        bodies = 0
        for req, seen in self.requests:
            if req.url.startswith(("data:", "blob:")):
                continue
            resp = self.responses.get(req)
            ended, failure = self.ended.get(req, (None, None))
            call = _call(req, resp, seen, ended, failure, load, seq[0], timeout_s)
            seq[0] += 1
            if resp is not None and call.api and failure is None and ended is not None and bodies < MAX_BODIES:
                bodies += 1
                _read_body(resp, call)
            out.append(call)
        return out


def _call(req: Any, resp: Any, seen: float, ended: float | None, failure: str | None, load: int, seq: int,
          timeout_s: float) -> NetworkCall:
    timing = req.timing or {}
    start_ms = timing.get("startTime") or seen * 1000
    start = start_ms / 1000
    host, path = url_parts(req.url)
    auth = req.headers.get("authorization")
    # redact_text as well: a token can sit in a query parameter whose name gives no hint.
    call = NetworkCall(seq, load, req.method, redact_text(redact_url(req.url)), host,
                       redact_text(path) if path else path, req.resource_type, start, has_authorization=bool(auth))
    if auth and req.resource_type in API_TYPES | {"document"}:
        call.token = tokens.bearer(auth, start)
    if resp is not None:
        call.status = resp.status
        hdrs = resp.headers
        call.headers = {h: redact_text(hdrs[h]) for h in DEFAULT_HEADERS if h in hdrs}
    if failure is not None:
        call.status = 0 if resp is None else call.status
        call.error = redact_text(failure)
        call.error_kind = error_kind(failure)
    elif ended is None:
        call.error = f"still pending when the load ended ({timeout_s:g} s)"
        call.error_kind = "timeout"
    _apply_timing(call, timing, start_ms, ended)
    return call


def _apply_timing(call: NetworkCall, timing: dict[str, Any], start_ms: float, ended: float | None) -> None:
    """Phases, TTFB and total time from Playwright's ``request.timing`` (ms after ``startTime``, -1 when absent)."""

    def at(key: str) -> float | None:
        v = timing.get(key, -1)
        return float(v) if v is not None and v >= 0 else None

    def span(a: str, b: str) -> float | None:
        lo, hi = at(a), at(b)
        return hi - lo if lo is not None and hi is not None and hi >= lo else None

    phases = {"dns": span("domainLookupStart", "domainLookupEnd"), "connect": span("connectStart", "connectEnd"),
              "tls": span("secureConnectionStart", "connectEnd"), "wait": span("requestStart", "responseStart"),
              "receive": span("responseStart", "responseEnd")}
    firsts = [v for v in (at("domainLookupStart"), at("connectStart"), at("requestStart")) if v is not None]
    if firsts:
        phases["blocked"] = min(firsts)
    call.phases = {k: v for k, v in phases.items() if v is not None}
    call.connect_ms = call.phases.get("connect")
    call.ttfb_ms = at("responseStart") if call.status else None
    end = at("responseEnd")
    if end is not None and call.error is None:
        call.total_ms = end
    else:
        finished = ended if ended is not None else time.time()
        call.total_ms = max(0.0, finished * 1000 - start_ms)


def _read_body(resp: Any, call: NetworkCall) -> None:
    try:
        body = resp.body()
    except Exception:  # noqa: BLE001 - redirects, evicted or streamed bodies have none to read
        return
    call.bytes_in = len(body)
    call.body_hash = body_digest([body]).hex()
    call.body_sample = redact_text(body[:SAMPLE_BYTES].decode("utf-8", "replace"))


def _ui_errors(page: Any) -> list[str]:
    """Error messages visible on the page: alert regions, and visible lines in common error wording."""
    try:
        got = page.evaluate(_PAGE_TEXT_JS)
    except Exception:  # noqa: BLE001 - the page navigated away or crashed meanwhile
        return []
    found: list[str] = []
    candidates = [a.strip() for a in got.get("alerts") or []]
    candidates += [ln.strip() for ln in (got.get("text") or "").splitlines()]
    for line in candidates:
        if line and len(line) <= MAX_LINE and UI_ERROR.search(line) and line not in found:
            found.append(line)
    return [redact_text(x) for x in found[:10]]


def _storage(page: Any, ctx: Any) -> list[StoredItem]:
    now = time.time()
    out: list[StoredItem] = []
    try:
        dump = page.evaluate(_STORAGE_JS)
    except Exception:  # noqa: BLE001 - opaque origins (about:blank, error pages) have no storage
        dump = {}
    for where, key in (("localStorage", "local"), ("sessionStorage", "session")):
        for k, v in dump.get(key) or []:
            out.append(_stored(where, str(k), "" if v is None else str(v), now))
    try:
        cookies = ctx.cookies()
    except Exception:  # noqa: BLE001 - a context already closed has no cookies to list
        cookies = []
    for c in cookies:
        item = _stored("cookie", str(c.get("name", "")), str(c.get("value", "")), now)
        item.preview = MASK  # every cookie value is a credential until shown otherwise
        out.append(item)
    return out


def _stored(where: str, key: str, value: str, now: float) -> StoredItem:
    found = tokens.find(value, f"{where}:{key}", now)
    preview = MASK if found or is_secret_header(key) else redact_text(value[:80]) + ("…" if len(value) > 80 else "")
    return StoredItem(where, key, len(value), preview, found)


def _keep_har(raw: Path, dest: Path) -> Path | None:
    """The redacted copy of a load's HAR in the run folder."""
    try:
        doc = json.loads(raw.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(redact_har(doc), indent=1) + "\n", encoding="utf-8")
    return dest


def _discard(folder: Path) -> None:
    """Remove what a session that could not start left in its folder (the folder too, when empty)."""
    shutil.rmtree(folder / "loads", ignore_errors=True)
    with contextlib.suppress(OSError):
        folder.rmdir()


def _kept_storage_failing(loads: list[PageLoad]) -> bool:
    """Loads with kept storage failed from some point to the end (two in a row at least)."""
    streak = 0
    for ld in reversed(loads):
        if not ld.failed or ld.fresh:
            break
        streak += 1
    return streak >= 2


def _first_load_usable(load: PageLoad, url: str) -> None:
    shown = _shown(url)
    if load.nav_error is not None and load.status == 0:
        raise BadPage(f"cannot load {shown}: {load.nav_error}",
                      hint="check that the page is served at this URL and answers")
    ct = (load.content_type or "").split(";")[0].strip().lower()
    if ct and "html" not in ct:
        raise BadPage(f"{shown} is not an HTML page (it answered {load.status} {ct})",
                      hint="give the URL a person opens in the browser; probe an API with tracehound probe")


def _shown(url: str) -> str:
    """A URL as tracehound shows it: secret query parameters and anything token-like masked."""
    return redact_text(redact_url(url))


def _check_url(url: str) -> None:
    p = urlsplit(url)
    if p.scheme not in ("http", "https") or not p.hostname:
        raise BadPage(f"{_shown(url)!r} is not an http(s) page URL")


def _first_line(message: str) -> str:
    line = (message.strip().splitlines() or ["unknown error"])[0]
    line = line.removeprefix("Page.goto: ").strip()
    return redact_text(_NAV_AT.sub("", line))


def _error_text(e: Any) -> str:
    name = getattr(e, "name", "") or ""
    msg = getattr(e, "message", None) or str(e)
    return f"{name}: {msg}" if name and not msg.startswith(name) else msg


def browse(url: str, times: int = DEFAULT_TIMES, wait_for: str | None = None, out: str | Path | None = None,
           timeout_s: float = DEFAULT_TIMEOUT_S, interval_s: float = DEFAULT_INTERVAL_S, fresh: bool = False,
           stop_after: int | None = None, on_load: Progress | None = None,
           budget_s: float | None = None) -> BrowseResult:
    """Launch Chromium, :meth:`Chromium.browse` the page, and stop Chromium."""
    with Chromium() as c:
        return c.browse(url, times, wait_for, out, timeout_s, interval_s, fresh, stop_after, on_load, budget_s)


__all__ = ["DEFAULT_INTERVAL_S", "DEFAULT_TIMEOUT_S", "DEFAULT_TIMES", "UI_ERROR", "Chromium", "browse"]
