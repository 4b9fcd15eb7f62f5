"""vegeta ``encode --to json``: one JSON result per line.

Each line is ``{"attack", "seq", "code", "timestamp", "latency", "bytes_out", "bytes_in",
"error", "body", "method", "url", "headers"}``:

- ``seq``: vegeta's own ``seq``; ``start_ns``: ``timestamp`` (when vegeta sent the request; its
  schedule is not in the file, so ``intended_start_ns`` is null); ``total_ms``: ``latency`` (ns).
- ``status``: ``code`` (0 when no response came back).
- ``error``: vegeta's ``error``, except that for a response with a status below 200 or from 400
  up vegeta copies the status line there (``500 Internal Server Error``); that copy is dropped,
  as the prober leaves ``error`` null for an HTTP error status. The error kind comes from
  :data:`GO_ERRORS`.
- ``bytes_in``/``bytes_out``: vegeta's counts, which are body bytes only (the prober counts
  headers too); null when no response came back, as vegeta only counts once it reads one.
- ``body_hash``/``body_sample``: from ``body`` (base64) as vegeta kept it: the whole body unless
  the attack ran with ``-max-body``. An empty body is null.
- the recorded response headers from ``headers``, repeated values joined with ``", "``.

``connect_ms``, ``ttfb_ms``, the connection columns, ``worker`` and ``vu`` are not in vegeta's
results and stay null. A last line cut off mid-way (a truncated file) is skipped and counted
in ``"skipped"``; a bad line anywhere else is an error naming it.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import numpy as np

from tracehound.probe.importers._fields import (
    Bodies,
    each_distinct,
    epoch_ns,
    target_of,
    text,
    url_columns,
)
from tracehound.probe.importers._files import JsonLines, bad
from tracehound.probe.importers._table import Imported, ints
from tracehound.probe.records import DEFAULT_HEADERS, header_column
from tracehound.redact import redact_text

#: Pieces of Go's net/http error messages → error kind, first match wins; anything else is
#: ``other``. A dial that times out is a connect timeout, any other timeout a response timeout.
GO_ERRORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("connection refused",), "connect_refused"),
    (("dial tcp", "i/o timeout"), "connect_timeout"),
    (("timeout",), "timeout"),
    (("deadline exceeded",), "timeout"),
    (("connection reset",), "reset"),
    (("no such host",), "dns"),
    (("server misbehaving",), "dns"),
    (("x509:",), "tls"),
    (("tls:",), "tls"),
    (("eof",), "remote_disconnected"),
    (("server closed idle connection",), "remote_disconnected"),
    (("malformed http",), "protocol"),
)
_FIELDS = ("code", "timestamp", "latency")


def error_kind(message: str) -> str:
    """The error kind of a Go HTTP client error message."""
    m = message.lower()
    for pieces, kind in GO_ERRORS:
        if all(p in m for p in pieces):
            return kind
    return "other"


def read(path: Path) -> Imported:
    """The results in a vegeta JSON file."""
    lines = JsonLines(path)
    seq: list[int] = []
    code: list[int] = []
    started: list[str] = []
    latency: list[int] = []
    sizes: list[tuple[Any, Any]] = []
    methods: list[str | None] = []
    urls: list[str | None] = []
    errors: list[str | None] = []
    attacks: list[str] = []
    headers: dict[str, list[str | None]] = {h: [] for h in DEFAULT_HEADERS}
    bodies = Bodies()
    numbers: list[int] = []
    for number, r in lines:
        try:
            if not isinstance(r, dict) or any(k not in r for k in _FIELDS):
                raise ValueError(f"not a vegeta result (needs {', '.join(_FIELDS)})")
            c, lat, ts = r["code"], r["latency"], r["timestamp"]
            if not (isinstance(c, int) and 0 <= c <= 999 and _count(lat) >= 0 and isinstance(ts, str)):
                raise ValueError("code, latency or timestamp has the wrong type")
            body = base64.b64decode(r["body"], validate=True) if r.get("body") else None
            recorded = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
            s = r.get("seq")
        except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
            raise bad(path, f"line {number}: {exc}") from None
        numbers.append(number)
        seq.append(_count(s))
        code.append(c)
        started.append(ts)
        latency.append(lat)
        sizes.append((r.get("bytes_in"), r.get("bytes_out")))
        methods.append(text(r.get("method")))
        urls.append(text(r.get("url")))
        msg = r.get("error") or None
        if msg is not None and c and str(msg).startswith(f"{c} "):
            msg = None  # vegeta's copy of the status line
        errors.append(str(msg) if msg is not None else None)
        attacks.append(str(r.get("attack") or ""))
        for h, col in headers.items():
            v = recorded.get(h)
            col.append(", ".join(map(str, v)) if isinstance(v, list) and v else (v if isinstance(v, str) else None))
        bodies.add(body)

    n = len(code)
    hosts, paths = url_columns(urls)
    seqs = np.array(seq, np.int64)
    # vegeta counts bytes only once a response is read: without one its zeros mean "not counted"
    answered = np.array(code, np.int64) > 0
    b_in, b_out = (np.where(answered, np.array([_count(x[j]) for x in sizes], np.int64), -1) for j in (0, 1))
    columns: dict[str, Any] = {
        "method": methods,
        "host": hosts,
        "path": paths,
        "start_ns": epoch_ns(path, started, lambda j: f"line {numbers[j]}"),
        "total_ms": np.array(latency, np.float64) / 1e6,
        "status": np.array(code, np.int64),
        "error_kind": each_distinct(errors, error_kind),
        "error": each_distinct(errors, redact_text),
        "bytes_in": ints(b_in, b_in >= 0),
        "bytes_out": ints(b_out, b_out >= 0),
        "body_hash": bodies.hashes,
        "body_sample": bodies.samples,
        **{header_column(h): v for h, v in headers.items()},
    }
    if n and (seqs >= 0).all():
        columns["seq"] = seqs
    target = target_of(urls, methods)
    names = [a for a in dict.fromkeys(attacks) if a]
    if len(names) == 1:
        target["attack"] = names[0]
    return Imported(rows=n, columns=columns, target=target, skipped=lines.skipped)


def _count(v: Any) -> int:
    """A non-negative integer field that fits int64, or -1."""
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63 else -1
