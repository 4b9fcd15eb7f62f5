"""HAR documents, as DevTools exports them or Playwright records them: read, understood per entry, redacted.

:func:`load` reads a file with one clear error per problem. :func:`entries` turns each entry into
a :class:`HarEntry`: what was asked, what came back, the timing phases, the bearer token it
carried (time claims only) and what CORS needed. :func:`for_import` writes what Playwright
records differently from DevTools (status -1 and ``_failureText`` for a request that got no
response) the DevTools way, so the record importer reads both. :func:`redact_har` masks every
credential before a HAR is kept on disk.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tracehound.browser import tokens
from tracehound.browser.tokens import TokenInfo
from tracehound.errors import BadImport
from tracehound.probe.importers._fields import har_ms, url_parts
from tracehound.redact import MASK, is_secret_header, redact_text, redact_url

#: HAR timing phases in request order (``ssl`` is inside ``connect``; ``wait`` is TTFB after sending).
PHASES = ("blocked", "dns", "connect", "ssl", "send", "wait", "receive")
API_TYPES = frozenset({"fetch", "xhr"})


@dataclass
class HarEntry:
    index: int
    started: float
    method: str
    url: str
    host: str | None
    path: str | None
    status: int
    error: str | None
    resource_type: str | None
    time_ms: float | None
    phases: dict[str, float] = field(default_factory=dict)
    has_authorization: bool = False
    token: TokenInfo | None = None
    #: cross-origin: the request's Origin header differs from the URL's origin
    origin: str | None = None
    cross_origin: bool = False
    preflight: bool = False
    allow_origin: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == 0 or self.status >= 400 or self.error is not None

    @property
    def endpoint(self) -> str:
        return f"{self.method} {(self.path or self.url).split('?', 1)[0]}"

    @property
    def cors_failed(self) -> bool:
        """A preflight that was refused, or a cross-origin answer the browser may not read."""
        if self.error and "cors" in self.error.lower():
            return True
        if not (self.preflight or self.cross_origin) or self.status == 0:
            return False
        if self.preflight and self.status >= 400:
            return True
        allowed = (self.allow_origin or "").strip()
        return allowed != "*" and allowed.rstrip("/") != (self.origin or "").rstrip("/")

    def describe(self) -> str:
        what = f"{self.status}" if self.status else (self.error or "no response")
        took = f" after {self.time_ms:.0f} ms" if self.time_ms is not None else ""
        return f"entry {self.index}: {self.method} {self.path or self.url} → {what}{took}"


def _bad(path: Path, problem: str, hint: str | None = None) -> BadImport:
    return BadImport(f"cannot read HAR {str(path)!r}: {problem}", hint=hint)


def load(path: str | Path) -> dict[str, Any]:
    """The HAR document in ``path``; :class:`BadImport` (one line) when it is not a readable HAR."""
    p = Path(path)
    try:
        raw = p.read_bytes().removeprefix(b"\xef\xbb\xbf")
    except OSError as e:
        raise _bad(p, e.strerror or str(e)) from None
    if not raw.strip():
        raise _bad(p, "the file is empty")
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError:
        raise _bad(p, "not UTF-8 text") from None
    except json.JSONDecodeError as e:
        if e.pos >= len(e.doc.rstrip()) or e.msg.startswith("Unterminated string"):
            raise _bad(p, f"the JSON ends early at line {e.lineno}: the file is truncated",
                       hint="export the HAR again") from None
        raise _bad(p, f"not valid JSON at line {e.lineno} column {e.colno}") from None
    log = doc.get("log") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise _bad(p, "not a HAR file (no log.entries list)")
    return doc


def entries(doc: dict[str, Any], path: str | Path = "HAR") -> list[HarEntry]:
    """Every entry of ``doc`` as a :class:`HarEntry`; :class:`BadImport` naming the first broken one."""
    out = []
    for i, e in enumerate(doc["log"]["entries"]):
        try:
            out.append(_entry(i, e))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            why = f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
            raise _bad(Path(path), f"entry {i} of log.entries is not a HAR entry ({why})") from None
    return out


def _entry(i: int, e: dict[str, Any]) -> HarEntry:
    req, resp = e["request"], e["response"]
    url, method, when = req["url"], req["method"], e["startedDateTime"]
    if not (isinstance(url, str) and isinstance(method, str) and isinstance(when, str)):
        raise TypeError("url, method and startedDateTime must be strings")
    status = resp["status"]
    if isinstance(status, bool) or not isinstance(status, int) or not -1 <= status <= 999:
        raise ValueError(f"status {status!r} is not an HTTP status")
    started = datetime.fromisoformat(when).timestamp()
    error = resp.get("_error") or resp.get("_failureText") or e.get("_error")
    host, path = url_parts(url)
    timings = e.get("timings") or {}
    phases = {k: ms for k in PHASES if (ms := har_ms(timings.get(k), f"timings.{k}")) is not None}
    t = har_ms(e.get("time"), "time")
    headers = {str(h.get("name", "")).lower(): str(h.get("value", "")) for h in req.get("headers") or []}
    rheaders = {str(h.get("name", "")).lower(): str(h.get("value", "")) for h in resp.get("headers") or []}
    auth = headers.get("authorization")
    token = tokens.bearer(auth, started) if auth else None
    if token is None:
        found = tokens.find(headers.get("cookie", ""), "cookie", started)
        token = found[0] if found else None
    origin = headers.get("origin")
    u = urlsplit(url)
    own = f"{u.scheme}://{u.netloc}"
    return HarEntry(
        index=i, started=started, method=method, url=redact_text(redact_url(url)), host=host,
        path=redact_text(path) if path else path,
        status=max(0, status), error=redact_text(error) if isinstance(error, str) and error else None,
        resource_type=e.get("_resourceType") if isinstance(e.get("_resourceType"), str) else None,
        time_ms=t if t is not None and t >= 0 else None, phases=phases, has_authorization=bool(auth), token=token,
        origin=origin, cross_origin=bool(origin and origin.rstrip("/") != own and origin != "null"),
        preflight=method.upper() == "OPTIONS" and "access-control-request-method" in headers,
        allow_origin=rheaders.get("access-control-allow-origin"),
    )




def for_import(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy the record importer reads: Playwright's status -1 becomes 0 with its failure as ``_error``."""
    out = copy.deepcopy(doc)
    for e in out["log"]["entries"]:
        resp = e.get("response") if isinstance(e, dict) else None
        if isinstance(resp, dict) and resp.get("status") == -1:
            resp["status"] = 0
            resp.setdefault("_error", resp.get("_failureText") or None)
    return out


# -- redaction ---------------------------------------------------------------------------------


def redact_har(doc: dict[str, Any]) -> dict[str, Any]:
    """A copy of a HAR document with credentials masked: secret headers, every cookie value, secret
    query and form fields, tokens in URLs and bodies (binary bodies are dropped)."""
    out = copy.deepcopy(doc)
    log = out.get("log") or {}
    for page in log.get("pages") or []:
        if isinstance(page, dict) and isinstance(page.get("title"), str):
            page["title"] = redact_text(page["title"])
    for e in log.get("entries") or []:
        if not isinstance(e, dict):
            continue
        for part in (e.get("request"), e.get("response")):
            if isinstance(part, dict):
                _redact_part(part)
    return out


def _redact_part(part: dict[str, Any]) -> None:
    for key in ("url", "redirectURL"):
        if isinstance(part.get(key), str):
            part[key] = redact_text(redact_url(part[key]))
    for h in part.get("headers") or []:
        if isinstance(h, dict):
            name = str(h.get("name", ""))
            h["value"] = MASK if is_secret_header(name) else redact_text(str(h.get("value", "")))
    for c in part.get("cookies") or []:
        if isinstance(c, dict):
            c["value"] = MASK
    for q in part.get("queryString") or []:
        if isinstance(q, dict) and is_secret_header(str(q.get("name", ""))):
            q["value"] = MASK
    post = part.get("postData")
    if isinstance(post, dict):
        if isinstance(post.get("text"), str):
            post["text"] = redact_text(post["text"])
        for prm in post.get("params") or []:
            if isinstance(prm, dict) and is_secret_header(str(prm.get("name", ""))):
                prm["value"] = MASK
    content = part.get("content")
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        if content.get("encoding") == "base64":
            try:
                text = base64.b64decode(content["text"], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                content.pop("text")
                content["comment"] = "binary body left out by tracehound"
                return
            content["text"] = base64.b64encode(redact_text(text).encode()).decode()
        else:
            content["text"] = redact_text(content["text"])


__all__ = ["API_TYPES", "PHASES", "HarEntry", "entries", "for_import", "load", "redact_har"]
