"""The traffic analysis' inputs, computed in DuckDB SQL over an import folder's ``requests`` view.

Each function is one scan (or less: Parquet statistics answer counts) and returns small NumPy
arrays or dataclasses: statuses, a log-binned latency histogram, failures per time bucket, and
failures per value of each attribute. The pure analyses of :mod:`tracehound.analysis` take them
from there, so the same tests run on a 100-row run and a 100-million-line log.

A request *fails* when the server answered 5xx, 429 (throttled) or 408, or when nobody answered:
499 (nginx: the client gave up first) and 0 (no response). Other 4xx are the client's business
in production traffic (scanners' 404s, anonymous 401s) and would drown the failures that matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from tracehound.analysis.contrast import AttributeCounts

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

FAILED = "(status >= 500 OR status IN (0, 408, 429, 499))"
#: Width of a latency histogram bin on the natural-log scale (1 %): a tenth of a plateau window.
LOG_STEP = 0.01
#: Bucket widths (seconds) a timeline picks from: the smallest giving at most MAX_BUCKETS buckets.
BUCKET_WIDTHS = (1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
MAX_BUCKETS = 1500
#: Values per attribute returned by count: the most requested, and the most failing.
TOP_BY_REQUESTS = 48
TOP_BY_FAILURES = 16

#: (name, SQL expression, role) of the attributes contrasted; see analysis.contrast for roles.
ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("path", "template", "request"),
    ("method", "method", "request"),
    ("host", "host", "request"),
    ("client", "client", "request"),
    ("user_agent", "user_agent", "request"),
    ("upstream", "upstream", "server"),
    ("status", "CAST(status AS VARCHAR)", "response"),
    ("time_of_day", "__hour", "context"),
)


@dataclass
class Overview:
    requests: int
    failures: int
    first: datetime | None
    last: datetime | None
    #: status → (requests, failures)
    statuses: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def span_s(self) -> float:
        return (self.last - self.first).total_seconds() if self.first and self.last else 0.0


@dataclass
class Timeline:
    start: datetime
    width_s: int
    n: NDArray[np.int64]
    k: NDArray[np.int64]

    def at(self, bucket: int) -> datetime:
        return self.start + timedelta(seconds=bucket * self.width_s)


def overview(con: DuckDBPyConnection) -> Overview:
    rows = con.execute(f"SELECT status, count(*), count(*) FILTER ({FAILED}), min(ts), max(ts) "
                       "FROM requests GROUP BY status").fetchall()
    statuses = {int(s): (int(n), int(k)) for s, n, k, _, _ in rows if s is not None}
    firsts = [r[3] for r in rows if r[3] is not None]
    lasts = [r[4] for r in rows if r[4] is not None]
    return Overview(sum(r[1] for r in rows), sum(r[2] for r in rows), min(firsts, default=None),
                    max(lasts, default=None), statuses)


def latency_histogram(con: DuckDBPyConnection,
                      step: float = LOG_STEP) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(bin, failures, successes) of ln(latency ms) in bins of ``step``, requests with a latency only."""
    t = con.execute(f"SELECT CAST(floor(ln(latency_ms) / {step}) AS INTEGER) AS b, "
                    f"count(*) FILTER ({FAILED}) AS k, count(*) FILTER (NOT {FAILED}) AS ok "
                    "FROM requests WHERE latency_ms > 0 GROUP BY b ORDER BY b").fetchnumpy()
    return (np.asarray(t["b"], np.int64), np.asarray(t["k"], np.int64), np.asarray(t["ok"], np.int64))


def timeline(con: DuckDBPyConnection, first: datetime, last: datetime, where: str = "TRUE") -> Timeline:
    """Requests and failures per time bucket, every bucket from ``first`` to ``last`` (empty ones too)."""
    span = max((last - first).total_seconds(), 1.0)
    width = next((w for w in BUCKET_WIDTHS if span / w <= MAX_BUCKETS), BUCKET_WIDTHS[-1])
    origin = int(first.timestamp()) // width * width
    t = con.execute(f"SELECT CAST(floor(epoch(ts) / {width}) AS BIGINT) * {width} - {origin} AS b, count(*) AS n, "
                    f"count(*) FILTER ({FAILED}) AS k FROM requests WHERE {where} GROUP BY b").fetchnumpy()
    idx = (np.asarray(t["b"], np.int64) // width)
    size = int(idx.max()) + 1 if idx.size else 1
    n = np.bincount(idx, weights=np.asarray(t["n"], np.float64), minlength=size).astype(np.int64)
    k = np.bincount(idx, weights=np.asarray(t["k"], np.float64), minlength=size).astype(np.int64)
    return Timeline(datetime.fromtimestamp(origin, UTC), width, n, k)


def attribute_counts(con: DuckDBPyConnection, utc_offset_min: int = 0, where: str = "TRUE") -> list[AttributeCounts]:
    """Requests and failures per value of every attribute, in one scan (GROUPING SETS).

    Per attribute, the values most requested and most failing are kept; the rest are pooled as
    ``(other)``, and a missing value is ``(none)``.
    """
    names = [f"__a{i}" for i in range(len(ATTRIBUTES))]
    exprs = ", ".join(f"{expr} AS {n}" for (_, expr, _), n in zip(ATTRIBUTES, names, strict=True))
    sets = ", ".join(f"({n})" for n in names)
    m = len(names)
    sql = f"""
WITH src AS (
  SELECT {exprs}, {FAILED} AS __failed
  FROM (SELECT *, strftime(ts + INTERVAL ({int(utc_offset_min)}) MINUTE, '%H:00') AS __hour FROM requests WHERE {where})
), g AS (
  SELECT GROUPING({", ".join(names)}) AS gid, coalesce({", ".join(names)}) AS value, count(*) AS n,
         count(*) FILTER (__failed) AS k
  FROM src GROUP BY GROUPING SETS ({sets})
), r AS (
  SELECT *, row_number() OVER (PARTITION BY gid ORDER BY n DESC, value) AS rn,
            row_number() OVER (PARTITION BY gid ORDER BY k DESC, value) AS rk FROM g
)
SELECT gid, CASE WHEN rn <= {TOP_BY_REQUESTS} OR (rk <= {TOP_BY_FAILURES} AND k > 0) THEN coalesce(value, '(none)')
                 ELSE '(other)' END AS v, sum(n) AS n, sum(k) AS k
FROM r GROUP BY ALL ORDER BY gid, n DESC"""
    t = con.execute(sql).fetchnumpy()
    gid = np.asarray(t["gid"], np.int64)
    out = []
    for i, (name, _, role) in enumerate(ATTRIBUTES):
        sel = gid == (2 ** m - 1) - 2 ** (m - 1 - i)
        values = [str(v) for v in np.asarray(t["v"], dtype=object)[sel]]
        if values == ["(none)"]:
            continue  # the format does not carry it
        out.append(AttributeCounts(name, role, values, np.asarray(t["k"], np.int64)[sel],
                                   np.asarray(t["n"], np.int64)[sel]))
    return out


def attribute_expr(name: str) -> str:
    return next(expr for n, expr, _ in ATTRIBUTES if n == name)


def examples(con: DuckDBPyConnection, where: str, limit: int = 5, utc_offset_min: int = 0) -> list[str]:
    """Up to ``limit`` failing requests matching ``where``, one line each, in the log's local time."""
    rows = con.execute(
        f"SELECT ts + INTERVAL ({int(utc_offset_min)}) MINUTE, method, path, status, latency_ms, upstream, client "
        f"FROM (SELECT *, strftime(ts + INTERVAL ({int(utc_offset_min)}) MINUTE, '%H:00') AS __hour FROM requests) "
        f"WHERE {FAILED} AND {where} LIMIT {int(limit)}").fetchall()
    out = []
    for ts, method, path, status, lat, up, client in rows:
        took = f" after {lat:.0f} ms" if lat is not None else ""
        via = f" via {up}" if up else ""
        who = f" from {client}" if client else ""
        out.append(f"{ts:%Y-%m-%d %H:%M:%S} {method or '?'} {path or '?'} → {status}{took}{via}{who}")
    return out


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


__all__ = ["ATTRIBUTES", "FAILED", "LOG_STEP", "Overview", "Timeline", "attribute_counts", "attribute_expr",
           "examples", "latency_histogram", "overview", "quote", "timeline"]
