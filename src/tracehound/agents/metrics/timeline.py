"""The probed requests on the scrapes' clock: when each ran (wall clock, ns) and whether it failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tracehound.agents.base import RecordedRun, is_canary
from tracehound.analysis.frame import Frame, concat
from tracehound.errors import BadRun


@dataclass
class Timeline:
    """When each probed request ran (wall clock, ns) and whether it failed."""

    start: np.ndarray
    end: np.ndarray
    failed: np.ndarray

    @classmethod
    def of(cls, runs: Sequence[RecordedRun]) -> Timeline:
        """The target's requests of ``runs`` (canary runs and unreadable runs left out)."""
        tables = []
        for run in runs:
            if is_canary(run):
                continue
            try:
                table = run.table
            except BadRun:
                continue
            if table.num_rows:
                tables.append(table)
        if not tables:
            z = np.zeros(0, np.int64)
            return cls(z, z, np.zeros(0, bool))
        f = Frame(concat(tables))
        keep = f.counted & (f.start_ns > 0)
        return cls(f.start_ns[keep], f.end_ns[keep], f.primary[keep])

    @property
    def window(self) -> tuple[int, int] | None:
        if self.start.size == 0:
            return None
        return int(self.start.min()), int(self.end.max())

    def overlapping(self, t0: np.ndarray, t1: np.ndarray, failed_only: bool = False) -> np.ndarray:
        """How many requests (or failed ones) were in flight at some point of each [t0, t1]."""
        sel = self.failed if failed_only else np.ones(self.start.size, bool)
        s = np.sort(self.start[sel])
        e = np.sort(self.end[sel])
        return np.searchsorted(s, t1, "right") - np.searchsorted(e, t0, "left")


__all__ = ["Timeline"]
