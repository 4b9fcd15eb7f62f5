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
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tracehound.redact import redact_header_value, redact_text

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
    # A 2xx/3xx answer whose body is wrong: it misses an --expect, or (with none given) has a
    # minority shape among the answers to the same request (tracehound.wrong_body).
    "wrong_body",
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


def data_column(pool: str) -> str:
    """Column name of the values a request used of a parameter pool: ``customers`` → ``data_customers``."""
    return "data_" + pool


#: Field metadata of a pool's column: the variables its values fill, comma-separated.
FILLS_KEY = b"tracehound.fills"


class ValuePool(Protocol):
    """What the records need of a parameter pool (:class:`tracehound.params.Pool`): its name, its rows' names."""

    @property
    def name(self) -> str: ...

    @property
    def used_columns(self) -> tuple[str, ...]: ...

    def labels(self, rows: NDArray[np.integer[Any]]) -> list[str]: ...


def schema(headers: Sequence[str] = DEFAULT_HEADERS, data: Sequence[str] = (),
           fills: Sequence[Sequence[str]] = ()) -> pa.Schema:
    """The Arrow schema of a run's ``requests.parquet`` (recorded headers, then data pools, appended in order).

    A pool's column holds the value each request used, dictionary-encoded (one string per distinct
    value, an int32 code per row); null where the request used none. ``fills`` are, per pool, the
    variables it fills (kept in the field's metadata under :data:`FILLS_KEY`).
    """
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
    for i, d in enumerate(data):
        meta = {FILLS_KEY: ",".join(fills[i]).encode()} if i < len(fills) else None
        fields.append(pa.field(data_column(d), pa.dictionary(pa.int32(), pa.string()), metadata=meta))
    return pa.schema(fields, metadata={"tracehound.schema": SCHEMA_VERSION})


T = TypeVar("T", bound=Hashable)
#: One recorded header's value per recorded header name, None where the response lacked it.
HeaderValues = tuple[bytes | None, ...]


class Interner(Generic[T]):
    """Values of one column interned to int32 codes, up to a limit.

    Codes: ``-1`` is null; ``-2`` means the value did not fit in the dictionary and is kept in
    ``overflow`` under its row number. Most columns (method, step, server, body samples) repeat
    a few values, so a row costs four bytes and no Python object.
    """

    __slots__ = ("index", "values", "limit", "overflow")

    def __init__(self, limit: int = DICT_LIMIT) -> None:
        self.index: dict[T, int] = {}
        self.values: list[T] = []
        self.limit = limit
        self.overflow: dict[int, T] = {}

    def code(self, value: T | None) -> int:
        """The code of ``value``, interning it; -2 when the dictionary is full."""
        if value is None:
            return -1
        c = self.index.get(value)
        if c is None:
            if len(self.values) >= self.limit:
                return -2
            c = len(self.values)
            self.index[value] = c
            self.values.append(value)
        return c


# Layout of the int32 row array: one record is NI consecutive values.
(I_SEQ, I_VU, I_SPEC, I_PATH, I_CONNECT, I_TTFB, I_STATUS, I_KIND, I_ERROR, I_IN, I_OUT,
 I_SAMPLE, I_CONN, I_CARRIED, I_IDLE, I_INFLIGHT, I_HEADERS) = range(17)
NI = 17
# Layout of the int64 row array: intended start, actual start, end (perf_counter ns).
NT = 3
INT32_MAX = 2**31 - 1


class RecordBuffer:
    """One process's records, appended at request completion in two interleaved arrays.

    A row is 17 int32 values (:data:`I_SEQ` …), 3 int64 timestamps and an 8-byte body digest:
    about 100 bytes, appended with two ``extend`` calls. Strings (step, method, host, path,
    error, body sample, recorded headers) are interned codes. With parameter pools (``data``),
    :attr:`draws` holds per pool the row each request used, indexed by its sequence number (4
    bytes a request, written when it is built, not when it completes). Timestamps are
    ``time.perf_counter_ns()`` values while recording; :meth:`to_table` shifts them to epoch
    nanoseconds with the offset taken when the buffer was created.
    """

    def __init__(
        self,
        run_id: str,
        headers: Sequence[str] = DEFAULT_HEADERS,
        worker: int = 0,
        source: str = "probe",
        data: Sequence[ValuePool] = (),
    ) -> None:
        self.run_id = run_id
        self.data = tuple(data)
        #: Per pool, the row each request used by sequence number (-1: none); see params.Draws.
        self.draws: list[array[int]] = [array("i") for _ in self.data]
        self.worker = worker
        self.source = source
        self.header_names = tuple(dict.fromkeys(h.strip().lower() for h in headers))
        self.header_index = {h.encode(): i for i, h in enumerate(self.header_names)}
        self.epoch_offset_ns = time.time_ns() - time.perf_counter_ns()
        self.ints = array("i")
        self.times = array("q")
        self.digests = bytearray()
        self.specs: Interner[tuple[bytes | None, bytes, bytes]] = Interner(limit=1 << 16)  # (step, method, host)
        self.paths: Interner[bytes] = Interner()
        self.errors: Interner[bytes] = Interner()
        self.samples: Interner[bytes] = Interner(limit=MAX_DISTINCT_SAMPLES)
        self.header_sets: Interner[HeaderValues] = Interner()
        self.samples_capped = False
        #: whole small bodies → (digest, sample code): most responses repeat byte for byte
        self.body_cache: dict[bytes, tuple[bytes, int]] = {}

    def __len__(self) -> int:
        return len(self.ints) // NI

    # -- interning helpers used by the engine ---------------------------------------------
    def spec_code(self, step: bytes | None, method: bytes, host: bytes) -> int:
        return self.specs.code((step, method, host))

    def path_code(self, path: bytes) -> int:
        return self.paths.code(path)

    def sample_code(self, first: bytes) -> int:
        """Code of the redacted sample of a body's first bytes; -1 once the cap is hit."""
        c = self.samples.index.get(first)
        if c is not None:
            return c
        c = self.samples.code(first)
        if c == -2:
            self.samples_capped = True
            return -1
        self.samples.values[c] = redact_text(first.decode("utf-8", "replace")).encode()
        return c

    def small_body(self, body: bytes) -> tuple[bytes, int]:
        """Digest and sample code of a whole body that arrived in one piece (cached when small)."""
        hit = self.body_cache.get(body)
        if hit is None:
            hit = (hashlib.blake2b(body, digest_size=8).digest(), self.sample_code(body[:SAMPLE_BYTES]))
            if len(body) <= 2048 and len(self.body_cache) < 4096:
                self.body_cache[body] = hit
        return hit

    def error_code(self, row: int, message: str | None) -> int:
        if message is None:
            return -1
        encoded = message.encode()
        c = self.errors.code(encoded)
        if c == -2:
            self.errors.overflow[row] = encoded
        return c

    def header_code(self, row: int, values: HeaderValues | None) -> int:
        if values is None:
            return -1
        c = self.header_sets.code(values)
        if c == -2:
            self.header_sets.overflow[row] = values
        return c

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
        """Append one record (the general, keyword path; the engine has an inlined twin)."""
        row = len(self)
        pc_ = self.path_code(path)
        if pc_ == -2:
            self.paths.overflow[row] = path
        self.ints.extend(
            (
                seq,
                vu,
                self.spec_code(step, method, host),
                pc_,
                connect_ns // 1000 if connect_ns >= 0 else -1,
                (first_byte_ns - start_ns) // 1000 if first_byte_ns > 0 else -1,
                status,
                ERROR_CODE[error_kind] if error_kind else -1,
                self.error_code(row, error),
                min(bytes_in, INT32_MAX),
                min(bytes_out, INT32_MAX),
                self.sample_code(body_first) if body_first is not None else -1,
                conn_id,
                conn_requests,
                min(conn_idle_ns // 1000, INT32_MAX) if conn_idle_ns >= 0 else -1,
                inflight,
                self.header_code(row, tuple(headers) if headers is not None else None),
            )
        )
        self.times.extend((intended_ns, start_ns, end_ns))
        self.digests += body_digest if body_digest is not None else NO_DIGEST
        del conn_reused  # implied by conn_requests > 0

    def rows(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """A copy of rows ``lo:hi`` of the int32 array as an (n, NI) matrix."""
        hi = len(self) if hi is None else hi
        if hi <= lo:
            return np.zeros((0, NI), np.int32)
        return np.frombuffer(self.ints[lo * NI : hi * NI], dtype=np.int32).reshape(-1, NI)

    def timestamps(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        hi = len(self) if hi is None else hi
        if hi <= lo:
            return np.zeros((0, NT), np.int64)
        return np.frombuffer(self.times[lo * NT : hi * NT], dtype=np.int64).reshape(-1, NT)

    def schema(self) -> pa.Schema:
        return schema(self.header_names, [d.name for d in self.data], [d.used_columns for d in self.data])

    def to_table(self) -> pa.Table:
        """All records as one Arrow table in :func:`schema` order."""
        batches = list(self.batches())
        return pa.Table.from_batches(batches, schema=self.schema())

    def batches(self, size: int = 1 << 16) -> Iterator[pa.RecordBatch]:
        """The records as Arrow batches of ``size`` rows (bounded transient memory)."""
        n = len(self)
        dicts = _Dictionaries(self)
        if n == 0:
            yield self._batch(0, 0, dicts)
            return
        for lo in range(0, n, size):
            yield self._batch(lo, min(n, lo + size), dicts)

    def _batch(self, lo: int, hi: int, dicts: _Dictionaries) -> pa.RecordBatch:
        n = hi - lo
        m = self.rows(lo, hi)
        t = self.timestamps(lo, hi)
        off = self.epoch_offset_ns
        spec = m[:, I_SPEC]
        connect = m[:, I_CONNECT]
        ttfb = m[:, I_TTFB]
        idle = m[:, I_IDLE]
        conn = m[:, I_CONN]
        carried = m[:, I_CARRIED]
        rows = np.arange(lo, hi)
        cols: dict[str, pa.Array] = {
            "run_id": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([self.run_id])),
            "seq": pa.array(m[:, I_SEQ].astype(np.int64)),
            "worker": pa.array(np.full(n, self.worker, np.int16)),
            "vu": pa.array(m[:, I_VU]),
            "source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([self.source])),
            "step": dicts.spec_part(0, spec),
            "method": dicts.spec_part(1, spec),
            "host": dicts.spec_part(2, spec),
            "path": _coded(m[:, I_PATH], dicts.paths, self.paths.overflow, rows),
            "intended_start_ns": pa.array(t[:, 0] + off),
            "start_ns": pa.array(t[:, 1] + off),
            "connect_ms": _ms(connect, connect < 0),
            "ttfb_ms": _ms(ttfb, ttfb < 0),
            "total_ms": _ms((t[:, 2] - t[:, 0]) // 1000, None),
            "status": pa.array(m[:, I_STATUS].astype(np.int16)),
            "error_kind": _dict_codes(m[:, I_KIND], ERROR_KINDS),
            "error": _coded(m[:, I_ERROR], dicts.errors, self.errors.overflow, rows),
            "bytes_in": pa.array(m[:, I_IN].astype(np.int64)),
            "bytes_out": pa.array(m[:, I_OUT].astype(np.int64)),
            "body_hash": _hash_column(bytes(self.digests[lo * 8 : hi * 8]), n),
            "body_sample": _coded(m[:, I_SAMPLE], dicts.samples, {}, rows),
            "conn_id": pa.array(conn, mask=conn < 0),
            "conn_reused": pa.array(carried > 0),
            "conn_idle_ms": _ms(idle, idle < 0),
            "conn_requests": pa.array(carried),
            "inflight": pa.array(m[:, I_INFLIGHT]),
        }
        hcodes = m[:, I_HEADERS]
        over = self.header_sets.overflow
        for j, name in enumerate(self.header_names):
            remap, strings = dicts.headers[j]
            codes = np.where(hcodes >= 0, remap[np.where(hcodes >= 0, hcodes, 0)], np.where(hcodes == -2, -2, -1))
            part_over = {r: _header_value(name, x) for r, v in over.items()
                         if lo <= r < hi and (x := v[j]) is not None} if over else {}
            cols[header_column(name)] = _coded(codes.astype(np.int32), strings, part_over, rows)
        for j, pool in enumerate(self.data):
            cols[data_column(pool.name)] = dicts.data_part(j, m[:, I_SEQ])
        sch = self.schema()
        return pa.RecordBatch.from_arrays([cols[f.name].cast(f.type) for f in sch], schema=sch)


class _Dictionaries:
    """The string dictionaries of a finished buffer, built once for all its batches."""

    def __init__(self, buf: RecordBuffer) -> None:
        self.paths = _decoded(buf.paths.values)
        self.errors = pa.array([redact_text(v.decode("utf-8", "replace")) for v in buf.errors.values] or [""],
                               pa.string())
        self.samples = _decoded(buf.samples.values)
        specs = buf.specs.values
        self.spec_parts: list[tuple[np.ndarray, pa.Array]] = []
        for j in range(3):
            vals = [sp[j] for sp in specs]
            uniq = list(dict.fromkeys(v for v in vals if v is not None))
            pos = {v: i for i, v in enumerate(uniq)}
            remap = np.array([pos[v] if v is not None else -1 for v in vals] or [-1], dtype=np.int32)
            self.spec_parts.append((remap, _decoded(uniq)))
        self.headers: list[tuple[np.ndarray, pa.Array]] = []
        sets = buf.header_sets.values
        for j in range(len(buf.header_names)):
            vals = [st[j] for st in sets]
            uniq = list(dict.fromkeys(v for v in vals if v is not None))
            pos = {v: i for i, v in enumerate(uniq)}
            remap = np.array([pos[v] if v is not None else -1 for v in vals] or [-1], dtype=np.int32)
            # Recorded headers are redacted as bodies are: a Set-Cookie, or a token a server echoes back.
            name = buf.header_names[j]
            self.headers.append((remap, pa.array([_header_value(name, v) for v in uniq] or [""], pa.string())))
        #: Per pool: the row each sequence number used, the rows any request used, and their names.
        self.draws: list[tuple[np.ndarray, np.ndarray, pa.Array]] = []
        for pool, arr in zip(buf.data, buf.draws, strict=True):
            by_seq = np.frombuffer(arr, dtype=np.int32) if len(arr) else np.zeros(0, np.int32)
            used = _present_rows(by_seq)
            self.draws.append((by_seq, used, pa.array(pool.labels(used), pa.string())))

    def data_part(self, j: int, seq: np.ndarray) -> pa.Array:
        """Pool ``j``'s values at these requests: a dictionary of the values this batch used, codes per row."""
        by_seq, used, labels = self.draws[j]
        rows = np.full(seq.size, -1, np.int32)
        have = (seq >= 0) & (seq < by_seq.size)
        rows[have] = by_seq[seq[have]]
        mask = rows < 0
        # Each batch carries only the values it used, so that a file's dictionary pages stay small.
        uniq, inverse = np.unique(rows[~mask], return_inverse=True)
        codes = np.zeros(seq.size, np.int32)
        codes[~mask] = inverse
        dictionary = labels.take(pa.array(np.searchsorted(used, uniq))) if uniq.size else pa.array([], pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=mask if mask.any() else None), dictionary)

    def spec_part(self, j: int, spec: np.ndarray) -> pa.Array:
        remap, strings = self.spec_parts[j]
        neg = spec < 0
        idx = np.where(neg, -1, remap[np.where(neg, 0, spec)])
        mask = idx < 0
        return pa.DictionaryArray.from_arrays(
            pa.array(np.where(mask, 0, idx).astype(np.int32), mask=mask if mask.any() else None), strings
        )


def _present_rows(rows: np.ndarray) -> np.ndarray:
    """The distinct non-negative values of ``rows``, sorted (by counting: rows are below the pool's size)."""
    rows = rows[rows >= 0]
    return np.flatnonzero(np.bincount(rows)).astype(np.int32) if rows.size else np.zeros(0, np.int32)


def _header_value(name: str, value: bytes) -> str:
    """A recorded header's value as it is written: masked for a credential header, secrets masked inside."""
    return redact_header_value(name, value.decode("utf-8", "replace"))


def redact_columns(table: pa.Table) -> pa.Table:
    """``table`` with its body samples, errors and recorded headers redacted again, in this process.

    Records a worker process wrote were redacted there, by the patterns; the secrets given to
    this process (:func:`tracehound.redact.remember`) are masked here, once per distinct value.
    """
    for i, field in enumerate(table.schema):
        if field.name in ("body_sample", "error") or field.name.startswith("h_"):
            name = field.name[2:].replace("_", "-") if field.name.startswith("h_") else None
            col = table.column(i).combine_chunks().dictionary_encode() if table.num_rows else None
            if col is None:
                continue
            values = [None if v is None else (redact_header_value(name, v) if name else redact_text(v))
                      for v in col.dictionary.to_pylist()]
            fixed = pa.DictionaryArray.from_arrays(col.indices, pa.array(values, pa.string()))
            table = table.set_column(i, field, fixed.cast(field.type))
    return table


def _decoded(values: Iterable[bytes]) -> pa.Array:
    """A string array of UTF-8 values (one empty string when there are none)."""
    return pa.array([v.decode("utf-8", "replace") for v in values] or [""], pa.string())


def _coded(codes: np.ndarray, strings: pa.Array, overflow: Mapping[int, object], rows: np.ndarray) -> pa.Array:
    """A string column from codes into ``strings`` (-1 null, -2 looked up in ``overflow`` by row)."""
    mask = codes < 0
    arr = pa.DictionaryArray.from_arrays(
        pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None), strings
    ).cast(pa.string())
    if overflow:
        where = np.nonzero(codes == -2)[0]
        if where.size:
            py = arr.to_pylist()
            for i in where.tolist():
                v = overflow.get(int(rows[i]))
                py[i] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
            arr = pa.array(py, pa.string())
    return arr


#: The digest of a request that got no response: all zero, read back as a null body hash.
NO_DIGEST = b"\0" * 8


def body_digest(chunks: Iterable[bytes]) -> bytes:
    """The 8-byte BLAKE2b digest recorded for a response body."""
    h = hashlib.blake2b(digest_size=8)
    for c in chunks:
        h.update(c)
    return h.digest()


def _ms(us: np.ndarray, null: np.ndarray | None) -> pa.Array:
    """Microseconds as float32 milliseconds, null where ``null`` is true."""
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
    failed: np.ndarray = ((status == 0) | (status >= 400) | err) & ~cancelled
    return failed


def is_cancelled(table: pa.Table) -> np.ndarray:
    """Boolean mask of requests cut off by the end (or interruption) of the run."""
    col = table.column("error_kind").combine_chunks()
    if isinstance(col, pa.DictionaryArray):
        col = col.dictionary_decode()
    return np.asarray(
        pc.fill_null(pc.equal(col, "cancelled"), False).to_numpy(zero_copy_only=False), dtype=bool
    )
