"""The CSV a curl loop writes: ``request_id,http_code,duration_ms,timestamp``.

For example ``echo "$i,$(curl -s -o /dev/null -w '%{http_code},%{time_total}' …)…"`` with the
time in milliseconds and ``timestamp`` from ``date +%s`` (epoch seconds; fractions allowed).

- ``seq``: ``request_id`` when every id is a whole number, else the row order.
- ``status``: ``http_code``. curl writes ``000`` when no response came back: status 0, error
  kind ``other`` and the error ``no response (curl http_code 000)``; why (curl's exit code) is
  not in the file.
- ``total_ms``: ``duration_ms``.
- ``start_ns``: ``timestamp`` as written. It usually has one-second resolution, and a loop may
  take it just before or just after the request: read it as "about then".

Nothing else is in the file (not even the URL), so every other column stays null.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from tracehound.probe.importers._files import finite_in, number_check, read_csv
from tracehound.probe.importers._table import Imported

HEADER = ("request_id", "http_code", "duration_ms", "timestamp")
NO_RESPONSE = "no response (curl http_code 000)"


def read(path: Path) -> Imported:
    """The rows of a curl-loop CSV."""
    table = read_csv(
        path,
        HEADER,
        types={
            "request_id": pa.string(), "http_code": pa.int64(), "duration_ms": pa.float64(), "timestamp": pa.float64(),
        },
        checks={
            "http_code": number_check(integer=True, maximum=999),
            "duration_ms": number_check(),
            "timestamp": number_check(),
        },
        valid=lambda t: finite_in(t["http_code"], 0, 999) & finite_in(t["duration_ms"]) & finite_in(t["timestamp"]),
        what="a curl-loop CSV",
    )
    status = table["http_code"].to_numpy()
    none = status == 0
    columns = {
        "start_ns": np.rint(table["timestamp"].to_numpy() * 1e6).astype(np.int64) * 1000,
        "total_ms": table["duration_ms"].to_numpy(),
        "status": status,
        "error_kind": _where(none, "other"),
        "error": _where(none, NO_RESPONSE),
    }
    ids = table["request_id"].to_numpy(zero_copy_only=False).astype(str)
    if ids.size and np.char.isdigit(np.char.strip(ids)).all():
        columns["seq"] = np.char.strip(ids).astype(np.int64)
    return Imported(rows=table.num_rows, columns=columns)


def _where(mask: np.ndarray, text: str) -> list[str | None]:
    """``text`` where ``mask`` is true, None elsewhere."""
    out = np.full(mask.shape, None, dtype=object)
    out[mask] = text
    values: list[str | None] = out.tolist()
    return values
