"""Importers: other tools' request logs as tracehound runs, in the same record schema.

Columns a format does not carry stay null; nothing is invented. Formats: HAR 1.2 (browser
DevTools), ``hey -o csv``, k6 ``--out json``, vegeta ``encode --to json``, and the
``request_id,http_code,duration_ms,timestamp`` CSV of a curl loop.
"""

from __future__ import annotations

from pathlib import Path

from tracehound.errors import BadImport
from tracehound.probe.importers import curlcsv, har, hey, k6, vegeta
from tracehound.probe.importers._table import Imported
from tracehound.probe.run import Run, save_run

FORMATS = {"har": har, "hey": hey, "k6": k6, "vegeta": vegeta, "csv": curlcsv}

__all__ = ["FORMATS", "detect", "import_file"]


def _head(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read(4096)
    except OSError as e:
        raise BadImport(f"cannot read {str(path)!r}: {e.strerror or e}") from None
    if not raw.strip():
        raise BadImport(f"{str(path)!r} is empty")
    return raw.decode("utf-8", "replace").lstrip("\ufeff").lstrip()


def detect(path: Path) -> str:
    """The format of a file, sniffed from its first bytes."""
    head = _head(path)
    first = head.splitlines()[0] if head else ""
    if head.startswith("{") and '"log"' in head[:200]:
        return "har"
    if first.startswith("{"):
        if '"metric"' in first or '"type":"Metric"' in first.replace(" ", ""):
            return "k6"
        if '"attack"' in first or '"latency"' in first:
            return "vegeta"
        if '"log"' in head:
            return "har"
    if first.startswith("response-time,"):
        return "hey"
    if first.replace(" ", "").startswith("request_id,http_code"):
        return "csv"
    raise BadImport(f"cannot tell the format of {str(path)!r}", hint="pass --format har|hey|k6|vegeta|csv")


def import_file(path: str | Path, fmt: str = "auto", out: Path | None = None) -> Run:
    """Read ``path`` in format ``fmt`` (``auto`` sniffs it) and write it as a new run folder."""
    p = Path(path)
    if fmt != "auto" and fmt not in FORMATS:
        raise BadImport(f"unknown format {fmt!r}", hint="use auto, har, hey, k6, vegeta or csv")
    _head(p)
    name = detect(p) if fmt == "auto" else fmt
    imported: Imported = FORMATS[name].read(p)
    if imported.rows == 0:
        raise BadImport(f"{str(p)!r} holds no requests")
    meta = {
        "target": imported.target,
        "shape": {"model": "imported"},
        "import": {"format": name, "file": str(p), "rows": imported.rows, "skipped": imported.skipped,
                   "time_base": imported.time_base},
    }
    if imported.duration_s is not None:
        meta["duration_s"] = imported.duration_s
    return save_run("import", imported.table(name), meta, out, f"import-{name}-{p.stem}")
