"""What counts as a failure: defined once, here, for every analysis and agent.

A request **fails** when it got no usable answer (any error kind except ``cancelled``: timeout,
refused, reset, closed early, TLS, protocol, a capture that found nothing …), or no status at
all, or a status of 400 and above. Client errors count: a user whose page shows 401, 404 or 429
reports a failure, and an intermittent 4xx on a request that usually succeeds is exactly what
tracehound is for. A request **cancelled** because the run ended is neither failed nor ok.
This matches :func:`tracehound.probe.records.is_failure`, so the prober's summary and the
analysis count the same requests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tracehound.probe.records import ERROR_CODE, ERROR_KINDS

#: The lowest HTTP status that counts as a failure.
FAILURE_STATUS = 400
#: Error kinds that mean the connection itself failed (refused, timed out connecting, reset, closed early).
CONNECTION_ERRORS: tuple[str, ...] = ("connect_refused", "connect_timeout", "reset", "remote_disconnected")
#: Error kinds a server's dropped keep-alive connection produces on the next request.
DROPPED_CONNECTION_ERRORS: tuple[str, ...] = ("reset", "remote_disconnected")
CANCELLED = ERROR_CODE["cancelled"]
CAPTURE = ERROR_CODE["capture"]
TIMEOUT = ERROR_CODE["timeout"]


def failed_mask(status: NDArray[np.integer[Any]], error: NDArray[np.integer[Any]]) -> NDArray[np.bool_]:
    """Failures from a status column (0 = none) and error codes (index into ``ERROR_KINDS``, -1 = none)."""
    mask: NDArray[np.bool_] = ((status == 0) | (status >= FAILURE_STATUS) | (error >= 0)) & (error != CANCELLED)
    return mask


def error_codes(column: pa.ChunkedArray | pa.Array) -> NDArray[np.int8]:
    """An ``error_kind`` column as int8 codes into :data:`ERROR_KINDS` (-1 = no error, unknown kinds = other)."""
    col = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
    other = ERROR_CODE["other"]
    parts: list[NDArray[np.int8]] = []
    for chunk in col.chunks:
        if isinstance(chunk, pa.DictionaryArray):
            names = chunk.dictionary.to_pylist()
            remap = np.array([ERROR_CODE.get(v, other) for v in names] + [-1], dtype=np.int8)
            idx = pc.fill_null(chunk.indices, len(names)).to_numpy(zero_copy_only=False)
            parts.append(remap[idx])
        else:
            enc = pc.dictionary_encode(chunk)
            parts.append(error_codes(pa.chunked_array([enc])))
    if not parts:
        return np.zeros(0, np.int8)
    return np.concatenate(parts).astype(np.int8, copy=False)


def status_codes(table: pa.Table) -> NDArray[np.int32]:
    """The status column as int32, 0 where there was none."""
    col = table.column("status")
    if col.null_count:
        col = pc.fill_null(col, 0)
    codes: NDArray[np.int32] = col.to_numpy().astype(np.int32, copy=False)
    return codes


def failed(table: pa.Table) -> NDArray[np.bool_]:
    """Boolean mask of the failed requests of a record table (see the module docstring)."""
    return failed_mask(status_codes(table), error_codes(table.column("error_kind")))


def cancelled(table: pa.Table) -> NDArray[np.bool_]:
    """Boolean mask of the requests cut off by the end of their run: neither failed nor ok."""
    return np.equal(error_codes(table.column("error_kind")), CANCELLED)


__all__ = ["CONNECTION_ERRORS", "DROPPED_CONNECTION_ERRORS", "ERROR_KINDS", "FAILURE_STATUS", "cancelled",
           "error_codes", "failed", "failed_mask", "status_codes"]
