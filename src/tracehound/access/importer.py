"""Importing an access log: file → DuckDB SQL → Parquet partitioned by day, in bounded memory.

One pass reads the file with the format's SQL (:mod:`.formats`) and writes every line either to
its day's partition or, when its time or status cannot be read, to a ``bad`` partition that is
counted, sampled for the first examples and removed. For combined logs the fast CSV split
rejects the lines it cannot split; a second, line-at-a-time pass reads those. Nothing aborts
on a bad line; a file where no line parses is an error.
"""

from __future__ import annotations

import contextlib
import gzip
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracehound.access import formats
from tracehound.access.folder import (
    DATA_DIR,
    MEMORY_LIMIT,
    SCHEMA,
    ImportFolder,
    connect,
)
from tracehound.access.formats import Sniff
from tracehound.errors import BadImport
from tracehound.probe.meta import CountsMeta, FilesMeta, ImportMeta, ShapeMeta, TargetMeta, write_meta
from tracehound.probe.run import build_meta, iso, prepare_run_dir, utc_now

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

#: How much of the (decompressed) file the format is told from.
HEAD_BYTES = 256 * 1024
#: Bad lines kept as examples in run.json.
EXAMPLES = 5

Progress = Callable[[float], None]


def _bad(path: Path, problem: str, hint: str | None = None) -> BadImport:
    return BadImport(f"cannot import {str(path)!r}: {problem}", hint=hint)


def compression_of(path: Path) -> str:
    """``gzip`` when the file starts with gzip's magic bytes, whatever its name; else ``none``."""
    try:
        with path.open("rb") as f:
            magic = f.read(2)
    except IsADirectoryError:
        raise _bad(path, "it is a folder, not a file") from None
    except OSError as e:
        raise _bad(path, e.strerror or str(e)) from None
    return "gzip" if magic == b"\x1f\x8b" else "none"


def head_lines(path: Path, compression: str) -> list[str]:
    """The first complete lines of the file, decompressed."""
    try:
        opener = gzip.open if compression == "gzip" else open
        with opener(path, "rb") as f:
            raw = f.read(HEAD_BYTES)
    except (OSError, EOFError) as e:
        raise _bad(path, f"cannot read it ({getattr(e, 'strerror', None) or e})") from None
    if not raw.strip():
        raise _bad(path, "the file is empty")
    lines = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace").split("\n")
    if len(raw) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]
    kept = [ln for ln in lines if ln.strip()]
    if not kept:  # only characters that are white space to a reader of text (\x1c, \x85 …)
        raise _bad(path, "it holds no line of text")
    return kept


def sniff_file(path: str | Path, fmt: str = "auto", mapping: dict[str, str] | None = None) -> Sniff | None:
    """The access-log format of a file, or ``None`` when its first lines are none of them."""
    p = Path(path)
    return formats.sniff(head_lines(p, compression_of(p)), fmt, mapping)


def import_access_log(path: str | Path, fmt: str = "auto", out: Path | None = None,
                      mapping: dict[str, str] | None = None, on_progress: Progress | None = None,
                      memory_limit: str = MEMORY_LIMIT) -> ImportFolder:
    """Import an access log (plain or gzip) into a new import folder.

    ``fmt`` is ``auto`` or one of :data:`formats.FORMATS`; ``mapping`` names the JSON keys of a
    ``jsonl`` file. :class:`BadImport` (one line) when the file cannot be read, is of no known
    format, or holds no line that parses.
    """
    p = Path(path)
    name = fmt.strip().lower()
    if name != "auto" and name not in formats.FORMATS:
        raise BadImport(f"unknown access-log format {fmt!r}", hint="use auto, " + ", ".join(formats.FORMATS))
    compression = compression_of(p)
    lines = head_lines(p, compression)
    try:
        s = formats.sniff(lines, name, mapping)
    except BadImport as e:
        raise _bad(p, str(e), e.hint or None) from None
    if s is None:
        what = "an access log of a known format" if name == "auto" else f"a {name} access log"
        raise _bad(p, f"its first lines are not {what}: {lines[0][:80]!r}",
                   hint="pass --format " + "|".join(formats.FORMATS))
    started = utc_now()
    folder = prepare_run_dir(out, f"import-{s.format}-{p.name.split('.')[0]}", started)
    t0 = time.monotonic()
    import duckdb

    con = connect(memory_limit, temp_dir=folder / ".tmp")
    try:
        _copy(con, p, s, compression, folder, on_progress)
        rows, days, bad, examples, first, last = _tally(con, folder)
        dropped, dropped_examples = _dropped(con)
        bad += dropped
        examples = (examples + dropped_examples)[:EXAMPLES]
    except BaseException as e:
        con.close()
        shutil.rmtree(folder / DATA_DIR, ignore_errors=True)
        shutil.rmtree(folder / ".tmp", ignore_errors=True)
        _remove_if_empty(folder)
        if isinstance(e, duckdb.Error):
            raise _unreadable(p, compression, e) from None
        raise
    finally:
        con.close()
        shutil.rmtree(folder / ".tmp", ignore_errors=True)
    if rows == 0:
        shutil.rmtree(folder / DATA_DIR, ignore_errors=True)
        _remove_if_empty(folder)
        example = f": {examples[0][:80]!r}" if examples else ""
        raise _bad(p, f"no line of it is a {s.format} access log line ({bad:,} bad){example}",
                   hint="pass --format " + "|".join(formats.FORMATS))
    seconds = time.monotonic() - t0
    size = p.stat().st_size
    meta = build_meta("import", folder.name, started, {
        "schema": SCHEMA,
        "status": "complete", "complete": True, "ended_at": iso(utc_now()),
        "target": TargetMeta(),
        "shape": ShapeMeta(model="imported"),
        "files": FilesMeta(access=DATA_DIR + "/"),
        "import": ImportMeta(format=s.format, file=str(p), compression=compression, bytes=size, rows=rows,
                             bad_lines=bad, bad_examples=examples, seconds=round(seconds, 2),
                             mb_per_s=round(size / 1e6 / max(seconds, 1e-6), 1), days=days, first=first,
                             last=last, utc_offset_min=s.utc_offset_min, mapping=s.mapping or None),
        "counts": CountsMeta(requests=rows, bad_lines=bad),
    })
    write_meta(folder, meta)
    return ImportFolder(folder, meta)


def _copy(con: DuckDBPyConnection, path: Path, s: Sniff, compression: str, folder: Path,
          on_progress: Progress | None) -> None:
    import duckdb

    target = str(folder / DATA_DIR).replace("'", "''")
    src = str(path)
    if s.format in ("nginx", "apache"):
        if s.tail is not None:
            try:
                sql, _ = formats.combined_fast(src, s, compression)
                _run(con, _copy_sql(sql, target, "fast"), on_progress)
            except duckdb.Error:
                # The fast split gave up on the whole file: read every line one at a time.
                shutil.rmtree(folder / DATA_DIR, ignore_errors=True)
                con.execute("DROP TABLE IF EXISTS reject_errors")
            else:
                # A truncated line's open quote swallows the next line: split them again.
                con.execute("CREATE TEMP TABLE __rejected AS SELECT unnest(string_split(rtrim(first(csv_line), "
                            "chr(13) || chr(10)), chr(10))) AS line FROM reject_errors GROUP BY scan_id, line")
                if _row(con, "SELECT count(*) FROM __rejected")[0]:
                    _run(con, _copy_sql(formats.combined_lines("__rejected", s), target, "lines"), None)
                con.execute("DROP TABLE IF EXISTS reject_errors")  # each one read again above, none dropped
                return
        relation = formats._lines(src, compression)
        _run(con, _copy_sql(formats.combined_lines(f"(SELECT line FROM {relation})", s), target, "lines"), on_progress)
    elif s.format == "alb":
        _run(con, _copy_sql(formats.alb(src, compression), target, "alb"), on_progress)
    elif s.format == "cloudfront":
        _run(con, _copy_sql(formats.cloudfront(src, s, compression), target, "cloudfront"), on_progress)
    else:
        _run(con, _copy_sql(formats.jsonl(src, s, compression), target, "jsonl"), on_progress)


def _dropped(con: DuckDBPyConnection) -> tuple[int, list[str]]:
    """The lines DuckDB's reader could not take (longer than its line limit, above all), and the first few."""
    import duckdb

    try:
        n = int(_row(con, "SELECT count(*) FROM (SELECT DISTINCT scan_id, line FROM reject_errors)")[0])
        first = con.execute(f"SELECT left(any_value(csv_line), 200), any_value(error_type) FROM reject_errors "
                            f"GROUP BY scan_id, line ORDER BY line LIMIT {EXAMPLES}").fetchall()
    except duckdb.CatalogException:  # no reader stored any reject
        return 0, []
    too_long = f" … (longer than {formats.MAX_LINE_BYTES // (1 << 20)} MB)"
    return n, [text + (too_long if "LINE SIZE" in str(kind) else "") for text, kind in first]


def _unreadable(path: Path, compression: str, e: Exception) -> BadImport:
    """What went wrong reading the file, in one line (DuckDB's first line, or what a gzip error means)."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if compression == "gzip" and "gzip" in first.lower():
        readable = path.name.removesuffix(".gz").removesuffix(".log") + "-readable.log"
        return _bad(path, "its gzip stream is truncated or corrupt",
                    hint=f"copy it again, or import what can be read: zcat {path} > {readable}")
    return _bad(path, f"reading it failed: {first}")


def _copy_sql(select: str, target: str, tag: str) -> str:
    return (f"COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day), "
            f"OVERWRITE_OR_IGNORE, FILENAME_PATTERN '{tag}_{{uuid}}')")


def _run(con: DuckDBPyConnection, sql: str, on_progress: Progress | None) -> None:
    """Execute ``sql``, reporting DuckDB's progress every quarter second; Ctrl-C interrupts it."""
    if on_progress is None:
        con.execute(sql)
        return
    box: dict[str, BaseException] = {}
    done = threading.Event()

    def work() -> None:
        try:
            con.execute(sql)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread below
            box["error"] = e
        finally:
            done.set()

    th = threading.Thread(target=work, name="tracehound-import", daemon=True)
    th.start()
    try:
        while not done.wait(0.25):
            pct = con.query_progress()
            if pct is not None and pct >= 0:
                on_progress(min(pct, 100.0) / 100.0)
    except KeyboardInterrupt:
        con.interrupt()
        th.join()
        raise
    th.join()
    if "error" in box:
        raise box["error"]
    on_progress(1.0)


def _tally(con: DuckDBPyConnection, folder: Path) -> tuple[int, list[str], int, list[str], str | None, str | None]:
    """Rows, days, bad lines and their first examples; the bad partition is removed once read."""
    root = folder / DATA_DIR
    bad_dir = root / "day=bad"
    bad, examples = 0, []
    if bad_dir.is_dir():
        glob = str(bad_dir / "*.parquet").replace("'", "''")
        bad = int(_row(con, f"SELECT count(*) FROM read_parquet('{glob}')")[0])
        examples = [r[0][:300] for r in con.execute(
            f"SELECT bad_line FROM read_parquet('{glob}') WHERE bad_line IS NOT NULL LIMIT {EXAMPLES}").fetchall()]
        shutil.rmtree(bad_dir)
    days = sorted(d.name.split("=", 1)[1] for d in root.glob("day=*") if d.is_dir()) if root.is_dir() else []
    if not days:
        return 0, [], bad, examples, None, None
    glob = str(root / "*" / "*.parquet").replace("'", "''")
    rows, first, last = _row(
        con, f"SELECT count(*), min(ts), max(ts) FROM read_parquet('{glob}', hive_partitioning=true)")
    return int(rows), days, bad, examples, _iso(first), _iso(last)


def _row(con: DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The one row of an aggregate query (which always has one)."""
    row = con.execute(sql).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {sql[:80]!r}")
    return row


def _iso(ts: Any) -> str | None:
    return iso(ts) if ts is not None else None


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


__all__ = ["compression_of", "head_lines", "import_access_log", "sniff_file"]
