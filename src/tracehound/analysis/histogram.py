"""A high-dynamic-range latency histogram, filled from whole columns at once.

Log-linear buckets as in HdrHistogram: 2048 linear sub-buckets per power of two, so every
recorded value is kept to three significant decimal digits from 1 µs to hours. HdrHistogram_py
records one value per Python call, which takes seconds for a few million requests; this fills
the same layout with one ``np.bincount`` per column. Histograms merge by adding counts, so
worker processes and machines can combine theirs exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

SUB_BITS = 11
_HALF = 1 << (SUB_BITS - 1)


def _index(values: ArrayLike) -> NDArray[np.int64]:
    v = np.maximum(np.asarray(values, dtype=np.int64), 0)
    bits = np.zeros(v.shape, dtype=np.int64)
    pos = v > 0
    bits[pos] = np.floor(np.log2(v[pos].astype(np.float64))).astype(np.int64) + 1
    b: NDArray[np.int64] = np.maximum(bits - SUB_BITS, 0)
    return b * _HALF + (v >> b)


def _lowest(idx: ArrayLike) -> NDArray[np.int64]:
    i = np.asarray(idx, dtype=np.int64)
    b = np.maximum(i // _HALF - 1, 0)
    lowest: NDArray[np.int64] = (i - b * _HALF) << b
    return lowest


def _width(idx: ArrayLike) -> NDArray[np.int64]:
    b = np.maximum(np.asarray(idx, dtype=np.int64) // _HALF - 1, 0)
    return np.left_shift(np.ones_like(b), b)


@dataclass
class Histogram:
    """Counts of integer values (microseconds by convention) in log-linear buckets."""

    counts: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    total: int = 0
    sum: float = 0.0
    min: int | None = None
    max: int | None = None

    @classmethod
    def of(cls, values: ArrayLike) -> Histogram:
        h = cls()
        h.record(values)
        return h

    def record(self, values: ArrayLike) -> None:
        """Add every value of an array (negative values count as 0)."""
        v = np.asarray(values, dtype=np.int64)
        if v.size == 0:
            return
        add = np.bincount(_index(v))
        if add.size > self.counts.size:
            add[: self.counts.size] += self.counts
            self.counts = add
        else:
            self.counts[: add.size] += add
        self.total += int(v.size)
        self.sum += float(np.maximum(v, 0).sum())
        lo, hi = int(max(v.min(), 0)), int(v.max())
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)

    def merge(self, other: Histogram) -> Histogram:
        """A new histogram holding both."""
        out = Histogram()
        n = max(self.counts.size, other.counts.size)
        out.counts = np.zeros(n, dtype=np.int64)
        out.counts[: self.counts.size] += self.counts
        out.counts[: other.counts.size] += other.counts
        out.total = self.total + other.total
        out.sum = self.sum + other.sum
        mins = [m for m in (self.min, other.min) if m is not None]
        maxs = [m for m in (self.max, other.max) if m is not None]
        out.min = min(mins) if mins else None
        out.max = max(maxs) if maxs else None
        return out

    def percentile(self, q: float) -> float | None:
        """The value at percentile ``q`` (0–100), the middle of its bucket; exact at the extremes."""
        if self.total == 0 or self.min is None or self.max is None:
            return None
        if q <= 0:
            return float(self.min)
        if q >= 100:
            return float(self.max)
        rank = max(1, int(np.ceil(q / 100.0 * self.total)))
        cum = np.cumsum(self.counts)
        idx = int(np.searchsorted(cum, rank))
        lo = int(_lowest(np.array([idx]))[0])
        w = int(_width(np.array([idx]))[0])
        value = lo + (w - 1) / 2.0
        return float(min(max(value, self.min), self.max))

    def percentiles(self, qs: tuple[float, ...] = (50, 90, 95, 99, 99.9)) -> dict[str, float | None]:
        return {f"p{q:g}": self.percentile(q) for q in qs}

    @property
    def mean(self) -> float | None:
        return self.sum / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        """Sparse, JSON-ready form: bucket indices with their counts."""
        nz = np.nonzero(self.counts)[0]
        return {
            "layout": f"log-linear/{SUB_BITS}",
            "index": nz.tolist(),
            "count": self.counts[nz].tolist(),
            "total": self.total,
            "sum": self.sum,
            "min": self.min,
            "max": self.max,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Histogram:
        h = cls()
        idx = np.asarray(d.get("index", []), dtype=np.int64)
        if idx.size:
            h.counts = np.zeros(int(idx.max()) + 1, dtype=np.int64)
            h.counts[idx] = np.asarray(d["count"], dtype=np.int64)
        h.total, h.sum, h.min, h.max = d.get("total", 0), d.get("sum", 0.0), d.get("min"), d.get("max")
        return h
