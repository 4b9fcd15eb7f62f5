"""Run folders: ``requests.parquet`` plus ``run.json``, written so that a crash never looks complete."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tracehound import __version__
from tracehound.errors import BadRun, OutputNotWritable

RUN_SCHEMA = "tracehound.run/1"
RUNS_DIR = Path(".tracehound") / "runs"
REQUESTS_FILE = "requests.parquet"
META_FILE = "run.json"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def slugify(text: str, limit: int = 48) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:limit].strip("-") or "run"


def tool_versions() -> dict[str, str]:
    out = {"tracehound": __version__, "python": platform.python_version()}
    for pkg in ("uvloop", "httptools", "pyarrow", "numpy"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def prepare_run_dir(out: str | Path | None, slug: str, started: datetime | None = None) -> Path:
    """Create (and prove writable) the folder a run will be written to."""
    started = started or utc_now()
    if out is not None:
        path = Path(out)
    else:
        path = RUNS_DIR / f"{started:%Y%m%dT%H%M%S}{started.microsecond // 1000:03d}Z-{slugify(slug)}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise OutputNotWritable(
            f"cannot write the run folder {str(path)!r}: {e.strerror or e}", hint="choose another with --out"
        ) from None
    if (path / META_FILE).exists() or (path / REQUESTS_FILE).exists():
        raise OutputNotWritable(f"{str(path)!r} already holds a run", hint="choose an empty folder with --out")
    return path


def write_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write ``run.json`` atomically."""
    tmp = path / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
    os.replace(tmp, path / META_FILE)


def write_table(path: Path, table: pa.Table, row_group_size: int = 1 << 20) -> None:
    """Write ``requests.parquet`` atomically (zstd, dictionary pages for the repetitive columns)."""
    tmp = path / (REQUESTS_FILE + ".tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=row_group_size)
    os.replace(tmp, path / REQUESTS_FILE)


def write_batches(path: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    """Stream record batches into ``requests.parquet`` atomically; returns the row count."""
    tmp = path / (REQUESTS_FILE + ".tmp")
    rows = 0
    with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
        for b in batches:
            w.write_batch(b)
            rows += b.num_rows
    os.replace(tmp, path / REQUESTS_FILE)
    return rows


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime):
        return iso(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


@dataclass
class Run:
    """A run folder on disk: its metadata and (lazily) its records."""

    path: Path
    meta: dict[str, Any]
    _table: pa.Table | None = None

    @classmethod
    def load(cls, path: str | Path) -> Run:
        p = Path(path)
        return cls(p, read_meta(p))

    @property
    def table(self) -> pa.Table:
        """All records (read on first use)."""
        if self._table is None:
            self._table = self.read()
        return self._table

    def read(self, columns: list[str] | None = None) -> pa.Table:
        """The records, or only some columns of them (cheaper for big runs)."""
        if self._table is not None:
            return self._table if columns is None else self._table.select(columns)
        f = self.path / REQUESTS_FILE
        try:
            return pq.read_table(f, columns=columns)
        except (OSError, pa.ArrowInvalid) as e:
            raise BadRun(f"cannot read {str(f)!r}: {e}") from None

    @property
    def complete(self) -> bool:
        return bool(self.meta.get("complete"))

    @property
    def interrupted(self) -> bool:
        return bool(self.meta.get("interrupted")) or self.meta.get("status") == "running"


def build_meta(
    kind: str, run_id: str, started: datetime, fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``run.json`` of a run that has just started (status ``running``), ``fields`` added last.

    The one place a run's metadata is made; :func:`read_meta` is the one place it is read back.
    """
    meta: dict[str, Any] = {
        "schema": RUN_SCHEMA,
        "run_id": run_id,
        "kind": kind,
        "status": "running",
        "complete": False,
        "interrupted": False,
        "started_at": iso(started),
        "tool": tool_versions(),
        "host": {"platform": platform.platform(), "cpus": os.cpu_count(), "argv": _argv()},
        "files": {"requests": REQUESTS_FILE},
    }
    if fields:
        meta.update(fields)
    return meta


#: The former name of :func:`build_meta`, still used by :mod:`tracehound.access.importer`.
base_meta = build_meta


def read_meta(path: Path) -> dict[str, Any]:
    """The ``run.json`` of the run folder ``path``; :class:`BadRun` when there is none or it is unreadable."""
    meta_path = path / META_FILE
    if not meta_path.exists():
        raise BadRun(f"{str(path)!r} is not a run folder (no {META_FILE})")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError, RecursionError) as e:
        raise BadRun(f"cannot read {str(meta_path)!r}: {e}") from None
    if not isinstance(meta, dict):
        raise BadRun(f"{str(meta_path)!r} is not a run's metadata (a JSON {type(meta).__name__})")
    return meta


def _argv() -> list[str]:
    from tracehound.redact import redact_arg

    return [redact_arg(a) for a in sys.argv[1:]]


def save_run(
    kind: str,
    table: pa.Table,
    meta: dict[str, Any],
    out: str | Path | None,
    slug: str,
    interrupted: bool = False,
) -> Run:
    """Write a finished table as a new run folder (importers, browser sessions, merges)."""
    started = utc_now()
    path = prepare_run_dir(out, slug, started)
    full = build_meta(kind, path.name, started, meta)
    write_meta(path, full)
    write_table(path, table)
    full.update(status="interrupted" if interrupted else "complete", complete=not interrupted,
                interrupted=interrupted, ended_at=iso(utc_now()))
    full.setdefault("counts", {})["requests"] = table.num_rows
    write_meta(path, full)
    return Run(path, full, table)
