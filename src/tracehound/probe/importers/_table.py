"""Building a record table from imported rows: only the columns a format carries are filled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from tracehound.probe.records import body_digest, schema
from tracehound.redact import redact_path, redact_text, redact_url


@dataclass
class Imported:
    """Columns gathered from a file; every absent column is null in the table."""

    columns: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0
    skipped: int = 0
    target: dict[str, Any] = field(default_factory=dict)
    time_base: str = "epoch"
    duration_s: float | None = None

    def add(self, **values: Any) -> None:
        for k, v in values.items():
            col = self.columns.get(k)
            if col is None:
                col = self.columns[k] = [None] * self.rows
            col.append(v)
        self.rows += 1
        for col in self.columns.values():
            if len(col) < self.rows:
                col.append(None)

    def table(self, source: str) -> pa.Table:
        sch = schema()
        n = self.rows
        arrays = []
        for f in sch:
            if f.name == "run_id":
                arrays.append(pa.array([""] * n, pa.string()).dictionary_encode().cast(f.type))
            elif f.name == "source":
                arrays.append(pa.array([source] * n, pa.string()).dictionary_encode().cast(f.type))
            elif f.name == "seq":
                arrays.append(pa.array(self.columns.get("seq") or list(range(n)), pa.int64()))
            elif f.name in self.columns:
                arrays.append(pa.array(self.columns[f.name], pa.string() if pa.types.is_dictionary(f.type) else f.type).cast(f.type))
            else:
                arrays.append(pa.nulls(n, f.type))
        return pa.table(arrays, schema=sch)


def url_parts(url: str) -> tuple[str | None, str | None]:
    """(host[:port], redacted path with query) of a URL."""
    try:
        p = urlsplit(url)
    except ValueError:
        return None, None
    path = (p.path or "/") + (f"?{p.query}" if p.query else "")
    return p.netloc.rsplit("@", 1)[-1] or None, redact_path(path)


def body_fields(body: bytes | None) -> dict[str, Any]:
    if body is None:
        return {}
    return {
        "body_hash": body_digest([body]).hex(),
        "body_sample": redact_text(body[:256].decode("utf-8", "replace")),
    }


def target_of(urls: list[str], methods: list[str]) -> dict[str, Any]:
    distinct = list(dict.fromkeys(urls))
    t: dict[str, Any] = {"urls": [redact_url(u) for u in distinct[:20]], "distinct_urls": len(distinct)}
    if len(distinct) == 1:
        t["url"] = redact_url(distinct[0])
    ms = list(dict.fromkeys(methods))
    if len(ms) == 1:
        t["method"] = ms[0]
    return t
