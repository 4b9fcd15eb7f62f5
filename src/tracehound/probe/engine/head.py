"""The fast parser of a response head, for the plain responses that make up most of a load test."""

from __future__ import annotations

import re
from typing import Literal

from tracehound.probe.records import RecordBuffer

_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HEAD_CACHE_SIZE = 2048
RESPONSE_CACHE_SIZE = 1024

#: One value per recorded header (None when the response lacks it), in the buffer's order.
HeaderValues = tuple[bytes | None, ...]
#: ``(status, content_length, keep_alive, header_code, header_values, all_headers)``
HeadInfo = tuple[int, int, bool, int, HeaderValues, dict[str, str]]
#: A head cache entry: the parsed head, or False for a head only httptools can parse.
CachedHead = HeadInfo | Literal[False]
#: What recording needs from a whole one-piece response:
#: ``(status, keep_alive, header_code, header_values, all_headers, digest, sample, body_at)``
ResponseEntry = tuple[int, bool, int, HeaderValues, dict[str, str], bytes, int, int]


def parse_head(head: bytes, buf: RecordBuffer) -> HeadInfo | None:
    """Strict parse of a response head (status line and headers, without the final CRLFCRLF).

    Returns ``(status, content_length, keep_alive, header_code, header_tuple, all_headers)``
    for a plain response framed by a single Content-Length, or None when anything is unusual
    (chunked, 1xx/204/304, obs-fold, duplicate lengths…), in which case httptools parses it.

    This exists for speed: httptools calls back into Python once per header, and on a fast
    local target those calls cost about a third of the request rate (benchmarks/loadgen.py).
    Heads repeat byte for byte (they differ at most by the Date header, once a second), so
    each distinct head is parsed once and cached.
    """
    lines = head.split(b"\r\n")
    m = _STATUS_LINE.fullmatch(lines[0])
    if m is None:
        return None
    status = int(m.group(2))
    if status < 200 or status in (204, 304):
        return None
    clen = -1
    conn = b""
    wanted = buf.header_index
    vals: list[bytes | None] = [None] * len(wanted)
    allh: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):
            return None
        low = name.lower()
        value = value.strip(b" \t")
        if low == b"content-length":
            if clen >= 0 or not value.isdigit():
                return None
            clen = int(value)
        elif low == b"transfer-encoding":
            return None
        elif low == b"connection":
            conn = value.lower()
        i = wanted.get(low)
        if i is not None:
            old = vals[i]
            vals[i] = value if old is None else old + b", " + value
        key = low.decode("latin-1")
        text = value.decode("latin-1")
        allh[key] = text if key not in allh else allh[key] + ", " + text
    if clen < 0:
        return None
    keep = b"close" not in conn if m.group(1) == b"1" else b"keep-alive" in conn
    htuple = tuple(vals)
    hcode = buf.header_sets.code(htuple)
    return (status, clen, keep, hcode, htuple, allh)
