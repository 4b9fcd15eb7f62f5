"""Synthetic record tables in the real schema, with a structure the caller chooses.

For tests and benchmarks of the analyses: every column of
:func:`tracehound.probe.records.schema` is filled, from NumPy arrays where the caller gives them
and with plausible defaults (a closed model at a fixed concurrency, keep-alive connections, ~20 ms
answers, status 200) where it does not. String columns accept a constant, a sequence, or
``(codes, values)`` or an Arrow array for large tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike, NDArray

from tracehound.probe.meta import RunMeta
from tracehound.probe.records import DEFAULT_HEADERS, header_column, schema

EPOCH_NS = 1_700_000_000 * 10**9

#: A string column: a constant, values row by row, ``(codes, values)``, or an Arrow array.
Strings: TypeAlias = (
    "str | Sequence[Any] | tuple[NDArray[np.integer[Any]], Sequence[Any]] | NDArray[Any] | pa.Array | None"
)


def _strings(value: Strings, n: int, typ: pa.DataType) -> pa.Array:
    if value is None:
        return pa.nulls(n, typ)
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value.cast(typ)
    if isinstance(value, str):
        arr = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value]))
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], np.ndarray):
        codes = np.asarray(value[0], dtype=np.int32)
        values = value[1]
        mask = codes < 0
        arr = pa.DictionaryArray.from_arrays(pa.array(np.where(mask, 0, codes), mask=mask if mask.any() else None),
                                             pa.array(list(values), pa.string()))
    else:
        arr = pa.array(list(value), pa.string())
    return arr.cast(typ)


def table(
    n: int,
    *,
    start_s: ArrayLike | None = None,
    latency_ms: ArrayLike | None = None,
    status: ArrayLike = 200,
    error_kind: Strings = None,
    concurrency: int = 8,
    inflight: ArrayLike | None = None,
    vu: ArrayLike | None = None,
    conn_id: ArrayLike | None = None,
    conn_reused: ArrayLike | None = None,
    conn_idle_ms: ArrayLike | None = None,
    step: Strings = None,
    method: Strings = "GET",
    host: Strings = "127.0.0.1:8000",
    path: Strings = "/api/items/42",
    bytes_in: ArrayLike | None = None,
    body_sample: Strings = '{"id": 42, "name": "lamp", "price": 1999}',
    body_hash: Strings = None,
    headers: dict[str, Strings] | None = None,
    run_id: str = "synthetic",
    worker: int = 0,
    seed: int = 0,
    epoch_ns: int = EPOCH_NS,
) -> pa.Table:
    """A record table of ``n`` requests (see the module docstring for the defaults)."""
    rng = np.random.default_rng(seed)
    if latency_ms is None:
        lat = rng.lognormal(np.log(20.0), 0.25, n)
    else:
        lat = np.broadcast_to(np.asarray(latency_ms, dtype=np.float64), (n,)).copy()
    if vu is None:
        vu = np.arange(n) % max(concurrency, 1)
    if start_s is None:
        # A closed model: each VU sends its next request when the previous one ends.
        start_s = np.zeros(n)
        if n:
            per_vu = np.asarray(vu)
            order = np.lexsort((np.arange(n), per_vu))
            v = per_vu[order]
            new = np.r_[True, v[1:] != v[:-1]]
            cum = np.cumsum(lat[order] / 1000.0)
            grp_start = np.maximum.accumulate(np.where(new, np.r_[0.0, cum[:-1]], 0.0))
            start_s[order] = np.r_[0.0, cum[:-1]] - grp_start + rng.uniform(0, 0.001, n)
    start_ns = epoch_ns + (np.asarray(start_s, dtype=np.float64) * 1e9).astype(np.int64)
    status = np.broadcast_to(np.asarray(status, dtype=np.int16), (n,))
    if inflight is None:
        inflight = np.full(n, concurrency, np.int32)
    if conn_id is None:
        conn_id = np.asarray(vu, dtype=np.int32)
    if conn_reused is None:
        conn_id = np.asarray(conn_id)
        o = np.lexsort((start_ns, conn_id))
        first = np.r_[True, conn_id[o][1:] != conn_id[o][:-1]]
        conn_reused = np.ones(n, bool)
        conn_reused[o[first]] = False
    if conn_idle_ms is None:
        conn_idle_ms = np.where(conn_reused, rng.uniform(0.05, 0.5, n), np.nan)
    conn_requests = np.where(conn_reused, 1, 0).astype(np.int32)
    if bytes_in is None:
        bytes_in = np.full(n, 180, np.int64)
    sch = schema(DEFAULT_HEADERS + tuple(h for h in (headers or {}) if h not in DEFAULT_HEADERS))
    idle = np.asarray(conn_idle_ms, dtype=np.float64)
    cols: dict[str, pa.Array] = {
        "run_id": _strings(run_id, n, sch.field("run_id").type),
        "seq": pa.array(np.arange(n, dtype=np.int64)),
        "worker": pa.array(np.full(n, worker, np.int16)),
        "vu": pa.array(np.asarray(vu, dtype=np.int32)),
        "source": _strings("probe", n, sch.field("source").type),
        "step": _strings(step, n, sch.field("step").type),
        "method": _strings(method, n, sch.field("method").type),
        "host": _strings(host, n, sch.field("host").type),
        "path": _strings(path, n, pa.string()),
        "intended_start_ns": pa.array(start_ns),
        "start_ns": pa.array(start_ns),
        "connect_ms": pa.array(np.where(conn_reused, np.nan, 0.3).astype(np.float32),
                               mask=np.asarray(conn_reused, bool)),
        "ttfb_ms": pa.array((lat * 0.95).astype(np.float32)),
        "total_ms": pa.array(lat.astype(np.float32)),
        "status": pa.array(status),
        "error_kind": _strings(error_kind, n, sch.field("error_kind").type),
        "error": pa.nulls(n, pa.string()),
        "bytes_in": pa.array(np.broadcast_to(np.asarray(bytes_in, dtype=np.int64), (n,))),
        "bytes_out": pa.array(np.full(n, 120, np.int64)),
        "body_hash": _strings(body_hash if body_hash is not None else "00c0ffee00c0ffee", n,
                              sch.field("body_hash").type),
        "body_sample": _strings(body_sample, n, pa.string()),
        "conn_id": pa.array(np.asarray(conn_id, dtype=np.int32)),
        "conn_reused": pa.array(np.asarray(conn_reused, dtype=bool)),
        "conn_idle_ms": pa.array(idle.astype(np.float32), mask=~np.isfinite(idle)),
        "conn_requests": pa.array(conn_requests),
        "inflight": pa.array(np.asarray(inflight, dtype=np.int32)),
    }
    hdrs: dict[str, Strings] = {"server": "uvicorn", "content-type": "application/json"}
    hdrs.update(headers or {})
    for f in sch:
        if f.name.startswith("h_"):
            src = next((v for k, v in hdrs.items() if header_column(k) == f.name), None)
            cols[f.name] = _strings(src, n, pa.string())
    t = pa.Table.from_arrays([cols[f.name] for f in sch], schema=sch)
    # As the prober writes them: rows in the order they were sent, seq numbering that order.
    order = np.argsort(start_ns, kind="stable")
    if n and (order[1:] < order[:-1]).any():
        t = t.take(pa.array(order)).set_column(1, "seq", pa.array(np.arange(n, dtype=np.int64)))
    return t


class FakeRun:
    """A run held in memory: ``meta`` and ``table`` as :class:`tracehound.probe.run.Run` has them
    (``meta`` given as a ``run.json`` document or its blocks)."""

    def __init__(self, table: pa.Table, meta: RunMeta | Mapping[str, Any] | None = None, name: str = "run") -> None:
        from pathlib import Path

        self.table = table
        self.meta = meta if isinstance(meta, RunMeta) else RunMeta.model_validate(dict(meta or {}))
        self.path = Path(name)


def experiment(kind: str, concurrency: int | None = None, *, rate: float | None = None, gap_s: float | None = None,
               delay_s: float | None = None, role: str = "target", during: str | None = None,
               served: bool | None = None) -> dict[str, Any]:
    """A run.json ``experiment`` block, as the experiments write it."""
    return {"experiment": {"kind": kind, "concurrency": concurrency, "rate": rate, "gap_s": gap_s, "delay_s": delay_s,
                           "role": role, "during": during, "served": served, "purpose": f"synthetic {kind}"}}


__all__ = ["EPOCH_NS", "FakeRun", "experiment", "table"]
