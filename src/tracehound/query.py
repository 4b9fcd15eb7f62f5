"""SQL over run folders with DuckDB (``tracehound sql``), for the cuts no command makes.

Three relations, over every run under the folder given (those inside investigations too):

* ``requests``: every recorded request (the columns of ``requests.parquet``), plus ``run`` (its
  folder), ``failed`` and ``cancelled`` (as tracehound counts them) and ``start_time`` (UTC);
* ``runs``: one row per run from its ``run.json``: kind, experiment, target, load shape, status,
  counts, and ``meta``, the whole file as JSON for ``json_extract``;
* ``investigations``: one row per ``report.json``: verdict, figures, the leading failure mode.

>>> from tracehound.query import query
>>> query("SELECT run, avg(failed::INT) AS failure_rate FROM requests GROUP BY run").rows  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from tracehound.errors import TracehoundError
from tracehound.history import listed_meta, listed_report, run_folders
from tracehound.probe.run import REQUESTS_FILE
from tracehound.report.model import REPORT_FILE


class BadQuery(TracehoundError):
    """SQL that DuckDB cannot parse or run."""


#: What every request gains over its Parquet columns.
_DERIVED = """
    regexp_replace(filename, '[/\\\\]{requests}$', '') AS run,
    ((coalesce(status, 0) = 0 OR status >= 400 OR error_kind IS NOT NULL)
        AND coalesce(error_kind::VARCHAR, '') <> 'cancelled') AS failed,
    coalesce(error_kind::VARCHAR, '') = 'cancelled' AS cancelled,
    make_timestamp(start_ns // 1000) AS start_time
""".replace("{requests}", REQUESTS_FILE.replace(".", "\\."))

_RUNS_SCHEMA = pa.schema([
    ("run", pa.string()), ("run_id", pa.string()), ("kind", pa.string()), ("experiment", pa.string()),
    ("role", pa.string()), ("parent", pa.string()), ("started_at", pa.timestamp("ms")),
    ("ended_at", pa.timestamp("ms")), ("status", pa.string()), ("method", pa.string()), ("url", pa.string()),
    ("model", pa.string()), ("concurrency", pa.int64()), ("rate", pa.float64()), ("duration_s", pa.float64()),
    ("requests", pa.int64()), ("stop_reason", pa.string()), ("meta", pa.string()),
])

_INVESTIGATIONS_SCHEMA = pa.schema([
    ("folder", pa.string()), ("started_at", pa.timestamp("ms")), ("verdict", pa.string()), ("url", pa.string()),
    ("requests", pa.int64()), ("failures", pa.int64()), ("failure_rate", pa.float64()), ("top_cause", pa.string()),
    ("confidence", pa.float64()), ("seconds", pa.float64()), ("report", pa.string()),
])


@dataclass
class Result:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: Runs left out, one line each (their records cannot be read).
    warnings: list[str] = field(default_factory=list)

    def records(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            yield dict(zip(self.columns, row, strict=True))


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def _number(v: Any, kind: type) -> Any:
    try:
        return None if v is None else kind(v)
    except (TypeError, ValueError):
        return None


def _run_row(folder: Path, parent: Path | None) -> dict[str, Any]:
    d = listed_meta(folder)
    exp, shape = d.experiment, d.shape
    return {
        "run": str(folder), "run_id": d.run_id, "kind": d.kind, "experiment": exp.kind if exp else None,
        "role": exp.role if exp else None, "parent": str(parent) if parent else None,
        "started_at": _time(d.started_at), "ended_at": _time(d.ended_at), "status": d.status,
        "method": d.target.method, "url": d.target.url, "model": shape.model,
        "concurrency": shape.concurrency or shape.max_connections, "rate": _number(shape.rate, float),
        "duration_s": _number(d.duration_s, float), "requests": d.counts.requests,
        "stop_reason": d.stop_reason, "meta": json.dumps(d.dump()),
    }


def _investigation_row(folder: Path) -> dict[str, Any]:
    r = listed_report(folder)
    top = r.top if r is not None else None
    return {
        "folder": str(folder), "started_at": _time(r.started_at) if r else None, "verdict": r.verdict if r else None,
        "url": (r.case.url or r.case.base_url) if r else None, "requests": r.requests if r else None,
        "failures": r.failures if r else None, "failure_rate": float(r.failure_rate) if r else None,
        "top_cause": top.id if top else None, "confidence": float(top.confidence) if top else None,
        "seconds": float(r.seconds) if r else None, "report": str(folder / REPORT_FILE),
    }


def connect(root: str | Path | None = None, warnings: list[str] | None = None) -> Any:
    """An in-memory DuckDB connection with ``requests``, ``runs`` and ``investigations`` over ``root``.

    Once the relations are defined, the connection can read nothing but the runs' records: no
    other file, no folder listing, no COPY, ATTACH, INSTALL or download, and no setting changed
    back. A run whose ``requests.parquet`` cannot be read is left out of ``requests``, with a line
    for ``warnings``.
    """
    import duckdb

    from tracehound.probe.records import schema

    found = run_folders(root)
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                             "autoload_known_extensions": False})
    con.register("_runs", pa.Table.from_pylist([_run_row(p, parent) for p, parent in found], _RUNS_SCHEMA))
    con.execute("CREATE VIEW runs AS SELECT * FROM _runs")
    parents = sorted({parent for _, parent in found if parent is not None and (parent / REPORT_FILE).is_file()})
    con.register("_investigations", pa.Table.from_pylist([_investigation_row(p) for p in parents],
                                                         _INVESTIGATIONS_SCHEMA))
    con.execute("CREATE VIEW investigations AS SELECT * FROM _investigations")
    files = [str(p / REQUESTS_FILE) for p, _ in found if _readable(p, warnings)]
    if files:
        con.execute(f"CREATE VIEW requests AS SELECT * EXCLUDE (filename), {_DERIVED} "
                    "FROM read_parquet($files, union_by_name = true, filename = true)".replace("$files", _list(files)))
    else:
        con.register("_no_requests", schema().empty_table().append_column("filename", pa.array([], pa.string())))
        con.execute(f"CREATE VIEW requests AS SELECT * EXCLUDE (filename), {_DERIVED} FROM _no_requests")
    con.execute(f"SET allowed_paths = {_list(files)}")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _readable(folder: Path, warnings: list[str] | None) -> bool:
    """Whether the run's records can be read (their Parquet footer and schema); a warning line when not."""
    import pyarrow.parquet as pq

    try:
        pq.read_schema(folder / REQUESTS_FILE)
    except (OSError, pa.ArrowException) as e:
        if warnings is not None:
            why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            warnings.append(f"skipped {folder}: its {REQUESTS_FILE} cannot be read ({why})")
        return False
    return True


def _list(items: Sequence[str]) -> str:
    """A SQL list literal of strings (DuckDB views cannot take parameters)."""
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


def query(sql: str, root: str | Path | None = None) -> Result:
    """Run ``sql`` over the run folders under ``root``; :class:`BadQuery` with DuckDB's first line if it fails.

    The query may read the runs and nothing else (see :func:`connect`); runs whose records cannot
    be read are left out and named in :attr:`Result.warnings`.
    """
    import duckdb

    if not sql.strip():
        raise BadQuery("the query is empty", hint='e.g. tracehound sql "SELECT kind, count(*) FROM runs GROUP BY kind"')
    warnings: list[str] = []
    con = connect(root, warnings)
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in cur.description or []]
        rows = cur.fetchall() if cur.description else []
    except duckdb.PermissionException:
        raise BadQuery("tracehound sql reads the runs only: no other file, folder, database, extension or setting",
                       hint="the relations are requests, runs and investigations") from None
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadQuery(first, hint="the relations are requests, runs and investigations") from None
    finally:
        con.close()
    return Result(columns, rows, warnings)


__all__ = ["BadQuery", "Result", "connect", "query"]
