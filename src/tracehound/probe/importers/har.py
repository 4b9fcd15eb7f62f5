"""HAR 1.2, as browser DevTools save it ("Save all as HAR"): one row per entry.

Mapping (HAR writes -1 for a time or size it does not have; such values are null here):

- ``start_ns``: ``startedDateTime``, which must carry a zone offset. ``intended_start_ns`` is
  null: a browser has no schedule.
- ``total_ms``: the entry's ``time``; null when the entry has no timings at all (Firefox's failed
  requests), as HAR's ``time`` is the sum of the timings present and its 0 then means "unknown".
- ``ttfb_ms``: from the start of the request to the first response byte, the sum of the
  ``blocked``, ``dns``, ``connect``, ``send`` and ``wait`` phases that are present (``ssl`` is
  already inside ``connect``). Null when no response came back (status 0) or ``wait`` is absent.
  This is what the prober measures; HAR's ``wait`` alone is the server's share after sending.
- ``connect_ms``: ``timings.connect`` (TCP and TLS; the HAR spec counts ``ssl`` inside it).
  Null on a reused connection, which HAR writes as -1.
- ``bytes_in``: ``response._transferSize`` (Chromium; bytes on the wire, headers included), else
  ``headersSize + bodySize`` when both are known. ``bytes_out``: ``request.bodySize``: request
  header sizes are -1 in most HTTP/2 captures.
- ``status``: ``response.status``; 0 for a request that got no response. Its ``_error``
  (Chromium's ``net::ERR_…``) is the error message and gives the error kind by
  :data:`NET_ERRORS`; a status-0 entry without one gets kind ``other``.
- ``conn_id``: the entry's ``connection`` when it is a number.
- ``body_hash``/``body_sample``: from ``response.content.text`` (base64 when ``encoding`` says
  so) when the HAR was saved with content; null otherwise.
- the recorded response headers, repeated names joined with ``", "``.

``worker``, ``vu``, ``step``, ``conn_reused``, ``conn_idle_ms``, ``conn_requests`` and
``inflight`` are not in a HAR and stay null. Entries served from the browser cache are kept:
they are entries of the file.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracehound.probe.importers._fields import (
    Bodies,
    each_distinct,
    epoch_ns,
    har_ms,
    target_of,
    url_columns,
)
from tracehound.probe.importers._files import bad, read_bytes
from tracehound.probe.importers._table import Imported, ints
from tracehound.probe.records import DEFAULT_HEADERS, INT32_MAX, header_column
from tracehound.redact import redact_text

#: Chromium network errors (``net::ERR_`` + name) → error kind. Names starting with ``CERT_``
#: or ``SSL_`` are ``tls``; any other name is ``other``.
NET_ERRORS: dict[str, str] = {
    "CONNECTION_REFUSED": "connect_refused",
    "CONNECTION_TIMED_OUT": "connect_timeout",
    "TIMED_OUT": "timeout",
    "CONNECTION_RESET": "reset",
    "CONNECTION_CLOSED": "remote_disconnected",
    "EMPTY_RESPONSE": "remote_disconnected",
    "INCOMPLETE_CHUNKED_ENCODING": "remote_disconnected",
    "NAME_NOT_RESOLVED": "dns",
    "NAME_RESOLUTION_FAILED": "dns",
    "BAD_SSL_CLIENT_AUTH_CERT": "tls",
    "HTTP2_PROTOCOL_ERROR": "protocol",
    "INVALID_HTTP_RESPONSE": "protocol",
}
_TLS_PREFIXES = ("CERT_", "SSL_")
#: The timings of an entry, in request order, and those that come before the first response byte.
_TIMINGS = ("blocked", "dns", "connect", "send", "wait", "receive")
_PHASES = _TIMINGS[:5]
#: The numbers read from each entry (timings are under ``timings``, sizes under ``response``).
_NUMBERS = (*_TIMINGS, "time", "_transferSize", "headersSize", "bodySize", "request.bodySize")
NO_RESPONSE = "no response (HAR status 0)"
_RECORDED = frozenset(DEFAULT_HEADERS)


def error_kind(message: str) -> str:
    """The error kind of a browser's network error message (``net::ERR_CONNECTION_REFUSED``)."""
    name = message.strip().rsplit("::", 1)[-1].upper().removeprefix("ERR_")
    if name in NET_ERRORS:
        return NET_ERRORS[name]
    return "tls" if name.startswith(_TLS_PREFIXES) else "other"


def read(path: Path) -> Imported:
    """The entries of a HAR file."""
    entries = _entries(path)
    n = len(entries)
    methods: list[str | None] = []
    urls: list[str] = []
    started: list[str] = []
    messages: list[str | None] = []
    conn = np.full(n, -1, np.int64)
    status = np.zeros(n, np.int64)
    nums = np.full((n, len(_NUMBERS)), np.nan)  # NaN: absent or -1
    headers: dict[str, list[str | None]] = {h: [] for h in DEFAULT_HEADERS}
    bodies = Bodies()
    for i, e in enumerate(entries):
        try:
            req, resp = e["request"], e["response"]
            url, method, when = req["url"], req["method"], e["startedDateTime"]
            code = resp["status"]
            if not (isinstance(url, str) and isinstance(method, str) and isinstance(when, str)):
                raise TypeError("url, method and startedDateTime must be strings")
            if not isinstance(code, int) or not 0 <= code <= 999:
                raise ValueError(f"status {code!r} is not an HTTP status")
            timings = e.get("timings") or {}
            nums[i] = [*(_time(timings.get(k), f"timings.{k}") for k in _TIMINGS), _time(e.get("time"), "time"),
                       _ms(resp.get("_transferSize")),
                       _ms(resp.get("headersSize")), _ms(resp.get("bodySize")), _ms(req.get("bodySize"))]
            recorded = _headers(resp.get("headers") or [])
            body = _body(resp.get("content") or {})
            message = resp.get("_error") or e.get("_error") or None
            connection = e.get("connection")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise bad(path, f"entry {i} of log.entries is not a HAR entry ({_reason(exc)})") from None
        status[i] = code
        methods.append(method)
        urls.append(url)
        started.append(when)
        messages.append(message if isinstance(message, str) else None)
        # At most ten ASCII digits: int() refuses thousands of them, and other scripts' digits.
        if (isinstance(connection, str) and connection.isascii() and connection.isdigit() and len(connection) <= 10
                and int(connection) <= INT32_MAX):
            conn[i] = int(connection)
        for h, found in headers.items():
            found.append(recorded.get(h))
        bodies.add(body)

    hosts, paths = url_columns(urls)
    silent = pa.array((status == 0) & np.array([m is None for m in messages], bool))  # failed, no message
    col = {name: nums[:, j] for j, name in enumerate(_NUMBERS)}
    before_first_byte = nums[:, [_NUMBERS.index(k) for k in _PHASES]]
    ttfb = np.where(~np.isnan(col["wait"]) & (status > 0), np.nansum(before_first_byte, axis=1), np.nan)
    # HAR's time is the sum of the timings it has: with none at all, its 0 means "unknown".
    untimed = np.isnan(nums[:, : len(_TIMINGS)]).all(axis=1) & (col["time"] == 0)
    total = np.where(untimed, np.nan, col["time"])
    bytes_in = np.where(~np.isnan(col["_transferSize"]), col["_transferSize"], col["headersSize"] + col["bodySize"])
    body_out = col["request.bodySize"]
    columns: dict[str, Any] = {
        "method": methods,
        "host": hosts,
        "path": paths,
        "start_ns": epoch_ns(path, started, lambda j: f"entry {j} of log.entries"),
        "connect_ms": col["connect"],
        "ttfb_ms": ttfb,
        "total_ms": total,
        "status": status,
        "error_kind": pc.if_else(silent, "other", each_distinct(messages, error_kind)),
        "error": pc.if_else(silent, NO_RESPONSE, each_distinct(messages, redact_text)),
        "bytes_in": ints(np.nan_to_num(bytes_in), ~np.isnan(bytes_in)),
        "bytes_out": ints(np.nan_to_num(body_out), ~np.isnan(body_out)),
        "body_hash": bodies.hashes,
        "body_sample": bodies.samples,
        "conn_id": ints(conn, conn >= 0),
        **{header_column(h): v for h, v in headers.items()},
    }
    return Imported(rows=n, columns=columns, target=target_of(urls, methods))


def _entries(path: Path) -> list[Any]:
    raw = read_bytes(path)
    try:
        doc = json.loads(raw)
    except UnicodeDecodeError:
        raise bad(path, "not a HAR file: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        # A string can hold no raw line break, so an unterminated one runs into the end of the file.
        if e.pos >= len(e.doc.rstrip()) or e.msg.startswith("Unterminated string"):
            raise bad(path, f"the JSON ends early at line {e.lineno}: a truncated HAR file",
                      hint="save the HAR again") from None
        raise bad(path, f"not valid JSON at line {e.lineno} column {e.colno}: a corrupt HAR file") from None
    except (ValueError, RecursionError) as e:  # a 5,000-digit number; arrays nested thousands deep
        raise bad(path, f"not a HAR file: {str(e).split(';')[0] or type(e).__name__}") from None
    log = doc.get("log") if isinstance(doc, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise bad(path, "not a HAR file: no log.entries list")
    return entries


def _time(v: Any, what: str) -> float:
    """A HAR time (one rule with ``tracehound har``: see :func:`har_ms`): NaN when absent or -1."""
    ms = har_ms(v, what)
    return np.nan if ms is None else ms


def _ms(v: Any) -> float:
    """A HAR time or size: NaN when absent or -1."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if v is None:
            return np.nan
        raise TypeError(f"{v!r} is not a number")
    return float(v) if v >= 0 else np.nan


def _body(content: dict[str, Any]) -> bytes | None:
    text = content.get("text")
    if not isinstance(text, str):
        return None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error:
            raise ValueError("content.text is not valid base64") from None
    return text.encode("utf-8", "surrogatepass")


def _headers(pairs: list[dict[str, Any]]) -> dict[str, str]:
    """The recorded response headers among ``pairs``, repeated names joined with ``", "``."""
    found: dict[str, list[str]] = {}
    for h in pairs:
        name = str(h["name"]).lower()
        if name in _RECORDED:
            found.setdefault(name, []).append(str(h.get("value", "")))
    return {name: ", ".join(vals) for name, vals in found.items()}


def _reason(exc: Exception) -> str:
    return f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
