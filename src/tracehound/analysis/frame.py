"""The records of one or more runs as NumPy columns, converted once and shared by every analysis.

A :class:`Frame` wraps an Arrow table in the record schema (:func:`tracehound.probe.records.schema`)
and derives, lazily and without a per-row loop, what the analyses need: the failure mask, the
service time of each request, its position in its run and on its virtual user, the quiet time
before it. Runs are told apart by :class:`RunInfo`; a frame of one plain probe is one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tracehound.analysis.outcome import (
    CANCELLED,
    CAPTURE,
    error_codes,
    failed_mask,
    status_codes,
)
from tracehound.probe.meta import RunMeta
from tracehound.probe.records import ERROR_KINDS

#: A string column with more distinct values than this in its first rows is an identifier
#: (request ids, timings), not an attribute worth grouping by.
MAX_CARDINALITY = 1000
_CARDINALITY_SAMPLE = 20_000

_Scalar = TypeVar("_Scalar", bound=np.generic)
#: A string column as codes (int32, -1 = null) and the values they index.
Codes = tuple[NDArray[np.int32], list[Any]]


@dataclass(frozen=True)
class RunInfo:
    """What the analyses need to know about one run: its label and the experiment it was."""

    index: int
    label: str = ""
    #: baseline | sweep | idle_gap | low_rate | flow_delay | canary | confirm | probe; None for a plain probe
    kind: str | None = None
    concurrency: int | None = None
    rate: float | None = None
    gap_s: float | None = None
    delay_s: float | None = None
    role: str = "target"
    during: str | None = None
    #: False when every request went on a new connection.
    keepalive: bool = True
    #: The client timeout the run's requests had, when known.
    timeout_s: float | None = None
    #: The kind of experiment a variant (fresh_conn, timeout_varied) repeats.
    like: str | None = None
    burst_s: float | None = None
    period_s: float | None = None
    #: A canary's: asks for a path the service serves (True), or one nothing serves.
    served: bool = False

    @classmethod
    def of(cls, index: int, label: str, meta: RunMeta) -> RunInfo:
        """From a run's ``run.json``: its ``experiment`` block, or a plain probe's shape."""
        exp, shape, opts = meta.experiment, meta.shape, meta.options
        timeout = opts.timeout_s if opts.timeout_s is not None else None
        keepalive = opts.keepalive is not False
        if exp is None:
            closed = shape.model != "open" and not shape.stages
            return cls(index=index, label=label, concurrency=shape.concurrency if closed else None,
                       keepalive=keepalive, timeout_s=timeout)
        return cls(index=index, label=label, kind=exp.kind, concurrency=exp.concurrency, rate=exp.rate,
                   gap_s=exp.gap_s, delay_s=exp.delay_s, role=exp.role or "target", during=exp.during,
                   keepalive=keepalive and exp.keepalive is not False,
                   timeout_s=exp.timeout_s if exp.timeout_s is not None else timeout, like=exp.like,
                   burst_s=exp.burst_s, period_s=exp.period_s, served=bool(exp.served))

    @property
    def sequential(self) -> bool:
        """One request at a time by design (a baseline, or a closed run at concurrency 1)."""
        return self.concurrency == 1 and self.kind in (None, "baseline", "sweep", "confirm", "probe")


def concat(tables: list[pa.Table]) -> pa.Table:
    """Record tables of several runs as one, with a ``run_ix`` column (their position in the list)."""
    parts = []
    for i, table in enumerate(tables):
        t = table.drop_columns(["run_ix"]) if "run_ix" in table.column_names else table
        parts.append(t.append_column("run_ix", pa.array(np.full(t.num_rows, i, np.int32))))
    if not parts:
        raise ValueError("no tables")
    if len(parts) == 1:
        return parts[0]
    return pa.concat_tables(parts, promote_options="default")


class Frame:
    """A record table's columns as NumPy arrays, derived on first use and cached."""

    def __init__(self, table: pa.Table, runs: list[RunInfo] | None = None) -> None:
        self.table = table
        self.n: int = table.num_rows
        n_runs = int(self.run.max()) + 1 if self.n else 1
        self.runs = list(runs) if runs is not None else [RunInfo(i) for i in range(n_runs)]
        if len(self.runs) < n_runs:
            self.runs += [RunInfo(i) for i in range(len(self.runs), n_runs)]
        self._codes: dict[str, Codes | None] = {}

    def __len__(self) -> int:
        return self.n

    def has(self, name: str) -> bool:
        return name in self.table.column_names

    # -- plain columns -----------------------------------------------------------------------
    def numeric(self, name: str, dtype: type[_Scalar], fill: float = np.nan) -> NDArray[_Scalar]:
        """A numeric column as ``dtype``, nulls (and a missing column) as ``fill``."""
        if not self.has(name):
            return np.full(self.n, fill, dtype=dtype)
        col = self.table.column(name)
        if col.null_count:
            if np.issubdtype(np.dtype(dtype), np.floating):
                col = pc.cast(col, pa.float64())
            col = pc.fill_null(col, fill)
        if col.num_chunks == 0:
            return np.zeros(0, dtype=dtype)
        out: NDArray[_Scalar] = col.to_numpy().astype(dtype, copy=False)
        return out

    @cached_property
    def run(self) -> NDArray[np.int32]:
        return self.numeric("run_ix", np.int32, 0) if self.has("run_ix") else np.zeros(self.n, np.int32)

    @cached_property
    def seq(self) -> NDArray[np.int64]:
        return self.numeric("seq", np.int64, -1)

    @cached_property
    def status(self) -> NDArray[np.int32]:
        return status_codes(self.table) if self.n else np.zeros(0, np.int32)

    @cached_property
    def error(self) -> NDArray[np.int8]:
        """Error codes, indices into ``ERROR_KINDS``; -1 = got a response."""
        return error_codes(self.table.column("error_kind")) if self.n else np.zeros(0, np.int8)

    def error_is(self, *kinds: str) -> NDArray[np.bool_]:
        codes = [ERROR_KINDS.index(k) for k in kinds]
        return np.isin(self.error, codes)

    @cached_property
    def cancelled(self) -> NDArray[np.bool_]:
        return np.equal(self.error, CANCELLED)

    @cached_property
    def failed(self) -> NDArray[np.bool_]:
        return failed_mask(self.status, self.error)

    @cached_property
    def ok(self) -> NDArray[np.bool_]:
        return ~self.failed & ~self.cancelled

    @cached_property
    def cascaded(self) -> NDArray[np.bool_]:
        """Requests never sent because an earlier step's capture found nothing: failures by consequence."""
        return np.equal(self.error, CAPTURE) & np.equal(self.status, 0)

    @cached_property
    def primary(self) -> NDArray[np.bool_]:
        """Failures that happened on the wire (not cascaded from an earlier step)."""
        return self.failed & ~self.cascaded

    @cached_property
    def counted(self) -> NDArray[np.bool_]:
        """Requests that count towards a rate: everything but the cancelled."""
        return ~self.cancelled

    @cached_property
    def start_ns(self) -> NDArray[np.int64]:
        return self.numeric("start_ns", np.int64, 0)

    @cached_property
    def intended_ns(self) -> NDArray[np.int64]:
        if not self.has("intended_start_ns") or self.table.column("intended_start_ns").null_count == self.n:
            return self.start_ns
        it = self.numeric("intended_start_ns", np.int64, -1)
        return np.where(it > 0, it, self.start_ns)

    @cached_property
    def latency_ms(self) -> NDArray[np.float64]:
        """Time from sending to the end of the answer (NaN when unknown): the service's share of ``total_ms``."""
        total = self.numeric("total_ms", np.float64, np.nan)
        lag = np.maximum(self.start_ns - self.intended_ns, 0) / 1e6
        service: NDArray[np.float64] = np.maximum(total - lag, 0.0)
        return service

    @cached_property
    def end_ns(self) -> NDArray[np.int64]:
        lat = np.nan_to_num(self.latency_ms, nan=0.0)
        return self.start_ns + (lat * 1e6).astype(np.int64)

    @cached_property
    def inflight(self) -> NDArray[np.int32]:
        """Requests in flight when this one started, itself included; -1 = unknown."""
        return self.numeric("inflight", np.int32, -1)

    @cached_property
    def vu(self) -> NDArray[np.int32]:
        return self.numeric("vu", np.int32, -1)

    @cached_property
    def conn_id(self) -> NDArray[np.int64]:
        return self.numeric("conn_id", np.int64, -1)

    @cached_property
    def conn_reused(self) -> NDArray[np.int8]:
        """1 = a reused connection, 0 = a new one, -1 = unknown."""
        if not self.has("conn_reused"):
            return np.full(self.n, -1, np.int8)
        col = self.table.column("conn_reused")
        known = col.is_valid().to_numpy(zero_copy_only=False) if col.null_count else np.ones(self.n, bool)
        val = (pc.fill_null(col, False) if col.null_count else col).to_numpy(zero_copy_only=False)
        return np.where(known, val.astype(np.int8), -1).astype(np.int8)

    @cached_property
    def conn_idle_ms(self) -> NDArray[np.float64]:
        """How long the connection sat idle before this request (NaN for a new connection)."""
        return self.numeric("conn_idle_ms", np.float64, np.nan)

    @cached_property
    def bytes_in(self) -> NDArray[np.int64]:
        return self.numeric("bytes_in", np.int64, -1)

    # -- order and clocks ----------------------------------------------------------------------
    @cached_property
    def time_order(self) -> NDArray[np.intp]:
        """Row indices sorted by start time (records arrive nearly sorted: a stable sort is cheap)."""
        return np.argsort(self.start_ns, kind="stable") if self.n else np.zeros(0, np.int64)

    @cached_property
    def order(self) -> NDArray[np.intp]:
        """Row indices sorted by run, then by start time."""
        if self.n == 0:
            return np.zeros(0, np.int64)
        o = self.time_order
        return o[np.argsort(_small(self.run[o]), kind="stable")]

    @cached_property
    def run_start_ns(self) -> NDArray[np.int64]:
        """The first start of each run, indexed by run."""
        out = np.zeros(len(self.runs), np.int64)
        if self.n:
            o = self.order
            r = self.run[o]
            first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            out[r[first]] = self.start_ns[o][first]
        return out

    @cached_property
    def elapsed_s(self) -> NDArray[np.float64]:
        """Seconds since the start of the request's run."""
        return (self.start_ns - self.run_start_ns[self.run]) / 1e9

    @cached_property
    def vu_age_s(self) -> NDArray[np.float64]:
        """Seconds since the virtual user's first request in the run (its session's age); NaN without a VU."""
        if self.n == 0:
            return np.zeros(0)
        key = dense(self.run.astype(np.int64) * (int(self.vu.max()) + 2) + (self.vu + 1))
        first = np.full(int(key.max()) + 1, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(first, key, self.start_ns)
        return np.where(self.vu >= 0, (self.start_ns - first[key]) / 1e9, np.nan)

    @cached_property
    def quiet_ms(self) -> NDArray[np.float64]:
        """How long no request of the frame was in flight before this one started (NaN for the first).

        Taken over all the frame's runs on one timeline: the service's quiet time, as far as
        this traffic can tell (a service idle between experiments is idle).
        """
        if self.n == 0:
            return np.zeros(0)
        o = self.time_order
        ends = np.maximum.accumulate(self.end_ns[o])
        prev = np.r_[np.iinfo(np.int64).min, ends[:-1]]
        q = np.where(prev == np.iinfo(np.int64).min, np.nan, np.maximum(self.start_ns[o] - prev, 0) / 1e6)
        out = np.empty(self.n)
        out[o] = q
        return out

    # -- strings ---------------------------------------------------------------------------------
    def codes(self, name: str, max_cardinality: int = MAX_CARDINALITY) -> Codes | None:
        """A string or dictionary column as int32 codes (-1 = null) and its values.

        None when the column is missing, entirely null, or an identifier (more than
        ``max_cardinality`` distinct values among its first rows, or mostly unique ones).
        """
        key = f"{name}/{max_cardinality}"
        if key in self._codes:
            return self._codes[key]
        self._codes[key] = out = self._encode(name, max_cardinality)
        return out

    def _encode(self, name: str, max_cardinality: int) -> Codes | None:
        if not self.has(name) or self.n == 0:
            return None
        col = self.table.column(name)
        if col.null_count == self.n:
            return None
        if not pa.types.is_dictionary(col.type):
            head = col.slice(0, _CARDINALITY_SAMPLE)
            distinct = pc.count_distinct(head).as_py()
            # Mostly-unique values are identifiers (request ids, timings) whatever their number.
            if distinct > max_cardinality or (distinct > 20 and distinct > 0.5 * (len(head) - head.null_count)):
                return None
            col = pc.dictionary_encode(col)
        else:
            col = pa.table({"c": col}).unify_dictionaries().column("c")
        if col.num_chunks == 0:
            return None
        values = col.chunk(0).dictionary.to_pylist()
        if len(values) > max_cardinality:
            return None
        parts = [pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in col.chunks]
        codes = np.concatenate(parts).astype(np.int32, copy=False)
        # Dictionaries may hold values no row uses; keep codes dense over the used ones.
        used = np.bincount(codes[codes >= 0], minlength=len(values)) > 0
        if not used.all():
            remap = np.cumsum(used) - 1
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)
            values = [v for v, u in zip(values, used, strict=True) if u]
        return codes, values

    def strings(self, name: str, rows: NDArray[np.integer[Any]]) -> list[Any]:
        """Values of a column at a few rows (for exemplars), without touching the rest of the column."""
        if not self.has(name) or len(rows) == 0:
            return [None] * len(rows)
        col = self.table.column(name)
        ends = np.cumsum([len(c) for c in col.chunks])
        out = []
        for r in np.asarray(rows, dtype=np.int64):
            ci = int(np.searchsorted(ends, r, side="right"))
            start = int(ends[ci - 1]) if ci else 0
            out.append(col.chunk(ci)[int(r) - start].as_py())
        return out

    def take(self, name: str, rows: NDArray[np.integer[Any]]) -> pa.Array:
        """A column at ``rows`` (sorted), taken chunk by chunk so that the column is never concatenated."""
        col = self.table.column(name)
        rows = np.asarray(rows, dtype=np.int64)
        ends = np.cumsum([len(c) for c in col.chunks])
        starts = np.r_[0, ends[:-1]]
        cut = np.searchsorted(rows, ends)
        parts, lo = [], 0
        for ci, hi in enumerate(cut):
            if hi > lo:
                parts.append(col.chunk(ci).take(pa.array(rows[lo:hi] - starts[ci])))
            lo = hi
        if not parts:
            return pa.array([], col.type)
        return pa.concat_arrays([p.cast(parts[0].type) for p in parts]) if len(parts) > 1 else parts[0]

    def header_columns(self) -> list[str]:
        return [c for c in self.table.column_names if c.startswith("h_")]

    # -- exemplars -----------------------------------------------------------------------------
    def describe(self, rows: NDArray[np.integer[Any]] | list[int], limit: int = 5) -> list[str]:
        """One line per row: ``run seq N METHOD /path → 504 after 2001 ms``."""
        rows = np.asarray(rows, dtype=np.int64)[:limit]
        if rows.size == 0:
            return []
        methods = self.strings("method", rows)
        paths = self.strings("path", rows)
        steps = self.strings("step", rows)
        out = []
        for i, r in enumerate(rows):
            info = self.runs[int(self.run[r])] if self.runs else None
            label = f"{info.label} " if info and info.label else ""
            err = int(self.error[r])
            st = int(self.status[r])
            what = (f"{st}" if st else "no response") + (f" {ERROR_KINDS[err]}" if err >= 0 else "")
            lat = self.latency_ms[r]
            after = f" after {lat:.0f} ms" if np.isfinite(lat) else ""
            step = f" [{steps[i]}]" if steps[i] else ""
            line = f"{label}seq {int(self.seq[r])} {methods[i] or ''} {paths[i] or ''}{step} → {what}{after}"
            out.append(line.replace("  ", " "))
        return out


def dense(ids: NDArray[np.integer[Any]]) -> NDArray[np.int64]:
    """Non-negative integer ids renumbered 0..k-1 in order of value (a counting sort, no comparison sort)."""
    flat = np.asarray(ids, dtype=np.int64)
    if flat.size == 0:
        return flat
    lo = int(flat.min())
    present = np.bincount(flat - lo) > 0
    renumbered: NDArray[np.int64] = (np.cumsum(present) - 1)[flat - lo]
    return renumbered


def _small(x: NDArray[np.integer[Any]]) -> NDArray[np.integer[Any]]:
    """``x`` as int16 when it fits, so that a stable argsort runs as a radix sort."""
    if x.size and x.min() >= -32768 and x.max() < 32768:
        return x.astype(np.int16)
    return x


def spread_pick(rows: NDArray[_Scalar], k: int = 5) -> NDArray[_Scalar]:
    """Up to ``k`` rows spread evenly over ``rows`` (first, last and between)."""
    rows = np.asarray(rows)
    if rows.size <= k:
        return rows
    return rows[np.linspace(0, rows.size - 1, k).round().astype(np.int64)]


__all__ = ["Codes", "Frame", "RunInfo", "concat", "dense", "spread_pick"]
