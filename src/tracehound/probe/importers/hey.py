"""``hey -o csv``: one row per request that got a response, times in seconds (0.1 ms resolution).

Time base: hey writes no clock time. Its ``offset`` is when each request started, in seconds
since hey started, so ``start_ns`` holds that offset in nanoseconds and ``run.json`` says
``"time_base": "relative"`` under ``"import"``. Order, rates and bursts within the run are
right; the clock time of the run is unknown and is not made up (not from the file's mtime
either). ``intended_start_ns`` is null.

Mapping:

- ``total_ms``: ``response-time``.
- ``ttfb_ms``: ``response-time`` minus ``Response-read``. hey measures both from the start of
  the request, so the difference is the time to the first response byte, as the prober
  measures it (the sum of hey's phases would leave out the wait for a pooled connection).
- ``connect_ms``: ``DNS+dialup``. hey writes 0 both for a reused connection and for a dial
  shorter than its 0.1 ms resolution, so a 0 stays 0 and ``conn_reused`` stays null.
- ``status``: ``status-code``; ``seq``: the row order, which is hey's completion order.

hey leaves every failed request (refused, reset, timed out) out of its CSV and only counts them
in its text summary, so an imported hey run has no transport errors; a run where everything
failed is a header alone, which is refused as having no requests. hey also stops writing rows
after 1,000,000. Method, URL, sizes, headers and bodies are not in the CSV and stay null.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from tracehound.probe.importers._files import bad, finite_in, number_check, read_csv
from tracehound.probe.importers._table import Imported

HEADER = (
    "response-time", "DNS+dialup", "DNS", "Request-write", "Response-delay", "Response-read", "status-code", "offset",
)
_TIMES = [h for h in HEADER if h != "status-code"]


def read(path: Path) -> Imported:
    """The rows of a ``hey -o csv`` file."""
    table = read_csv(
        path,
        HEADER,
        types={h: (pa.int64() if h == "status-code" else pa.float64()) for h in HEADER},
        checks={h: number_check() for h in _TIMES} | {"status-code": number_check(integer=True, maximum=999)},
        valid=lambda t: np.logical_and.reduce(
            [finite_in(t[h]) for h in _TIMES] + [finite_in(t["status-code"], 0, 999)]
        ),
        what="a hey CSV (hey -o csv)",
    )
    if table.num_rows == 0:
        raise bad(path, "no requests: hey writes only its header when every request failed",
                  hint="hey leaves failed requests out of its CSV; its text summary counts them")
    s = {h: table[h].to_numpy() for h in HEADER}
    total = s["response-time"] * 1000.0
    columns = {
        "start_ns": np.rint(s["offset"] * 1e9).astype(np.int64),
        "connect_ms": s["DNS+dialup"] * 1000.0,
        "ttfb_ms": np.maximum(total - s["Response-read"] * 1000.0, 0.0),
        "total_ms": total,
        "status": s["status-code"],
    }
    return Imported(rows=table.num_rows, columns=columns, time_base="relative")
