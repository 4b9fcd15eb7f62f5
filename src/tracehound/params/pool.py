"""A pool of parameter values: the rows of a CSV or JSON-lines file, an inline list, or a range of integers.

A pool fills variables of a flow (a file's columns; a list's or a range's own name) with the values
of one row per draw. Rows are numbered from 0 in the order the file, the list or the range gives
them; a run records that number for each request (:mod:`tracehound.probe.records`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from numpy.typing import NDArray

from tracehound.errors import BadData

#: How rows are drawn: in order, at random (seeded), or each virtual user from its own rows.
DRAWS = ("sequential", "random", "unique")
#: The most rows a pool holds (more than any run sends: a bigger file wants a sample).
MAX_ROWS = 2_000_000
MAX_FILE_BYTES = 1 << 30
#: What a variable (and so a usable column) is called.
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")
#: What a value keeps as is in a request target: all a URL may hold, so a column can carry a path or a
#: query; spaces, control and non-ASCII characters and ``"#<>\\^`{|}`` are percent-encoded.
PATH_SAFE = "!$&'()*+,-./:;=?@_~%[]"
_SNIFF_BYTES = 16_384


@dataclass(frozen=True, eq=False)
class Pool:
    """Rows of values under column names; a flow draws one row per request (or iteration)."""

    name: str
    columns: tuple[str, ...]
    #: file | list | range
    kind: str
    #: The file as given, the list's length, or the range as written (what run.json says).
    origin: str
    #: Each column's values, indexed by row (a range's column is a ``range``).
    data: tuple[Sequence[Any], ...] = field(repr=False)
    draw: str = "sequential"
    seed: int = 0
    #: The columns the flow uses (set once the flow is read; every column until then).
    used: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.data[0])

    @property
    def used_columns(self) -> tuple[str, ...]:
        return self.used or self.columns

    def column(self, name: str) -> Sequence[Any]:
        return self.data[self.columns.index(name)]

    def with_options(self, draw: str | None = None, seed: int | None = None, used: Sequence[str] | None = None
                     ) -> Pool:
        """A copy drawn another way, or knowing which columns the flow uses."""
        return replace(self, draw=self.draw if draw is None else draw, seed=self.seed if seed is None else seed,
                       used=self.used if used is None else tuple(c for c in self.columns if c in set(used)))

    def labels(self, rows: NDArray[np.integer[Any]]) -> list[str]:
        """How a record names the value of each of ``rows`` (distinct rows: one string each)."""
        cols = [self.column(c) for c in self.used_columns]
        idx = np.asarray(rows, dtype=np.int64).tolist()
        if len(cols) == 1:
            col = cols[0]
            return [text(col[i]) for i in idx]
        names = self.used_columns
        return [", ".join(f"{n}={text(c[i])}" for n, c in zip(names, cols, strict=True)) for i in idx]

    def describe(self) -> dict[str, Any]:
        """The pool as ``run.json`` records it (no values)."""
        return {"name": self.name, "kind": self.kind, "source": self.origin, "columns": list(self.columns),
                "used": list(self.used_columns), "rows": self.size, "draw": self.draw, "seed": self.seed}

    def to_doc(self) -> dict[str, Any]:
        """The pool as a flow's ``data:`` entry writes it (what :func:`~.declare.flow_pools` reads back)."""
        doc: dict[str, Any]
        if self.kind == "file":
            doc = {"file": self.origin}
        elif self.kind == "range":
            r = self.data[0]
            assert isinstance(r, range)
            doc = {"range": f"{r.start}..{r.stop - 1}"}
        elif self.columns == (self.name,):
            doc = {"values": list(self.data[0])}
        else:
            doc = {"values": [dict(zip(self.columns, row, strict=True)) for row in zip(*self.data, strict=True)]}
        return {**doc, "draw": self.draw, "seed": self.seed}


def text(value: Any) -> str:
    """A value as text in a path, header or raw body: JSON's spelling for what is not a string."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bool, dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def path_text(value: Any) -> str:
    """A value as text in a request target (percent-encoded where a target cannot hold it as is)."""
    return quote(text(value), safe=PATH_SAFE)


def check_draw(draw: Any, where: str) -> str:
    if draw not in DRAWS:
        raise BadData(f"{where}: draw must be {', '.join(DRAWS[:-1])} or {DRAWS[-1]}, not {draw!r}")
    return str(draw)


def pool_name(text_: str) -> str:
    """A pool name (and so a record column's suffix) made of ``text_``: letters, digits and ``_``."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", text_).strip("_") or "data"
    return name if not name[0].isdigit() else "_" + name


def range_pool(name: str, spec: str, where: str, draw: str = "sequential", seed: int = 0) -> Pool:
    """The integers of ``spec`` (``1..5000``, both ends included) as a one-column pool named ``name``."""
    m = RANGE.match(spec)
    if not m:
        raise BadData(f"{where}: {spec!r} is not a range: write it as 1..5000")
    lo, hi = int(m.group(1)), int(m.group(2))
    if hi < lo:
        raise BadData(f"{where}: the range {lo}..{hi} is backwards", hint=f"write {hi}..{lo}")
    if hi - lo + 1 > 2**31 - 1:
        raise BadData(f"{where}: the range {lo}..{hi} holds more than 2**31 - 1 values")
    return Pool(name, (name,), "range", f"{lo}..{hi}", (range(lo, hi + 1),), draw, seed)


def list_pool(name: str, values: Any, where: str, draw: str = "sequential", seed: int = 0) -> Pool:
    """An inline list: scalars fill ``{name}``; mappings are rows whose keys are the columns."""
    if not isinstance(values, list) or not values:
        raise BadData(f"{where}: the list of {name!r} is empty", hint="give at least one value")
    if len(values) > MAX_ROWS:
        raise BadData(f"{where}: the list of {name!r} holds more than {MAX_ROWS:,} values")
    if all(isinstance(v, dict) for v in values):
        return _rows_pool(name, values, "list", f"{len(values)} values", where, draw, seed)
    if any(isinstance(v, (dict, list)) for v in values):
        raise BadData(f"{where}: the list of {name!r} mixes values and mappings",
                      hint="give plain values, or one mapping per row")
    return Pool(name, (name,), "list", f"{len(values)} values", (list(values),), draw, seed)


def file_pool(path: str | Path, name: str | None = None, base: Path | None = None, draw: str = "sequential",
              seed: int = 0) -> Pool:
    """The rows of a CSV (header row first), JSON-lines or JSON-array file; :class:`BadData` otherwise."""
    given = str(path)
    p = Path(path).expanduser()
    if not p.is_absolute() and base is not None:
        p = base / p
    shown = repr(given)
    if not p.exists():
        raise BadData(f"data file {shown} does not exist", hint="check the path (relative to the flow file)"
                      if base is not None else "check the path")
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise BadData(f"data file {shown} is larger than 1 GiB: take a sample")
        raw = p.read_bytes()
    except IsADirectoryError:
        raise BadData(f"data file {shown} is a folder, not a file") from None
    except OSError as e:
        raise BadData(f"cannot read data file {shown}: {e.strerror or e}") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadData(f"data file {shown} is not CSV or JSON lines: it is not UTF-8 text") from None
    if not content.strip():
        raise BadData(f"data file {shown} is empty", hint="give it a header row, then one row per value")
    name = name or pool_name(p.stem)
    suffix = p.suffix.lower()
    head = content.lstrip()[:1]
    if suffix in (".jsonl", ".ndjson") or (suffix not in (".csv", ".tsv", ".json") and head == "{"):
        rows = _json_lines(content, shown)
    elif suffix == ".json" or (suffix not in (".csv", ".tsv") and head == "["):
        rows = _json_array(content, shown)
        if rows and not all(isinstance(r, dict) for r in rows):
            return list_pool(name, rows, f"data file {shown}", draw, seed)
    else:
        return _csv_pool(content, name, given, shown, "\t" if suffix == ".tsv" else None, draw, seed)
    if not rows:
        raise BadData(f"data file {shown} is empty", hint="give it one JSON object per line")
    return _rows_pool(name, rows, "file", given, f"data file {shown}", draw, seed)


def _csv_pool(content: str, name: str, given: str, shown: str, delimiter: str | None, draw: str, seed: int
              ) -> Pool:
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(content[:_SNIFF_BYTES], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
        header = next(reader)
        width = len(header)
        rows: list[list[str]] = []
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise BadData(f"data file {shown} is not CSV: line {reader.line_num} has {len(row)} field(s) where "
                              f"the header has {width}")
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise BadData(f"data file {shown} holds more than {MAX_ROWS:,} rows: take a sample")
    except csv.Error as e:
        raise BadData(f"data file {shown} is not CSV: {e}") from None
    columns = tuple(h.strip() for h in header)
    _check_header(columns, shown)
    if not rows:
        raise BadData(f"data file {shown} has a header but no rows", hint="give it one row per value")
    data = tuple(list(col) for col in zip(*rows, strict=True))
    return Pool(name, columns, "file", given, data, draw, seed)


def _check_header(columns: tuple[str, ...], shown: str) -> None:
    if not any(NAME.match(c) for c in columns):
        raise BadData(f"the first line of data file {shown} is not a header: {', '.join(map(repr, columns[:3]))} "
                      "names no column a flow can use", hint="give the file a header row such as customer_id,name")
    for i, c in enumerate(columns):
        if not c:
            raise BadData(f"data file {shown}: column {i + 1} of the header has no name")
        if columns.index(c) != i:
            raise BadData(f"data file {shown}: column {c!r} appears twice in the header")


def _json_lines(content: str, shown: str) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            raise BadData(f"data file {shown} is not JSON lines: line {n} is not JSON") from None
        if not isinstance(row, dict):
            raise BadData(f"data file {shown} is not JSON lines: line {n} is not a JSON object")
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise BadData(f"data file {shown} holds more than {MAX_ROWS:,} rows: take a sample")
    return rows


def _json_array(content: str, shown: str) -> list[Any]:
    try:
        rows = json.loads(content)
    except (ValueError, RecursionError) as e:
        raise BadData(f"data file {shown} is not JSON: {e}") from None
    if not isinstance(rows, list):
        raise BadData(f"data file {shown} is JSON but not a list of rows")
    if len(rows) > MAX_ROWS:
        raise BadData(f"data file {shown} holds more than {MAX_ROWS:,} rows: take a sample")
    return rows


def _rows_pool(name: str, rows: list[dict[str, Any]], kind: str, origin: str, where: str, draw: str, seed: int
               ) -> Pool:
    """Mappings as a pool: the columns are their keys in order of first appearance (missing: null)."""
    columns = tuple(dict.fromkeys(str(k) for r in rows for k in r))
    if kind == "file":
        _check_header(columns, where.removeprefix("data file "))
    data = tuple([r.get(c) for r in rows] for c in columns)
    return Pool(name, columns, kind, origin, data, draw, seed)


__all__ = ["DRAWS", "MAX_ROWS", "NAME", "PATH_SAFE", "Pool", "check_draw", "file_pool", "list_pool", "path_text",
           "pool_name", "range_pool", "text"]
