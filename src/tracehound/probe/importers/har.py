"""HAR 1.2 (browser DevTools "Save all as HAR").

``ttfb_ms`` is the time from the start of the request to its first response byte: the sum of
the blocked, dns, connect, send and wait phases that are present (-1 means absent). Failed
entries (status 0, Chrome's ``_error``) keep their error text and get an error kind.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from tracehound.errors import BadImport
from tracehound.probe.importers._table import Imported, body_fields, target_of, url_parts

_ERRORS = [
    ("CONNECTION_REFUSED", "connect_refused"),
    ("CONNECTION_RESET", "reset"),
    ("CONNECTION_CLOSED", "remote_disconnected"),
    ("EMPTY_RESPONSE", "remote_disconnected"),
    ("TIMED_OUT", "timeout"),
    ("NAME_NOT_RESOLVED", "dns"),
    ("CERT", "tls"),
    ("SSL", "tls"),
]
HEADERS = ("server", "via", "content-type", "retry-after", "x-request-id", "server-timing")


def _kind(error: str) -> str:
    up = error.upper()
    for needle, kind in _ERRORS:
        if needle in up:
            return kind
    return "other"


def _ms(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and v >= 0 else None


def read(path: Path) -> Imported:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as e:
        raise BadImport(f"cannot read {str(path)!r}: {e}") from None
    except json.JSONDecodeError as e:
        raise BadImport(f"{str(path)!r} is not valid JSON (corrupt or truncated HAR at line {e.lineno})") from None
    entries = doc.get("log", {}).get("entries") if isinstance(doc, dict) and isinstance(doc.get("log"), dict) else None
    if not isinstance(entries, list):
        raise BadImport(f"{str(path)!r} is not a HAR file: no log.entries")
    out = Imported()
    urls, methods, starts = [], [], []
    for i, e in enumerate(entries):
        try:
            req, resp, timings = e["request"], e.get("response") or {}, e.get("timings") or {}
            start = datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError) as exc:
            raise BadImport(f"{str(path)!r}: entry {i} is malformed ({exc})") from None
        host, p = url_parts(req.get("url", ""))
        urls.append(req.get("url", ""))
        methods.append(req.get("method"))
        start_ns = int(start.timestamp() * 1e9)
        starts.append(start_ns)
        status = int(resp.get("status") or 0)
        error = e.get("_error") or resp.get("_error") or None
        phases = [_ms(timings.get(k)) for k in ("blocked", "dns", "connect", "send", "wait")]
        wait = _ms(timings.get("wait"))
        ttfb = sum(x for x in phases if x is not None) if wait is not None else None
        connect = _ms(timings.get("connect"))
        hdrs = {h.get("name", "").lower(): h.get("value") for h in resp.get("headers") or []}
        content = resp.get("content") or {}
        text = content.get("text")
        body = None
        if isinstance(text, str):
            if content.get("encoding") == "base64":
                import base64

                try:
                    body = base64.b64decode(text)
                except ValueError:
                    body = None
            else:
                body = text.encode()
        size_in = resp.get("_transferSize")
        if not isinstance(size_in, (int, float)) or size_in < 0:
            hs, bs = resp.get("headersSize", -1), resp.get("bodySize", -1)
            size_in = (hs if hs > 0 else 0) + (bs if bs > 0 else 0) if (hs > 0 or bs > 0) else None
        post = req.get("postData") or {}
        body_out = req.get("bodySize")
        conn = e.get("connection")
        out.add(
            method=req.get("method"), host=host, path=p,
            start_ns=start_ns, intended_start_ns=start_ns,
            connect_ms=connect, ttfb_ms=ttfb, total_ms=_ms(e.get("time")),
            status=status, error_kind=_kind(error) if error else ("other" if status == 0 else None),
            error=error if error else ("no response" if status == 0 else None),
            bytes_in=int(size_in) if size_in is not None else None,
            bytes_out=int(body_out) if isinstance(body_out, int) and body_out >= 0 else (len(post.get("text", "")) if post.get("text") else None),
            conn_id=int(conn) if isinstance(conn, str) and conn.isdigit() else None,
            **{f"h_{h.replace('-', '_')}": hdrs.get(h) for h in HEADERS},
            **(body_fields(body) if status else {}),
        )
    out.target = target_of(urls, methods)
    if starts:
        out.duration_s = (max(starts) - min(starts)) / 1e9
    return out
