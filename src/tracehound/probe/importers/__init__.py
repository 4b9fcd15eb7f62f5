"""Importers: other tools' request logs as tracehound runs, one row per request, in the record schema.

Formats, one module each: HAR 1.2 from browser DevTools (:mod:`.har`), ``hey -o csv``
(:mod:`.hey`), k6 ``--out json`` (:mod:`.k6`), vegeta ``encode --to json`` (:mod:`.vegeta`) and
the ``request_id,http_code,duration_ms,timestamp`` CSV of a curl loop (:mod:`.csv`). Each
module's docstring says which columns it fills and from what; a column a format does not carry
stays null. ``source`` is the format's name and ``run_id`` the new run folder's name.

>>> run = import_file("session.har")
>>> run.meta.import_.rows if run.meta.import_ else None
42
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

from tracehound.errors import BadImport
from tracehound.probe.importers import csv, har, hey, k6, vegeta
from tracehound.probe.importers._fields import url_parts
from tracehound.probe.importers._files import bad, head
from tracehound.probe.importers._table import Imported
from tracehound.probe.meta import ImportMeta, ShapeMeta, TargetMeta
from tracehound.probe.records import redact_columns
from tracehound.probe.run import Run, prepare_run_dir, save_run

__all__ = ["FORMATS", "Imported", "detect", "import_file", "url_parts"]

_READERS: dict[str, ModuleType] = {"har": har, "hey": hey, "k6": k6, "vegeta": vegeta, "csv": csv}
#: The format names ``--format`` takes besides ``auto``.
FORMATS: tuple[str, ...] = tuple(_READERS)

_HAR = re.compile(r'\{\s*"log"\s*:')
_K6 = re.compile(r'"type"\s*:\s*"(?:Point|Metric)"')
_VEGETA_KEYS = ('"code"', '"timestamp"', '"latency"')


def detect(path: str | Path) -> str:
    """The format of a file, told from its first bytes (never from its name)."""
    p = Path(path)
    return _format_of(p, head(p))


def _format_of(path: Path, start: str) -> str:
    first = start.split("\n", 1)[0].rstrip("\r")
    if _HAR.match(start):
        return "har"
    if first.startswith("{"):
        if _K6.search(first):
            return "k6"
        if all(k in first for k in _VEGETA_KEYS):
            return "vegeta"
    fields = [f.strip() for f in first.split(",")]
    if fields == list(hey.HEADER):
        return "hey"
    if fields == list(csv.HEADER):
        return "csv"
    raise bad(path, f"cannot tell its format from its first line {first[:60]!r}",
              hint="pass --format " + "|".join(FORMATS))


def import_file(path: str | Path, fmt: str = "auto", out: Path | None = None) -> Run:
    """Read ``path`` in format ``fmt`` (``auto`` sniffs it) and write it as a new run folder.

    ``run.json`` gets ``"shape": {"model": "imported"}``, the file's target (URLs redacted), an
    ``"import"`` block (format, file, rows, skipped cut-off lines, ``time_base``) and
    ``duration_s`` from the first start to the last end. Raises :class:`BadImport` with one line
    naming the file and the problem when the file cannot be imported.
    """
    name = fmt.strip().lower()
    if name != "auto" and name not in _READERS:
        raise BadImport(f"unknown format {fmt!r}", hint="use auto, " + ", ".join(FORMATS))
    p = Path(path)
    start = head(p)
    if name == "auto":
        name = _format_of(p, start)
    imported = _READERS[name].read(p)
    if imported.rows == 0:
        cut = " (its only line is cut off)" if imported.skipped else ""
        raise bad(p, f"no requests in it{cut}")
    slug = f"import-{name}-{p.stem}"
    folder = prepare_run_dir(out, slug)
    meta: dict[str, Any] = {
        "target": TargetMeta.model_validate(imported.target),
        "shape": ShapeMeta(model="imported"),
        "import": ImportMeta(format=name, file=str(p), rows=imported.rows, skipped=imported.skipped,
                             time_base=imported.time_base),
    }
    duration = imported.duration_s()
    if duration is not None:
        meta["duration_s"] = duration
    return save_run("import", redact_columns(imported.table(folder.name, name)), meta, folder, slug)
