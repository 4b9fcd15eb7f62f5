"""Log events placed against the runs' requests: near a failure, near a success, or outside.

A service writes its error line just before it sends the failing response, so an event logged
with millisecond precision is put beside the first request that *ended* at or after it (the one
being answered when the line was written, or the next one a broken connection or pool hands out):
its weight is 1 when that request failed, 0 when it succeeded; when several requests ended within
the event's own millisecond, the share of them that failed. Events before the first request began
are not placed: nothing of the runs could have caused them. An event with a coarser time (nginx's error log
and gunicorn write whole seconds) cannot be pinned to one request; its weight is the share of
failures among the requests that ended within its second. Summed per template, the weights say
how many of its events sat around failures; compared with the share of failures among all
requests, they give the template's *lift*.

Where the records carry a request id (the ``X-Request-ID`` response header, recorded as
``h_x_request_id``) and the log writes it, the join is exact instead.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tracehound.analysis.outcome import (
    CANCELLED,
    error_codes,
    failed_mask,
    status_codes,
)
from tracehound.errors import BadRun

#: Finer than this, a timestamp pins its event to the nearest request end.
FINE_NS = 20_000_000
#: How far from a request end an event may be and still count as around it.
NEAR_NS = 1_000_000_000
#: Request ids kept for the exact join (the records of very large runs are sampled by time instead).
MAX_IDS = 2_000_000


@dataclass
class Timeline:
    """The requests of some runs, by end time, with their outcome; built once, queried per event."""

    ends: list[int] = field(default_factory=list)
    #: cumulative failures: ``cum[i]`` = failures among ``ends[:i]``
    cum: list[int] = field(default_factory=lambda: [0])
    failed: list[bool] = field(default_factory=list)
    ids: dict[str, bool] = field(default_factory=dict)
    start_ns: int = 0
    end_ns: int = 0
    requests: int = 0
    failures: int = 0
    runs: list[str] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def __bool__(self) -> bool:
        return self.requests > 0

    def weight(self, ts: int, res: int) -> float | None:
        """How much an event at ``ts`` (resolution ``res``) sits around a failure: 0..1, None if near no request."""
        ends = self.ends
        if res <= FINE_NS:
            lo = bisect_left(ends, ts)
            hi = bisect_right(ends, ts + res)
            if hi > lo:  # requests that ended within the event's own time span
                return (self.cum[hi] - self.cum[lo]) / (hi - lo)
            if lo == len(ends) or ends[lo] - ts > NEAR_NS:
                return None
            return 1.0 if self.failed[lo] else 0.0
        lo = bisect_left(ends, ts - FINE_NS)
        hi = bisect_right(ends, ts + res + FINE_NS)
        if hi <= lo:
            return None
        return (self.cum[hi] - self.cum[lo]) / (hi - lo)

    def by_id(self, rid: str) -> bool | None:
        """Whether the request that carried this id failed; None if no recorded request did."""
        return self.ids.get(rid)


def timeline(runs: Sequence[Any]) -> Timeline:
    """The requests of ``runs`` (objects with ``.table`` in the record schema) on one time line.

    Requests cut off by the end of a run are left out: they neither failed nor succeeded.
    """
    ends_parts, starts_parts, failed_parts, labels = [], [], [], []
    ids: dict[str, bool] = {}
    for run in runs:
        try:
            table = run.table
        except BadRun:  # an unreadable run is left out
            continue
        if table.num_rows == 0:
            continue
        labels.append(getattr(getattr(run, "path", None), "name", "") or run.meta.run_id or "")
        status = status_codes(table)
        errors = error_codes(table.column("error_kind"))
        keep = errors != CANCELLED
        failed = failed_mask(status, errors)[keep]
        start = table.column("intended_start_ns").to_numpy(zero_copy_only=False).astype(np.int64)
        total = np.nan_to_num(table.column("total_ms").to_numpy(zero_copy_only=False).astype(np.float64))
        ends_parts.append((start + (total * 1e6).astype(np.int64))[keep])
        starts_parts.append(start[keep])
        failed_parts.append(failed)
        if "h_x_request_id" in table.column_names and len(ids) < MAX_IDS:
            col = table.column("h_x_request_id").to_pylist()
            for rid, bad in zip((c for c, k in zip(col, keep, strict=True) if k), failed.tolist(), strict=True):
                if rid:
                    ids[rid] = bool(bad) or ids.get(rid, False)
    tl = Timeline(ids=ids, runs=labels)
    if not ends_parts:
        return tl
    ends, failed = np.concatenate(ends_parts), np.concatenate(failed_parts)
    order = np.argsort(ends, kind="stable")
    ends, failed = ends[order], failed[order]
    tl.ends, tl.failed = ends.tolist(), failed.tolist()
    tl.cum = [0, *np.cumsum(failed, dtype=np.int64).tolist()]
    tl.requests = len(tl.ends)
    tl.failures = int(failed.sum())
    tl.start_ns = int(min(int(p.min()) for p in starts_parts))
    tl.end_ns = int(ends[-1])
    return tl


__all__ = ["FINE_NS", "NEAR_NS", "Timeline", "timeline"]
