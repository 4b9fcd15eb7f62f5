"""Request records: the Arrow schema of a run, and the compact in-memory buffer that fills it.

Every request becomes one row, failures exactly like successes. While a run is in progress the
rows live in ``array.array`` columns (a few bytes per field, no Python object per request) and
strings are interned into per-column dictionaries; :meth:`RecordBuffer.to_table` turns them into
one Arrow table without a per-row loop.
"""

from __future__ import annotations

import hashlib
import time
from array import array
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracehound.redact import redact_text

#: Error kinds, in the order of their int8 codes. ``None``/-1 means no error.
ERROR_KINDS: tuple[str, ...] = (
    "timeout",
    "connect_refused",
    "connect_timeout",
    "reset",
    "remote_disconnected",
    "protocol",
    "tls",
    "capture",
    "dns",
    "cancelled",
    "other",
)
ERROR_CODE: dict[str, int] = {k: i for i, k in enumerate(ERROR_KINDS)}

#: Response headers every run records; ``--record-header`` adds more.
DEFAULT_HEADERS: tuple[str, ...] = (
    "server",
    "via",
    "content-type",
    "retry-after",
    "x-request-id",
    "server-timing",
)

SAMPLE_BYTES = 256
#: Distinct body samples kept per run; past this, new distinct samples are stored as null so that
#: a service returning a unique body per request cannot grow memory without bound.
MAX_DISTINCT_SAMPLES = 50_000
#: A string column keeps a dictionary until it holds this many values, then stores raw bytes.
DICT_LIMIT = 4096

SCHEMA_VERSION = "tracehound.records/1"


def header_column(name: str) -> str:
    """Column name of a recorded response header: ``X-Request-Id`` → ``h_x_request_id``."""
    return "h_" + name.strip().lower().replace("-", "_")


def schema(headers: Sequence[str] = DEFAULT_HEADERS) -> pa.Schema:
    """The Arrow schema of a run's ``requests.parquet`` (recorded headers appended in order)."""
    dict_str = pa.dictionary(pa.int32(), pa.string())
    fields = [
        pa.field("run_id", dict_str, nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("worker", pa.int16()),
        pa.field("vu", pa.int32()),
        pa.field("source", dict_str, nullable=False),
        pa.field("step", dict_str),
        pa.field("method", dict_str),
        pa.field("host", dict_str),
        pa.field("path", pa.string()),
        pa.field("intended_start_ns", pa.int64()),
        pa.field("start_ns", pa.int64()),
        pa.field("connect_ms", pa.float32()),
        pa.field("ttfb_ms", pa.float32()),
        pa.field("total_ms", pa.float32()),
        pa.field("status", pa.int16()),
        pa.field("error_kind", dict_str),
        pa.field("error", pa.string()),
        pa.field("bytes_in", pa.int64()),
        pa.field("bytes_out", pa.int64()),
        pa.field("body_hash", dict_str),
        pa.field("body_sample", pa.string()),
        pa.field("conn_id", pa.int32()),
        pa.field("conn_reused", pa.bool_()),
        pa.field("conn_idle_ms", pa.float32()),
        pa.field("conn_requests", pa.int32()),
        pa.field("inflight", pa.int32()),
    ]
    seen = set()
    for h in headers:
        col = header_column(h)
        if col not in seen:
            seen.add(col)
            fields.append(pa.field(col, pa.string()))
    return pa.schema(fields, metadata={"tracehound.schema": SCHEMA_VERSION})


class StrColumn:
    """An append-only column of optional byte strings.

    Interned into a dictionary while the number of distinct values is small (method, path,
    server, content-type), switched to raw bytes plus offsets when it is not (x-request-id).
    """

    __slots__ = ("codes", "index", "values", "raw", "data", "offsets", "valid", "limit")

    def __init__(self, limit: int = DICT_LIMIT) -> None:
        self.codes = array("i")
        self.index: dict[bytes, int] = {}
        self.values: list[bytes] = []
        self.raw = False
        self.data = bytearray()
        self.offsets = array("q", [0])
        self.valid = bytearray()
        self.limit = limit

    def __len__(self) -> int:
        return len(self.valid) if self.raw else len(self.codes)

    def add(self, value: bytes | None) -> None:
        if self.raw:
            self._add_raw(value)
            return
        if value is None:
            self.codes.append(-1)
            return
        code = self.index.get(value)
        if code is None:
            if len(self.values) >= self.limit:
                self._to_raw()
                self._add_raw(value)
                return
            code = len(self.values)
            self.index[value] = code
            self.values.append(value)
        self.codes.append(code)

    def code_of(self, value: bytes) -> int:
        """Intern a value up front (for constants such as the target's path); -1 in raw mode."""
        if self.raw:
            return -1
        code = self.index.get(value)
        if code is None:
            code = len(self.values)
            self.index[value] = code
            self.values.append(value)
        return code

    def _add_raw(self, value: bytes | None) -> None:
        if value is None:
            self.valid.append(0)
        else:
            self.valid.append(1)
            self.data += value
        self.offsets.append(len(self.data))

    def _to_raw(self) -> None:
        codes, values = self.codes, self.values
        self.raw = True
        self.codes = array("i")
        self.index = {}
        self.values = []
        for c in codes:
            self._add_raw(None if c < 0 else values[c])

    def to_arrow(self, dictionary: bool = False) -> pa.Array:
        if self.raw:
            n = len(self.valid)
            valid = np.frombuffer(bytes(self.valid), dtype=np.uint8).astype(bool)
            bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
            text = pa.LargeStringArray.from_buffers(
                n, pa.py_buffer(self.offsets.tobytes()), pa.py_buffer(bytes(self.data)), bitmap
            )
            arr = text.cast(pa.string())
            return arr.dictionary_encode() if dictionary else arr
        codes = np.frombuffer(self.codes, dtype=np.int32) if len(self.codes) else np.zeros(0, np.int32)
        strings = pa.array([v.decode("utf-8", "replace") for v in self.values], pa.string())
        mask = codes < 0
        indices = pa.array(np.where(mask, 0, codes), pa.int32(), mask=mask if mask.any() else None)
        arr = pa.DictionaryArray.from_arrays(indices, strings)
        return arr if dictionary else arr.cast(pa.string())


class HeaderColumns:
    """The recorded response headers of every row, interned as whole tuples.

    Most services answer with the same few header values, so a row costs one int32 code. When
    the number of distinct tuples passes :data:`DICT_LIMIT` (a per-request id header, say), the
    rows move to one :class:`StrColumn` per header.
    """

    __slots__ = ("n", "codes", "index", "sets", "cols", "limit")

    def __init__(self, n: int, limit: int = DICT_LIMIT) -> None:
        self.n = n
        self.codes = array("i")
        self.index: dict[tuple | None, int] = {None: 0}
        self.sets: list[tuple] = [(None,) * n]
        self.cols: list[StrColumn] | None = None
        self.limit = limit

    def add(self, values: tuple | None) -> None:
        if self.cols is None:
            code = self.index.get(values)
            if code is None:
                if len(self.sets) >= self.limit:
                    self._explode()
                    self.add(values)
                    return
                code = len(self.sets)
                self.index[values] = code
                self.sets.append(values)  # type: ignore[arg-type]
            self.codes.append(code)
        else:
            for col, v in zip(self.cols, values or self.sets[0]):
                col.add(v)

    def _explode(self) -> None:
        cols = [StrColumn() for _ in range(self.n)]
        for c in self.codes:
            for col, v in zip(cols, self.sets[c]):
                col.add(v)
        self.cols = cols
        self.codes = array("i")
        self.index = {}

    def to_arrow(self) -> list[pa.Array]:
        if self.cols is not None:
            return [c.to_arrow() for c in self.cols]
        codes = np.frombuffer(self.codes, dtype=np.int32) if len(self.codes) else np.zeros(0, np.int32)
        out = []
        for j in range(self.n):
            values = [s[j] for s in self.sets]
            uniq = list(dict.fromkeys(v for v in values if v is not None))
            pos = {v: i for i, v in enumerate(uniq)}
            remap = np.array([pos[v] if v is not None else -1 for v in values], dtype=np.int32)
            idx = remap[codes]
            mask = idx < 0
            strings = pa.array([v.decode("utf-8", "replace") for v in uniq], pa.string())
            arr = pa.DictionaryArray.from_arrays(
                pa.array(np.where(mask, 0, idx), pa.int32(), mask=mask if mask.any() else None), strings
            )
            out.append(arr.cast(pa.string()))
        return out


class RecordBuffer:
    """Columns of one process's records, appended at request completion.

    Timestamps are ``time.perf_counter_ns()`` values while recording; :meth:`to_table` shifts them
    to epoch nanoseconds with the offset taken when the buffer was created.
    """

    def __init__(
        self,
        run_id: str,
        headers: Sequence[str] = DEFAULT_HEADERS,
        worker: int = 0,
        source: str = "probe",
    ) -> None:
        self.run_id = run_id
        self.worker = worker
        self.source = source
        self.header_names = tuple(dict.fromkeys(h.strip().lower() for h in headers))
        self.header_index = {h.encode(): i for i, h in enumerate(self.header_names)}
        self.epoch_offset_ns = time.time_ns() - time.perf_counter_ns()
        self.seq = array("q")
        self.vu = array("i")
        self.step = StrColumn()
        self.method = StrColumn()
        self.host = StrColumn()
        self.path = StrColumn()
        self.intended_ns = array("q")
        self.start_ns = array("q")
        self.connect_us = array("i")  # -1: no connection attempt belongs to this request
        self.ttfb_us = array("i")  # -1: no byte received
        self.total_us = array("q")
        self.status = array("h")
        self.error_kind = array("b")
        self.error = StrColumn()
        self.bytes_in = array("q")
        self.bytes_out = array("q")
        self.body_hash = bytearray()  # 8 bytes per row
        self.body_sample = StrColumn(limit=1 << 30)
        self.conn_id = array("i")
        self.conn_reused = bytearray()
        self.conn_idle_us = array("q")  # -1: new connection
        self.conn_requests = array("i")
        self.inflight = array("i")
        self.headers = HeaderColumns(len(self.header_names))
        self.samples_capped = False
        self._sample_cache: dict[bytes, bytes | None] = {}
        #: whole small bodies → (digest, redacted sample): most responses repeat byte for byte
        self.body_cache: dict[bytes, tuple[bytes, bytes | None]] = {}

    def small_body(self, body: bytes) -> tuple[bytes, bytes | None]:
        """Digest and sample of a whole body that arrived in one piece (cached when small)."""
        hit = self.body_cache.get(body)
        if hit is None:
            hit = (hashlib.blake2b(body, digest_size=8).digest(), self.sample(body[:SAMPLE_BYTES]))
            if len(body) <= 2048 and len(self.body_cache) < 4096:
                self.body_cache[body] = hit
        return hit

    def __len__(self) -> int:
        return len(self.seq)

    def sample(self, first: bytes) -> bytes | None:
        """The redacted sample for a body's first bytes, interned; None once the cap is hit."""
        cached = self._sample_cache.get(first, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        if len(self._sample_cache) >= MAX_DISTINCT_SAMPLES:
            self.samples_capped = True
            return None
        red = redact_text(first.decode("utf-8", "replace")).encode()
        self._sample_cache[first] = red
        return red

    def add(
        self,
        *,
        seq: int,
        vu: int,
        step: bytes | None,
        method: bytes,
        host: bytes,
        path: bytes,
        intended_ns: int,
        start_ns: int,
        connect_ns: int,
        first_byte_ns: int,
        end_ns: int,
        status: int,
        error_kind: str | None,
        error: str | None,
        bytes_in: int,
        bytes_out: int,
        body_digest: bytes | None,
        body_first: bytes | None,
        headers: Sequence[bytes | None] | None,
        conn_id: int,
        conn_reused: bool,
        conn_idle_ns: int,
        conn_requests: int,
        inflight: int,
    ) -> None:
        """Append one record (the general, keyword path; the engine has an inlined fast path)."""
        self.seq.append(seq)
        self.vu.append(vu)
        self.step.add(step)
        self.method.add(method)
        self.host.add(host)
        self.path.add(path)
        self.intended_ns.append(intended_ns)
        self.start_ns.append(start_ns)
        self.connect_us.append(connect_ns // 1000 if connect_ns >= 0 else -1)
        self.ttfb_us.append((first_byte_ns - start_ns) // 1000 if first_byte_ns > 0 else -1)
        self.total_us.append((end_ns - intended_ns) // 1000)
        self.status.append(status)
        self.error_kind.append(ERROR_CODE[error_kind] if error_kind else -1)
        self.error.add(error.encode() if error else None)
        self.bytes_in.append(bytes_in)
        self.bytes_out.append(bytes_out)
        self.body_hash += body_digest if body_digest is not None else _NO_DIGEST
        self.body_sample.add(self.sample(body_first) if body_first is not None else None)
        self.conn_id.append(conn_id)
        self.conn_reused.append(1 if conn_reused else 0)
        self.conn_idle_us.append(conn_idle_ns // 1000 if conn_idle_ns >= 0 else -1)
        self.conn_requests.append(conn_requests)
        self.inflight.append(inflight)
        self.headers.add(tuple(headers) if headers is not None else None)

    def to_table(self) -> pa.Table:
        """All records as one Arrow table in :func:`schema` order."""
        n = len(self.seq)
        off = self.epoch_offset_ns

        def np_of(col: array, dtype: type) -> np.ndarray:
            return np.frombuffer(col, dtype=dtype) if n else np.zeros(0, dtype)

        status = np_of(self.status, np.int16)
        kinds = np_of(self.error_kind, np.int8)
        connect = np_of(self.connect_us, np.int32)
        ttfb = np_of(self.ttfb_us, np.int32)
        idle = np_of(self.conn_idle_us, np.int64)
        conn = np_of(self.conn_id, np.int32)
        cols: dict[str, pa.Array] = {
            "run_id": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, np.int32)), pa.array([self.run_id])
            ),
            "seq": pa.array(np_of(self.seq, np.int64)),
            "worker": pa.array(np.full(n, self.worker, np.int16)),
            "vu": pa.array(np_of(self.vu, np.int32)),
            "source": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, np.int32)), pa.array([self.source])
            ),
            "step": self.step.to_arrow(dictionary=True),
            "method": self.method.to_arrow(dictionary=True),
            "host": self.host.to_arrow(dictionary=True),
            "path": self.path.to_arrow(),
            "intended_start_ns": pa.array(np_of(self.intended_ns, np.int64) + off),
            "start_ns": pa.array(np_of(self.start_ns, np.int64) + off),
            "connect_ms": _ms(connect, connect < 0),
            "ttfb_ms": _ms(ttfb, ttfb < 0),
            "total_ms": _ms(np_of(self.total_us, np.int64), None),
            "status": pa.array(status),
            "error_kind": _dict_codes(kinds, ERROR_KINDS),
            "error": self.error.to_arrow(),
            "bytes_in": pa.array(np_of(self.bytes_in, np.int64)),
            "bytes_out": pa.array(np_of(self.bytes_out, np.int64)),
            "body_hash": _hash_column(bytes(self.body_hash), n),
            "body_sample": self.body_sample.to_arrow(),
            "conn_id": pa.array(conn, mask=conn < 0),
            "conn_reused": pa.array(np.frombuffer(bytes(self.conn_reused), np.uint8).astype(bool)),
            "conn_idle_ms": _ms(idle, idle < 0),
            "conn_requests": pa.array(np_of(self.conn_requests, np.int32)),
            "inflight": pa.array(np_of(self.inflight, np.int32)),
        }
        for name, col in zip(self.header_names, self.headers.to_arrow()):
            cols[header_column(name)] = col
        sch = schema(self.header_names)
        return pa.table([cols[f.name].cast(f.type) for f in sch], schema=sch)


_MISSING = object()
_NO_DIGEST = b"\0" * 8


def body_digest(chunks: Iterable[bytes]) -> bytes:
    """The 8-byte BLAKE2b digest recorded for a response body."""
    h = hashlib.blake2b(digest_size=8)
    for c in chunks:
        h.update(c)
    return h.digest()


def _ms(us: np.ndarray, null: np.ndarray | None) -> pa.Array:
    ms = us.astype(np.float32) / np.float32(1000.0)
    if null is not None and null.any():
        return pa.array(ms, mask=null)
    return pa.array(ms)


def _dict_codes(codes: np.ndarray, values: Sequence[str]) -> pa.Array:
    mask = codes < 0
    idx = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(idx, pa.array(list(values), pa.string()))


def _hash_column(raw: bytes, n: int) -> pa.Array:
    """Hex strings of the 8-byte digests, dictionary-encoded; all-zero digests are null."""
    if n == 0:
        return pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), pa.array([], pa.string()))
    words = np.frombuffer(raw, dtype=">u8")
    uniq, inverse = np.unique(words, return_inverse=True)
    hexes = pa.array([format(int(w), "016x") for w in uniq], pa.string())
    mask = words == 0
    idx = pa.array(inverse.astype(np.int32), mask=mask if mask.any() else None)
    return pa.DictionaryArray.from_arrays(idx, hexes)


def is_failure(table: pa.Table) -> np.ndarray:
    """Boolean mask of failed requests: an error, no status, or a status >= 400.

    Requests cancelled because the run ended are neither failures nor successes: see
    :func:`is_cancelled`.
    """
    status = table.column("status").to_numpy()
    cancelled = is_cancelled(table)
    err = np.asarray(table.column("error_kind").is_valid().to_numpy(zero_copy_only=False))
    return ((status == 0) | (status >= 400) | err) & ~cancelled


def is_cancelled(table: pa.Table) -> np.ndarray:
    """Boolean mask of requests cut off by the end (or interruption) of the run."""
    col = table.column("error_kind").combine_chunks()
    if isinstance(col, pa.DictionaryArray):
        col = col.dictionary_decode()
    return np.asarray(
        pc.fill_null(pc.equal(col, "cancelled"), False).to_numpy(zero_copy_only=False)
    )
