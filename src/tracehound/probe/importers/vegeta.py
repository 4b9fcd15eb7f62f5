"""vegeta ``encode --to json``: one JSON object per line, latency in ns, body base64.

A last line cut off mid-way (a truncated file) is skipped and counted in ``skipped``; a bad
line anywhere else is an error naming the line.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

from tracehound.errors import BadImport
from tracehound.probe.importers._table import Imported, body_fields, target_of, url_parts


def _kind(error: str) -> str:
    e = error.lower()
    if "timeout" in e or "deadline exceeded" in e:
        return "timeout"
    if "refused" in e:
        return "connect_refused"
    if "reset" in e:
        return "reset"
    if "eof" in e:
        return "remote_disconnected"
    if "tls" in e or "x509" in e or "certificate" in e:
        return "tls"
    if "no such host" in e:
        return "dns"
    return "other"


def json_lines(path: Path):  # type: ignore[no-untyped-def]
    """(line number, object) per line; a truncated last line is reported as ``None``."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise BadImport(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise BadImport(f"{str(path)!r} is not UTF-8 text") from None
    last = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    for i, ln in enumerate(lines):
        if not ln.strip():
            continue
        try:
            yield i + 1, json.loads(ln)
        except json.JSONDecodeError:
            if i == last:
                yield i + 1, None
                return
            raise BadImport(f"{str(path)!r}: line {i + 1} is not valid JSON") from None


def read(path: Path) -> Imported:
    out = Imported()
    urls, methods, starts = [], [], []
    for line, o in json_lines(path):
        if o is None:
            out.skipped += 1
            continue
        try:
            start = datetime.fromisoformat(o["timestamp"].replace("Z", "+00:00"))
            latency_ns = int(o["latency"])
            code = int(o.get("code") or 0)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadImport(f"{str(path)!r}: line {line} is not a vegeta result ({exc})") from None
        start_ns = int(start.timestamp() * 1e9)
        starts.append(start_ns)
        url = o.get("url") or ""
        urls.append(url)
        methods.append(o.get("method"))
        host, p = url_parts(url) if url else (None, None)
        error = o.get("error") or None
        body = None
        if o.get("body"):
            try:
                body = base64.b64decode(o["body"])
            except ValueError:
                body = None
        hdrs = {k.lower(): (v[0] if isinstance(v, list) and v else v) for k, v in (o.get("headers") or {}).items()}
        out.add(
            seq=int(o["seq"]) if isinstance(o.get("seq"), int) else None,
            method=o.get("method"), host=host, path=p, start_ns=start_ns, intended_start_ns=start_ns,
            total_ms=latency_ns / 1e6, status=code,
            error_kind=_kind(error) if error else None, error=error,
            bytes_in=o.get("bytes_in"), bytes_out=o.get("bytes_out"),
            h_server=hdrs.get("server"), h_content_type=hdrs.get("content-type"),
            h_retry_after=hdrs.get("retry-after"), h_x_request_id=hdrs.get("x-request-id"),
            **(body_fields(body) if code else {}),
        )
    if out.rows and all(v is None for v in out.columns.get("seq", [None])):
        out.columns.pop("seq", None)
    out.target = target_of(urls, methods)
    if starts:
        out.duration_s = (max(starts) - min(starts)) / 1e9
    return out
