"""An imported file as columns, and those columns as one Arrow table in the record schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracehound.probe.records import schema

#: Column values a reader hands over: an Arrow array, a NumPy array (NaN is null in a float
#: array) or a list (``None`` is null).
Values: TypeAlias = "pa.Array | np.ndarray | list[Any]"


@dataclass
class Imported:
    """What a reader found in a file: columns in row order, and what ``run.json`` says of them.

    A column that is not in :attr:`columns` is null in every row: nothing is invented.
    ``seq`` defaults to the row order, 0-based. ``time_base`` is ``"epoch"`` when ``start_ns``
    holds clock times and ``"relative"`` when it holds offsets from the start of the imported run.
    """

    rows: int
    columns: dict[str, Values]
    target: dict[str, Any] = field(default_factory=dict)
    skipped: int = 0
    time_base: str = "epoch"

    def table(self, run_id: str, source: str) -> pa.Table:
        """The rows as a table of :func:`tracehound.probe.records.schema`."""
        sch = schema()
        n = self.rows
        arrays = []
        for f in sch:
            if f.name in ("run_id", "source"):
                arrays.append(_constant(run_id if f.name == "run_id" else source, n, f.type))
            elif f.name == "seq" and "seq" not in self.columns:
                arrays.append(pa.array(np.arange(n, dtype=np.int64)))
            elif f.name in self.columns:
                arrays.append(_array(self.columns[f.name], f.type))
            else:
                arrays.append(pa.nulls(n, f.type))
        return pa.Table.from_arrays(arrays, schema=sch)

    def duration_s(self) -> float | None:
        """Seconds from the first start to the last end (start plus total time), if any start is known."""
        start = self.columns.get("start_ns")
        if start is None or self.rows == 0:
            return None
        s, known = _int64(start)
        if not known.any():
            return None
        total = self.columns.get("total_ms")
        t = _floats(total) if total is not None else np.zeros(self.rows)
        end = s + np.rint(np.nan_to_num(t, nan=0.0) * 1e6).astype(np.int64)
        # As floats: two times centuries apart overflow an int64 difference.
        return round((float(end[known].max()) - float(s[known].min())) / 1e9, 6)


def floats(values: np.ndarray) -> pa.Array:
    """A float column from a NumPy array whose NaNs are nulls."""
    v = np.asarray(values, dtype=np.float64)
    nan = np.isnan(v)
    return pa.array(v, mask=nan) if nan.any() else pa.array(v)


def ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """An int64 column from a NumPy array, null where ``valid`` is false."""
    v = np.asarray(values, dtype=np.int64)
    if valid is None or valid.all():
        return pa.array(v)
    return pa.array(np.where(valid, v, 0), mask=~valid)


def _constant(value: str, n: int, typ: pa.DataType) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value], pa.string())).cast(typ)


def _array(values: Values, typ: pa.DataType) -> pa.Array:
    if isinstance(values, np.ndarray):
        arr = floats(values) if values.dtype.kind == "f" else pa.array(values)
    elif isinstance(values, list):
        arr = pa.array(values, pa.string() if pa.types.is_dictionary(typ) else typ)
    else:
        arr = values
    if pa.types.is_dictionary(typ) and not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    return arr.cast(typ)


def _floats(values: Values) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    arr = values if isinstance(values, pa.Array) else pa.array(values)
    return np.asarray(arr.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False), dtype=np.float64)


def _int64(values: Values) -> tuple[np.ndarray, np.ndarray]:
    """An integer column as (values, valid mask)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.int64), np.ones(len(values), bool)
    arr = values if isinstance(values, pa.Array) else pa.array(values, pa.int64())
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(pc.fill_null(arr, 0).to_numpy(), dtype=np.int64), valid
