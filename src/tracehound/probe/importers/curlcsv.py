"""The CSV of a curl loop: ``request_id,http_code,duration_ms,timestamp`` (epoch seconds).

curl writes ``000`` as the code when no response came back; such rows get status 0 and error
kind ``other``. Timestamps have one-second resolution.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tracehound.errors import BadImport
from tracehound.probe.importers._table import Imported


def read(path: Path) -> Imported:
    out = Imported()
    stamps = []
    try:
        with open(path, newline="") as f:
            rows = csv.reader(f)
            header = [h.strip() for h in next(rows, [])]
            if header[:4] != ["request_id", "http_code", "duration_ms", "timestamp"]:
                raise BadImport(f"{str(path)!r}: expected the header request_id,http_code,duration_ms,timestamp")
            for line, r in enumerate(rows, start=2):
                if not r:
                    continue
                try:
                    rid, code, dur, ts = r[0].strip(), int(r[1]), float(r[2]), float(r[3])
                except (ValueError, IndexError):
                    raise BadImport(f"{str(path)!r}: line {line} is malformed: {','.join(r)[:80]!r}") from None
                start = int(ts * 1e9)
                stamps.append(start)
                out.add(
                    seq=int(rid) if rid.isdigit() else line - 2, start_ns=start, intended_start_ns=start,
                    total_ms=dur, status=code,
                    error_kind="other" if code == 0 else None,
                    error="no response (curl http_code 000)" if code == 0 else None,
                )
    except OSError as e:
        raise BadImport(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise BadImport(f"{str(path)!r} is not a text CSV") from None
    if stamps:
        out.duration_s = (max(stamps) - min(stamps)) / 1e9
    return out
