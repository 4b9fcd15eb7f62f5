"""An import folder: an access log as partitioned Parquet, with ``run.json`` saying ``kind: import``.

::

    <folder>/run.json                     kind, format, file, rows, bad lines and their first examples
    <folder>/access/day=2026-12-02/*.parquet   one row per request, the columns of formats.COLUMNS

It is read with DuckDB (:meth:`ImportFolder.connect`), never loaded whole: a week of production
logs does not fit in memory, and does not need to.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tracehound.errors import BadRun
from tracehound.probe.meta import ImportMeta, RunMeta, read_meta

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

SCHEMA = "tracehound.access/1"
DATA_DIR = "access"
#: DuckDB's bounds: a 10 GB file imports and analyses within them on two cores.
MEMORY_LIMIT = "1GB"
THREADS = 2


def connect(memory_limit: str = MEMORY_LIMIT, threads: int = THREADS,
            temp_dir: Path | None = None) -> DuckDBPyConnection:
    """An in-process DuckDB connection with bounded memory, spilling to ``temp_dir`` (default: /tmp)."""
    import duckdb

    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit,
                                 "preserve_insertion_order": False})
    tmp = temp_dir or Path(tempfile.gettempdir()) / f"tracehound-duckdb-{os.getpid()}"
    con.execute(f"SET temp_directory = '{str(tmp).replace(chr(39), chr(39) * 2)}'")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


@dataclass
class ImportFolder:
    """An imported access log on disk: its metadata and the glob of its Parquet files."""

    path: Path
    meta: RunMeta

    @classmethod
    def load(cls, path: str | Path) -> ImportFolder:
        p = Path(path)
        try:
            return cls(p, read_meta(p, SCHEMA))
        except BadRun:
            raise BadRun(f"{str(p)!r} is not an access-log import folder",
                         hint="create one with: tracehound import ACCESS.LOG") from None

    @staticmethod
    def holds(path: str | Path) -> bool:
        """Whether ``path`` is an import folder (cheap: reads only its ``run.json``)."""
        try:
            read_meta(Path(path), SCHEMA)
        except BadRun:
            return False
        return True

    @property
    def glob(self) -> str:
        return str(self.path / DATA_DIR / "*" / "*.parquet")

    @property
    def imported(self) -> ImportMeta:
        """What the import read (``run.json``'s ``import`` block)."""
        return self.meta.import_ or ImportMeta()

    @property
    def utc_offset_min(self) -> int:
        return self.imported.utc_offset_min or 0

    @property
    def rows(self) -> int:
        return self.meta.counts.requests or 0

    def connect(self, memory_limit: str = MEMORY_LIMIT) -> DuckDBPyConnection:
        """A DuckDB connection with the view ``requests`` over the folder's Parquet files."""
        if not any((self.path / DATA_DIR).glob("*/*.parquet")):
            raise BadRun(f"{str(self.path)!r} holds no requests")
        con = connect(memory_limit)
        glob = self.glob.replace("'", "''")
        con.execute(f"CREATE VIEW requests AS SELECT * EXCLUDE (day) "
                    f"FROM read_parquet('{glob}', hive_partitioning=true)")
        return con


__all__ = ["DATA_DIR", "SCHEMA", "ImportFolder", "connect"]
