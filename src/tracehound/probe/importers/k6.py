"""k6 ``--out json``: metric points, several per request, grouped back into one row each.

A request's points share the same timestamp and tags; ``http_reqs`` marks each request,
``http_req_duration`` gives total_ms, ``http_req_waiting`` the server wait (TTFB after send),
``http_req_connecting`` connect_ms, ``http_req_failed`` k6's own failure flag. A truncated last
line is skipped and counted.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tracehound.errors import BadImport
from tracehound.probe.importers._table import Imported, target_of, url_parts
from tracehound.probe.importers.vegeta import json_lines

_METRICS = {
    "http_req_duration": "total_ms",
    "http_req_waiting": "wait",
    "http_req_sending": "send",
    "http_req_blocked": "blocked",
    "http_req_connecting": "connect_ms",
    "http_req_tls_handshaking": "tls",
}


def read(path: Path) -> Imported:
    reqs: dict[tuple, dict[str, Any]] = {}
    order: list[tuple] = []
    skipped = 0
    for line, o in json_lines(path):
        if o is None:
            skipped += 1
            continue
        if not isinstance(o, dict) or "type" not in o:
            raise BadImport(f"{str(path)!r}: line {line} is not a k6 JSON output line")
        if o["type"] != "Point" or not str(o.get("metric", "")).startswith("http_req"):
            continue
        data = o.get("data") or {}
        tags = data.get("tags") or {}
        key = (data.get("time"), tags.get("url"), tags.get("method"), tags.get("vu"), tags.get("iter"), tags.get("name"))
        r = reqs.get(key)
        if r is None:
            r = reqs[key] = {"time": data.get("time"), "tags": tags}
            order.append(key)
        metric = o["metric"]
        if metric in _METRICS:
            r[_METRICS[metric]] = data.get("value")
        elif metric == "http_req_failed":
            r["failed"] = bool(data.get("value"))
    out = Imported(skipped=skipped)
    urls, methods, starts = [], [], []
    for key in order:
        r = reqs[key]
        tags = r["tags"]
        try:
            start = datetime.fromisoformat(str(r["time"]).replace("Z", "+00:00"))
        except ValueError:
            raise BadImport(f"{str(path)!r}: bad time {r['time']!r}") from None
        start_ns = int(start.timestamp() * 1e9)
        starts.append(start_ns)
        url = tags.get("url") or ""
        urls.append(url)
        methods.append(tags.get("method"))
        host, p = url_parts(url) if url else (None, None)
        status = int(tags.get("status") or 0)
        error = tags.get("error") or None
        ttfb = None
        if r.get("wait") is not None:
            ttfb = sum(float(r.get(k) or 0) for k in ("blocked", "send", "wait"))
        vu = tags.get("vu")
        out.add(
            vu=int(vu) if str(vu or "").isdigit() else None, step=tags.get("name") if tags.get("name") != url else None,
            method=tags.get("method"), host=host, path=p, start_ns=start_ns, intended_start_ns=start_ns,
            total_ms=r.get("total_ms"), connect_ms=r.get("connect_ms"), ttfb_ms=ttfb, status=status,
            error_kind=("other" if error or status == 0 else None),
            error=(f"{error} (k6 error_code {tags.get('error_code')})" if error and tags.get("error_code") else error),
        )
    out.target = target_of(urls, methods)
    if starts:
        out.duration_s = (max(starts) - min(starts)) / 1e9
    return out
