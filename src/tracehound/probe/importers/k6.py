"""k6 ``--out json``: metric points, eight or nine per HTTP request, grouped back into one row each.

k6 writes every point of one request with the same ``time`` (when the request ended) and the
same ``tags`` (``method``, ``url``, ``name``, ``status``, ``error``, ``error_code``, …) and
``metadata`` (``vu``, ``iter`` when enabled): that triple is the request's key. Two requests
with the same key (same nanosecond, same tags) are told apart because the second one repeats
a metric the first already has. Rows are in the order their first point appears.

Mapping, from k6's own definitions (``http_req_blocked`` runs from asking for a connection to
having one, so it includes DNS, connecting and TLS; ``http_req_duration`` is sending + waiting
+ receiving):

- ``total_ms``: ``http_req_blocked + http_req_duration``, the whole request as the prober
  measures it (``http_req_duration`` alone when a file has no ``http_req_blocked``).
- ``start_ns``: the point's ``time`` minus ``total_ms``; null without ``http_req_duration``.
  ``intended_start_ns`` is null.
- ``ttfb_ms``: ``http_req_blocked + http_req_sending + http_req_waiting``; null when no
  response came back (status 0), where k6's "waiting" runs until the error.
- ``connect_ms``: ``http_req_connecting + http_req_tls_handshaking``; null when connecting is 0,
  which k6 writes for a reused connection.
- ``status``: the ``status`` tag (null if k6 ran without it); ``error``: the ``error`` tag. The error kind comes from
  ``error_code`` by :data:`ERROR_CODES` (k6's 1400–1599 only restate an HTTP status, which
  ``status`` holds, so they give no kind).
- ``vu``: the ``vu`` tag or metadata, when k6 ran with it; ``step``: the ``name`` tag when it
  differs from ``url`` (a request named in the script).

``data_sent``/``data_received`` are written once per iteration with the iteration's tags, not
per request, so ``bytes_in``/``bytes_out`` stay null; so do headers, bodies and the connection
columns. A last line cut off mid-way is skipped and counted in ``"skipped"``; a bad line
anywhere else is an error naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tracehound.probe.importers._fields import (
    HAR_MAX_MS,
    each_distinct,
    epoch_ns,
    target_of,
    text,
    url_columns,
)
from tracehound.probe.importers._files import JsonLines, bad
from tracehound.probe.importers._table import Imported, ints
from tracehound.probe.records import INT32_MAX
from tracehound.redact import redact_text

#: The per-request metrics read, in the order of the value columns.
METRICS = (
    "http_req_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
)
_COLUMN = {m: j for j, m in enumerate(METRICS)}
#: Every per-request metric: they all key the request, the ones in :data:`METRICS` give its times.
_REQUEST_METRICS = frozenset({*METRICS, "http_reqs", "http_req_failed", "http_req_receiving"})

#: k6 ``error_code`` ranges (inclusive) → error kind; codes in no range are ``other``.
ERROR_CODES: tuple[tuple[int, int, str | None], ...] = (
    (1050, 1050, "timeout"),
    (1100, 1101, "dns"),
    (1201, 1201, "remote_disconnected"),  # broken pipe: the other side closed
    (1211, 1211, "connect_timeout"),
    (1212, 1212, "connect_refused"),
    (1220, 1220, "reset"),
    (1300, 1399, "tls"),
    (1400, 1599, None),  # 1000 + an HTTP status
    (1600, 1699, "protocol"),  # HTTP/2
)


def error_kind(code: int | None, message: str | None) -> str | None:
    """The error kind of a k6 request from its ``error_code`` (and ``error`` when the code is generic)."""
    if code is None:
        return "other" if message else None
    for lo, hi, kind in ERROR_CODES:
        if lo <= code <= hi:
            return kind
    if code == 1000 and message and "EOF" in message:
        return "remote_disconnected"
    return "other"


def read(path: Path) -> Imported:
    """The HTTP requests in a k6 JSON output file."""
    lines = JsonLines(path)
    #: (time, sorted tags, sorted metadata) of a request → its row
    open_rows: dict[tuple[Any, tuple[tuple[Any, Any], ...], tuple[tuple[Any, Any], ...]], int] = {}
    times: list[str] = []
    tags: list[dict[str, Any]] = []
    meta: list[dict[str, Any]] = []
    where: list[int] = []
    values: list[list[float]] = []
    seen: list[set[str]] = []
    for number, p in lines:
        if not isinstance(p, dict) or not isinstance(p.get("type"), str):
            raise bad(path, f"line {number} is not k6 JSON output (no \"type\")")
        metric = p.get("metric")
        if p["type"] != "Point" or not isinstance(metric, str) or metric not in _REQUEST_METRICS:
            continue
        try:
            data = p["data"]
            t, tg, md = data["time"], data.get("tags") or {}, data.get("metadata") or {}
            value = float(data["value"])
            key = (t, tuple(sorted(tg.items())), tuple(sorted(md.items())))
            row = open_rows.get(key)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise bad(path, f"line {number} is not a k6 point ({exc})") from None
        if row is None or metric in seen[row]:
            row = open_rows[key] = len(times)
            times.append(t)
            tags.append(tg)
            meta.append(md)
            where.append(number)
            values.append([np.nan] * len(METRICS))
            seen.append(set())
        seen[row].add(metric)
        j = _COLUMN.get(metric)
        if j is not None:
            values[row][j] = value
    n = len(times)
    if n == 0:
        return Imported(rows=0, columns={}, skipped=lines.skipped)

    v = np.array(values, np.float64)
    with np.errstate(invalid="ignore"):
        out_of_range = ~np.isnan(v) & ~((v >= 0) & (v <= HAR_MAX_MS))  # 1e308, infinity, negative
    if out_of_range.any():
        j, m = (int(x) for x in np.argwhere(out_of_range)[0])
        raise bad(path, f"line {where[j]}: {METRICS[m]} {v[j, m]:g} is not a time from 0 to {HAR_MAX_MS:,.0f} ms")
    duration, blocked, connecting, tls, sending, waiting = (v[:, _COLUMN[m]] for m in METRICS)
    status = np.array([_int(tg.get("status"), -1) for tg in tags], np.int64)
    wrong = (status > 999) | ((status < 0) & np.array(["status" in tg for tg in tags]))
    if wrong.any():
        j = int(np.argmax(wrong))
        raise bad(path, f"line {where[j]}: status tag {tags[j].get('status')!r} is not an HTTP status")
    vus = np.array([_int(m.get("vu", tg.get("vu")), -1) for m, tg in zip(meta, tags, strict=True)], np.int64)
    before = np.nan_to_num(blocked)
    total = duration + before
    end = epoch_ns(path, times, lambda j: f"line {where[j]}")
    start = end - np.rint(np.nan_to_num(total) * 1e6).astype(np.int64)
    urls = [text(tg.get("url")) for tg in tags]
    methods = [text(tg.get("method")) for tg in tags]
    names = [text(tg.get("name")) for tg in tags]
    hosts, paths = url_columns(urls)
    errors = [str(tg["error"]) if tg.get("error") else None for tg in tags]
    pairs = [(_int(tg.get("error_code"), None), e) for tg, e in zip(tags, errors, strict=True)]
    kind_of = {pair: error_kind(*pair) for pair in dict.fromkeys(pairs)}  # once per distinct pair
    columns: dict[str, Any] = {
        "vu": ints(vus, (vus >= 0) & (vus <= INT32_MAX)),
        "step": each_distinct([nm if nm != u else None for nm, u in zip(names, urls, strict=True)], redact_text),
        "method": methods,
        "host": hosts,
        "path": paths,
        "start_ns": ints(start, ~np.isnan(total)),
        "connect_ms": np.where(connecting > 0, connecting + np.nan_to_num(tls), np.nan),
        "ttfb_ms": np.where(status > 0, before + sending + waiting, np.nan),
        "total_ms": total,
        "status": ints(status, status >= 0),
        "error_kind": [kind_of[pair] for pair in pairs],
        "error": each_distinct(errors, redact_text),
    }
    return Imported(rows=n, columns=columns, target=target_of(urls, methods), skipped=lines.skipped)


def _int(v: Any, missing: int | None) -> int | None:
    """A tag's integer value, or ``missing`` when the tag is absent, not a number, or past 64 bits."""
    try:
        x = int(v)
    except (TypeError, ValueError, OverflowError):
        return missing
    return x if -(2**63) <= x < 2**63 else missing
