"""Reading the files to import: one clear :class:`BadImport` per problem, JSON lines streamed."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tracehound.errors import BadImport

#: How much of a file :func:`head` reads to tell its format.
HEAD_BYTES = 64 * 1024
BOM = b"\xef\xbb\xbf"


def bad(path: Path, problem: str, hint: str | None = None) -> BadImport:
    """The error for ``path``: ``cannot import 'FILE': PROBLEM``."""
    return BadImport(f"cannot import {str(path)!r}: {problem}", hint=hint)


def head(path: Path) -> str:
    """The start of ``path`` as text, without a BOM or leading blank space."""
    try:
        with path.open("rb") as f:
            raw = f.read(HEAD_BYTES)
    except OSError as e:
        raise bad(path, e.strerror or str(e)) from None
    text = raw.decode("utf-8", "replace").lstrip("\ufeff").lstrip()
    if not text:
        raise bad(path, "the file is empty")
    return text


def read_bytes(path: Path) -> bytes:
    """The whole file, without a leading BOM."""
    try:
        return path.read_bytes().removeprefix(BOM)
    except OSError as e:
        raise bad(path, e.strerror or str(e)) from None


class JsonLines:
    """The JSON values of a JSON-lines file, one line at a time, with their line numbers.

    A line that is not valid JSON is an error naming it, unless it is the last non-blank line:
    a file cut off mid-write (the load tool killed, a copy interrupted) loses only that line,
    and :attr:`skipped` says so.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.skipped = 0

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        broken: int | None = None
        try:
            with self.path.open("rb") as f:
                for number, raw in enumerate(f, start=1):
                    line = raw.removeprefix(BOM) if number == 1 else raw
                    if not line.strip():
                        continue
                    if broken is not None:
                        raise bad(self.path, f"line {broken} is not valid JSON")
                    try:
                        value = json.loads(line.decode("utf-8"))
                    except (ValueError, RecursionError):  # UnicodeDecodeError included; nesting too deep
                        broken = number
                        continue
                    yield number, value
        except OSError as e:
            raise bad(self.path, e.strerror or str(e)) from None
        if broken is not None:
            self.skipped = 1


#: A CSV column's check on one raw field, used to name the first bad line: returns the reason
#: the field is wrong, or ``None`` when it is right.
FieldCheck = Callable[[str], str | None]


def read_csv(
    path: Path,
    header: Sequence[str],
    types: Mapping[str, pa.DataType],
    checks: Mapping[str, FieldCheck],
    valid: Callable[[pa.Table], np.ndarray],
    what: str,
) -> pa.Table:
    """A CSV file with exactly ``header`` as one typed Arrow table, parsed in bulk.

    ``valid`` tells which parsed rows hold sensible values; when Arrow cannot parse the file or
    a row is not valid, the file is scanned line by line with ``checks`` to name the first bad
    line (the slow path runs only for a file that is already known to be bad).
    """
    first = _first_line(path)
    if [h.strip() for h in first.split(",")] != list(header):
        raise bad(path, f"not {what}: the first line is {first[:80]!r}, expected {','.join(header)!r}")
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=list(header), skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types=dict(types), null_values=[], strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except OSError as e:
        raise bad(path, e.strerror or str(e)) from None
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise _bad_line(path, header, checks) from None
    if table.num_rows and not valid(table).all():
        raise _bad_line(path, header, checks) from None
    return table


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as f:
            line = f.readline(4096)
    except OSError as e:
        raise bad(path, e.strerror or str(e)) from None
    return line.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")


def _bad_line(path: Path, header: Sequence[str], checks: Mapping[str, FieldCheck]) -> BadImport:
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        try:
            return _first_bad_row(path, reader, header, checks)
        except csv.Error as e:  # a field past the csv module's 128 KiB, a NUL
            return bad(path, f"line {reader.line_num + 1} is not CSV: {e}")


def _first_bad_row(path: Path, reader: Any, header: Sequence[str], checks: Mapping[str, FieldCheck]) -> BadImport:
    next(reader, None)
    for row in reader:
        if not row:
            continue
        line = reader.line_num
        if len(row) != len(header):
            return bad(path, f"line {line} has {len(row)} fields, expected {len(header)}: {','.join(row)[:80]!r}")
        for name, field in zip(header, row, strict=True):
            check = checks.get(name)
            why = check(field.strip()) if check else None
            if why:
                return bad(path, f"line {line}: {name} {field.strip()[:40]!r} {why}")
    return bad(path, "the file is not a well-formed CSV")


def number_check(minimum: float = 0.0, integer: bool = False, maximum: float | None = None) -> FieldCheck:
    """A :data:`FieldCheck` for a finite number in ``[minimum, maximum]``."""

    def check(field: str) -> str | None:
        try:
            v = int(field) if integer else float(field)
        except ValueError:
            return "is not " + ("an integer" if integer else "a number")
        if (not integer and not np.isfinite(v)) or v < minimum or (maximum is not None and v > maximum):
            hi = f" to {maximum:g}" if maximum is not None else " or more"
            return f"is out of range (expected {minimum:g}{hi})"
        return None

    return check


def finite_in(col: pa.ChunkedArray | pa.Array, minimum: float = 0.0, maximum: float | None = None) -> np.ndarray:
    """Mask of a numeric column's values that are finite and within ``[minimum, maximum]``."""
    v = np.asarray(col.to_numpy(), dtype=np.float64)
    ok = np.isfinite(v) & (v >= minimum)
    return ok & (v <= maximum) if maximum is not None else ok
