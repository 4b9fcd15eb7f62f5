"""What one load of a page showed: its network calls, console, errors on screen, and storage.

These are plain records, filled by :mod:`tracehound.browser.session` and read by the browser
agent and the CLI. Every string in them is already redacted: URLs and error texts through
:mod:`tracehound.redact`, stored values masked, tokens reduced to their time claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.browser.tokens import TokenInfo

#: Resource types of the calls a page's code makes (Playwright's names).
API_TYPES = frozenset({"fetch", "xhr"})
#: Resources without which a page does not work; a missing image or font does not fail a load.
ESSENTIAL_TYPES = frozenset({"script", "stylesheet"})
#: Messages Chromium itself writes to the console about the network (not the page's code).
_BROWSER_MESSAGE = re.compile(r"^(?:Failed to load resource:|Access to (?:fetch|XMLHttpRequest) at |"
                              r"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ net::ERR_)")
_CORS = re.compile(r"(?i)blocked by CORS policy|CORS (?:header|request|preflight)")


@dataclass
class ConsoleEntry:
    #: log | info | warning | error | debug …
    type: str
    text: str
    #: page: written by the page's code; browser: Chromium's own note about a failed request
    origin: str = "page"

    @classmethod
    def of(cls, type_: str, text: str) -> ConsoleEntry:
        return cls(type_, text, "browser" if _BROWSER_MESSAGE.match(text) else "page")

    @property
    def cors(self) -> bool:
        return bool(_CORS.search(self.text))

    @property
    def loud(self) -> bool:
        """The page's code reported a problem (console.error or console.warn)."""
        return self.origin == "page" and self.type in ("error", "warning", "assert")

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "origin": self.origin, "text": self.text}


@dataclass
class NetworkCall:
    """One request the page made, as the browser saw it (times in epoch seconds and ms)."""

    seq: int
    load: int
    method: str
    url: str
    host: str | None
    path: str | None
    resource_type: str
    start: float
    status: int = 0
    error: str | None = None
    error_kind: str | None = None
    total_ms: float | None = None
    ttfb_ms: float | None = None
    connect_ms: float | None = None
    #: dns, connect, tls, send, wait, receive (ms; absent when the browser had no figure)
    phases: dict[str, float] = field(default_factory=dict)
    bytes_in: int | None = None
    body_hash: str | None = None
    body_sample: str | None = None
    #: the recorded response headers (server, via, content-type, retry-after …)
    headers: dict[str, str] = field(default_factory=dict)
    #: the bearer JWT it carried, seen at the start of the request
    token: TokenInfo | None = None
    has_authorization: bool = False

    @property
    def api(self) -> bool:
        return self.resource_type in API_TYPES

    @property
    def failed(self) -> bool:
        return self.status == 0 or self.status >= 400 or self.error is not None

    def describe(self) -> str:
        what = f"{self.status}" if self.status else (self.error or "no response")
        took = f" after {self.total_ms:.0f} ms" if self.total_ms is not None else ""
        return f"load {self.load + 1}: {self.method} {self.path or self.url} ({self.resource_type}) → {what}{took}"

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "load": self.load, "method": self.method, "url": self.url,
                "resource_type": self.resource_type, "start": round(self.start, 3), "status": self.status,
                "error": self.error, "error_kind": self.error_kind, "total_ms": _r(self.total_ms),
                "ttfb_ms": _r(self.ttfb_ms), "phases": {k: _r(v) for k, v in self.phases.items()},
                "headers": self.headers, "has_authorization": self.has_authorization,
                "token": self.token.to_dict() if self.token else None}


@dataclass
class StoredItem:
    """An entry of localStorage, sessionStorage or the cookie jar, its value masked."""

    #: localStorage | sessionStorage | cookie
    where: str
    key: str
    size: int
    preview: str
    tokens: list[TokenInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "key": self.key, "size": self.size, "preview": self.preview,
                "tokens": [t.to_dict() for t in self.tokens]}


@dataclass
class PageLoad:
    """One load of the page in its own browser context."""

    index: int
    url: str
    started: float
    #: the load began with empty storage (the first load, --fresh, or the clean-session check)
    fresh: bool
    seconds: float = 0.0
    #: the document's HTTP status; 0 when it never answered
    status: int = 0
    content_type: str | None = None
    nav_error: str | None = None
    console: list[ConsoleEntry] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    calls: list[NetworkCall] = field(default_factory=list)
    ui_errors: list[str] = field(default_factory=list)
    storage: list[StoredItem] = field(default_factory=list)
    #: the --wait-for selector, when it never appeared
    missing_selector: str | None = None
    screenshot: Path | None = None
    har: Path | None = None

    @property
    def api_calls(self) -> list[NetworkCall]:
        return [c for c in self.calls if c.api]

    @property
    def failed_calls(self) -> list[NetworkCall]:
        return [c for c in self.calls if c.failed]

    @property
    def reasons(self) -> list[str]:
        """Why this load counts as failed (empty when it went well)."""
        out = []
        if self.nav_error:
            out.append(f"the page did not load: {self.nav_error}")
        elif self.status >= 400:
            out.append(f"the page answered {self.status}")
        bad = [c for c in self.failed_calls if c.api]
        if bad:
            out.append(f"{len(bad)} API call{'s' if len(bad) > 1 else ''} failed")
        assets = [c for c in self.failed_calls if c.resource_type in ESSENTIAL_TYPES]
        if assets:
            s = "s" if len(assets) > 1 else ""
            out.append(f"{len(assets)} script{s} or stylesheet{s} failed to load")
        if self.page_errors:
            out.append(f"{len(self.page_errors)} uncaught error{'s' if len(self.page_errors) > 1 else ''} in the page")
        if self.ui_errors:
            out.append(f"the page shows an error: {self.ui_errors[0]!r}")
        if self.missing_selector:
            out.append(f"{self.missing_selector!r} never appeared")
        return out

    @property
    def failed(self) -> bool:
        return bool(self.reasons)

    @property
    def console_silent(self) -> bool:
        """The page's own code wrote no error or warning and threw nothing."""
        return not self.page_errors and not any(e.loud for e in self.console)

    @property
    def tokens(self) -> list[TokenInfo]:
        return [t for s in self.storage for t in s.tokens]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "url": self.url, "started": round(self.started, 3), "fresh": self.fresh,
                "seconds": round(self.seconds, 3), "status": self.status, "content_type": self.content_type,
                "nav_error": self.nav_error, "failed": self.failed, "reasons": self.reasons,
                "console_silent": self.console_silent, "console": [c.to_dict() for c in self.console],
                "page_errors": self.page_errors, "ui_errors": self.ui_errors,
                "missing_selector": self.missing_selector, "calls": [c.to_dict() for c in self.calls],
                "storage": [s.to_dict() for s in self.storage],
                "screenshot": str(self.screenshot) if self.screenshot else None,
                "har": str(self.har) if self.har else None}


@dataclass
class BrowseResult:
    """Every load of one page, the storage check if one ran, and the run folder written."""

    url: str
    loads: list[PageLoad]
    #: after the kept-storage loads failed to the end: loads with empty and kept storage in turn
    rechecks: list[PageLoad] = field(default_factory=list)
    folder: Path | None = None
    run: Any = None
    browser_version: str = ""
    #: --fresh: every load began with empty storage
    fresh: bool = False

    @property
    def failed_loads(self) -> list[PageLoad]:
        return [ld for ld in self.loads if ld.failed]

    @property
    def calls(self) -> list[NetworkCall]:
        return [c for ld in self.loads for c in ld.calls]

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "browser": self.browser_version, "fresh": self.fresh,
                "folder": str(self.folder) if self.folder else None,
                "loads": [ld.to_dict() for ld in self.loads],
                "failed_loads": len(self.failed_loads),
                "rechecks": [ld.to_dict() for ld in self.rechecks]}


def _r(v: float | None) -> float | None:
    return round(v, 2) if v is not None else None


__all__ = ["API_TYPES", "ESSENTIAL_TYPES", "BrowseResult", "ConsoleEntry", "NetworkCall", "PageLoad", "StoredItem"]
