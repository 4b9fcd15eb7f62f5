"""Leads: a failure seen under a named condition, too few times to say how often it happens.

One failed request in four after a 3 s pause is not noise to drop but a question to ask again:
repeat that condition until its failure rate is estimated (tens of tries, not four). A lead names
the experiment it came from, the condition (for the idle-gap probe, the pause before the failing
requests, read from the records, not from the probe's plan), and its counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from tracehound.experiments import Experiment
from tracehound.probe.records import is_cancelled

#: Tries under one condition that estimate its failure rate well enough to stop asking.
ENOUGH_TRIES = 20
#: Experiment kinds whose failures are not leads (the canary's are the service's health, not the case's).
NOT_LEADS = frozenset({"canary"})


@dataclass
class Lead:
    """A condition under which requests failed, with its counts so far."""

    exp: Experiment
    failures: int
    tries: int
    #: For requests after a pause: the pause (s) before the failing requests.
    gap_s: float | None = None
    #: The pause was a range this wide above ``gap_s`` (the experiment's ``gap_spread_s``).
    spread_s: float = 0.0

    @property
    def settled(self) -> bool:
        """Tried often enough to estimate its failure rate."""
        return self.tries >= ENOUGH_TRIES

    def describe(self) -> str:
        if self.gap_s is None:
            where = f"in {self.exp.name}"
        elif self.spread_s:
            where = f"after pauses of {self.gap_s:g}–{self.gap_s + self.spread_s:g} s"
        else:
            where = f"after {self.gap_s:g} s pauses"
        if not self.failures:  # a load that answered 2xx with minority bodies, not failures
            return f"2xx answers with a minority body shape {where}"
        return f"{self.failures} of {self.tries} requests {where} failed"


def leads(done: Sequence[Experiment]) -> list[Lead]:
    """Every condition that saw a failure, most failures first; pauses pooled over the experiments that made them."""
    out: list[Lead] = []
    gaps: dict[tuple[float, float], Lead] = {}
    for e in done:
        if e.kind in NOT_LEADS or e.run is None or not e.failures:
            continue
        if e.gaps:
            spread = e.gap_spread_s or 0.0
            for g, k, n in by_gap(e):
                lead = gaps.get((g, spread))
                if lead is None:
                    gaps[g, spread] = Lead(e, k, n, g, spread)
                else:
                    lead.failures += k
                    lead.tries += n
            continue
        out.append(Lead(e, e.failures, e.requests))
    out += [lead for lead in gaps.values() if lead.failures]
    out.sort(key=lambda lead: (-lead.failures, lead.tries))
    return out


def by_gap(e: Experiment) -> list[tuple[float, int, int]]:
    """``(gap, failures, tries)`` of an idle-gap experiment, per planned pause.

    The pause before each request is read from the records (its start minus the end of the same
    user's previous request) and matched to the nearest planned pause (the middle of its range,
    for pauses spread over one); a user's first request (no pause before it) is left out.
    """
    assert e.run is not None and e.gaps
    t = e.run.table
    if t.num_rows == 0:
        return []
    vu = t.column("vu").to_numpy(zero_copy_only=False).astype(np.int64)
    start = t.column("start_ns").to_numpy(zero_copy_only=False).astype(np.float64)
    total = np.nan_to_num(t.column("total_ms").to_numpy(zero_copy_only=False).astype(np.float64)) * 1e6
    failed = _failed(t)
    planned = np.array(sorted(set(e.gaps)), np.float64)
    middle = planned + (e.gap_spread_s or 0.0) / 2
    counts: dict[float, list[int]] = {float(g): [0, 0] for g in planned}
    order = np.lexsort((start, vu))
    prev_vu, prev_end = None, 0.0
    for i in order:
        if vu[i] == prev_vu:
            pause = (start[i] - prev_end) / 1e9
            g = float(planned[np.argmin(np.abs(middle - pause))])
            # A pause well short of the nearest planned one is the gap between steps, not a planned pause.
            if pause >= 0.6 * g:
                counts[g][1] += 1
                counts[g][0] += int(failed[i])
        prev_vu, prev_end = vu[i], start[i] + total[i]
    return [(g, k, n) for g, (k, n) in counts.items() if n]


def _failed(t: pa.Table) -> NDArray[np.bool_]:
    """Failed rows, as :func:`tracehound.probe.summarize` counts them."""
    status = t.column("status").to_numpy(zero_copy_only=False).astype(np.int32)
    err = t.column("error_kind").is_valid().to_numpy(zero_copy_only=False)
    cancelled = is_cancelled(t)
    return np.asarray(((status == 0) | (status >= 400) | err) & ~cancelled, bool)


__all__ = ["ENOUGH_TRIES", "Lead", "by_gap", "leads"]
