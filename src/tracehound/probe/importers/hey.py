"""``hey -o csv``: one row per completed request, times in seconds.

hey writes no absolute time, only each request's offset from the start of its run, so
``start_ns`` holds that offset (in ns) and ``run.json`` says ``"time_base": "relative"``. hey
leaves failed requests (refused, reset, timed out) out of its CSV entirely; they cannot be
recovered from the file. A zero DNS+dialup time means hey reused a connection, which
fills ``conn_reused``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tracehound.errors import BadImport
from tracehound.probe.importers._table import Imported

HEADER = ["response-time", "DNS+dialup", "DNS", "Request-write", "Response-delay", "Response-read", "status-code", "offset"]


def read(path: Path) -> Imported:
    out = Imported(time_base="relative")
    try:
        with open(path, newline="") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            if header != HEADER:
                raise BadImport(f"{str(path)!r} is not a hey CSV: expected the header {','.join(HEADER)}")
            offsets = []
            for line, r in enumerate(rows, start=2):
                if not r:
                    continue
                try:
                    total, dial, _dns, write, delay, _read, status, offset = (
                        float(r[0]), float(r[1]), r[2], float(r[3]), float(r[4]), r[5], int(r[6]), float(r[7]))
                except (ValueError, IndexError):
                    raise BadImport(f"{str(path)!r}: line {line} is malformed: {','.join(r)[:80]!r}") from None
                start = int(offset * 1e9)
                offsets.append(start)
                out.add(
                    start_ns=start, intended_start_ns=start, total_ms=total * 1000,
                    connect_ms=dial * 1000, ttfb_ms=(dial + write + delay) * 1000, status=status,
                    error_kind=None, conn_reused=dial == 0 if dial >= 0 else None,
                )
    except OSError as e:
        raise BadImport(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise BadImport(f"{str(path)!r} is not a text CSV") from None
    if offsets:
        out.duration_s = (max(offsets) - min(offsets)) / 1e9
    return out
