"""The summary of a run: outcome distribution, latency percentiles, grouped errors, rates."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracehound.analysis.histogram import Histogram
from tracehound.probe.meta import RunMeta
from tracehound.probe.records import is_cancelled

LATE_NS = 10_000_000  # a request sent more than 10 ms after its intended time is late

_NUMBERS = re.compile(r"\b\d+(?:\.\d+)?\b")


@dataclass
class LatencyStats:
    count: int
    mean_ms: float | None
    min_ms: float | None
    max_ms: float | None
    percentiles_ms: dict[str, float | None]
    histogram: dict[str, Any] = field(repr=False)


@dataclass
class Summary:
    requests: int
    ok: int
    failed: int
    cancelled: int
    failure_rate: float
    status_counts: dict[str, int]
    error_kinds: dict[str, int]
    errors: list[dict[str, Any]]
    latency_ok: LatencyStats | None
    latency_failed: LatencyStats | None
    duration_s: float
    achieved_rps: float
    intended_rps: float | None
    late: int
    dropped: int
    send_lag_p99_ms: float | None
    connections: int
    reused_fraction: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _col(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    values: np.ndarray = col.to_numpy() if col.null_count == 0 else pc.fill_null(col, 0).to_numpy()
    return values


def _latency(total_ms: np.ndarray) -> LatencyStats | None:
    if total_ms.size == 0:
        return None
    us = np.rint(total_ms.astype(np.float64) * 1000).astype(np.int64)
    h = Histogram.of(us)
    pct = {k: (v / 1000 if v is not None else None) for k, v in h.percentiles((50, 90, 95, 99, 99.9)).items()}
    return LatencyStats(
        count=h.total,
        mean_ms=(h.mean or 0) / 1000,
        min_ms=(h.min or 0) / 1000,
        max_ms=(h.max or 0) / 1000,
        percentiles_ms=pct,
        histogram=h.to_dict(),
    )


def group_messages(messages: list[str | None], limit: int = 10) -> list[dict[str, Any]]:
    """Error messages grouped by their shape (numbers masked), most frequent first."""
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    for m in messages:
        if m is None:
            continue
        key = _NUMBERS.sub("N", m)
        counts[key] += 1
        example.setdefault(key, m)
    return [{"message": example[k], "pattern": k, "count": n} for k, n in counts.most_common(limit)]


#: The columns :func:`summarize` reads; a run's other columns need not be loaded for it.
SUMMARY_COLUMNS = [
    "status", "error_kind", "error", "body_sample", "total_ms", "start_ns", "intended_start_ns", "conn_id",
    "conn_reused",
]


def summarize_run(run: Any) -> Summary:
    """Summary of a :class:`~tracehound.probe.run.Run`, reading only the columns it needs."""
    return summarize(run.read(SUMMARY_COLUMNS), run.meta)


def summarize(table: pa.Table, meta: RunMeta | None = None) -> Summary:
    """Summarise one run's records (vectorised; one pass per column)."""
    meta = meta or RunMeta()
    n = table.num_rows
    status = _col(table, "status").astype(np.int32)
    has_err = table.column("error_kind").is_valid().to_numpy(zero_copy_only=False)
    cancelled = is_cancelled(table) if n else np.zeros(0, bool)
    failed = ((status == 0) | (status >= 400) | has_err) & ~cancelled
    ok = ~failed & ~cancelled
    total_ms = _col(table, "total_ms")

    sc: dict[str, int] = {}
    if n:
        vals, cnts = np.unique(status[~cancelled], return_counts=True)
        sc = {str(int(v)) if v else "none": int(c) for v, c in zip(vals, cnts, strict=True)}
    kinds: dict[str, int] = {}
    if n and has_err.any():
        vc = pc.value_counts(pc.cast(table.column("error_kind"), pa.string()).drop_null())
        kinds = {d["values"]: int(d["counts"]) for d in vc.to_pylist()}
    errs: list[dict[str, Any]] = []
    if n and failed.any():
        fmask = pa.array(failed)
        msgs = table.column("error").filter(fmask).to_pylist()
        bodies = (
            table.column("body_sample").filter(fmask).to_pylist()
            if "body_sample" in table.column_names
            else [None] * len(msgs)
        )
        stat_f = status[failed]
        msgs = [
            m if m is not None else (f"HTTP {int(s)}: {b[:160]}" if b else f"HTTP {int(s)}")
            for m, s, b in zip(msgs, stat_f, bodies, strict=True)
        ]
        errs = group_messages(msgs)

    start = _col(table, "start_ns") if n else np.zeros(0, np.int64)
    intended = _col(table, "intended_start_ns") if n else np.zeros(0, np.int64)
    duration = float(meta.duration_s or 0.0)
    if not duration and n:
        duration = float((start.max() - start.min()) / 1e9)
    sent = int((~cancelled).sum())
    # The achieved rate is over the send window (first to last send), not the whole run, which
    # also waits for the last responses.
    span = float((start.max() - start.min()) / 1e9) if n > 1 else 0.0
    # No response in (Ctrl-C with every request in flight) is no rate, not a negative one.
    achieved = (sent - 1) / span if span > 0 and sent > 1 else (sent / duration if duration > 0 else 0.0)
    # Only rows with a recorded schedule have a send lag (imports carry none).
    scheduled = table.column("intended_start_ns").is_valid().to_numpy(zero_copy_only=False) if n else np.zeros(0, bool)
    lag = (start - intended)[scheduled]
    late = int((lag > LATE_NS).sum()) if lag.size else 0
    lag_p99 = float(np.percentile(lag, 99) / 1e6) if lag.size else None
    conn = table.column("conn_id")
    conns = int(pc.count_distinct(conn.drop_null()).as_py()) if n else 0
    reused_col = table.column("conn_reused")
    known = reused_col.is_valid().to_numpy(zero_copy_only=False) if n else np.zeros(0, bool)
    reused = pc.fill_null(reused_col, False).to_numpy(zero_copy_only=False)[known] if n else np.zeros(0, bool)
    shape = meta.shape
    return Summary(
        requests=n,
        ok=int(ok.sum()),
        failed=int(failed.sum()),
        cancelled=int(cancelled.sum()),
        failure_rate=float(failed.sum() / max(sent, 1)),
        status_counts=sc,
        error_kinds=kinds,
        errors=errs,
        latency_ok=_latency(total_ms[ok]),
        latency_failed=_latency(total_ms[failed]),
        duration_s=duration,
        achieved_rps=achieved,
        intended_rps=shape.rate if shape.model == "open" else None,
        late=late,
        dropped=meta.counts.dropped or 0,
        send_lag_p99_ms=lag_p99,
        connections=conns,
        reused_fraction=float(reused.mean()) if reused.size else 0.0,
    )
