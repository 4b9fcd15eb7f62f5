"""Statements (pg_stat_statements): calls per probed request (N+1) and statement times (slow queries).

The statistics are cumulative, so they are read on heavy samples and differenced: each window
between two heavy samples holds some probed requests and some statement calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tracehound.agents.postgres.view import View, ms, short
from tracehound.agents.sampled import count_between
from tracehound.diagnosis.signals import Signal, signal
from tracehound.sources.postgres import PostgresReading, StatementStats
from tracehound.sources.sampler import Sample

#: Fewer probed requests than this in the load windows and calls per request are not estimated.
MIN_REQUESTS = 20


@dataclass
class StatementFigures:
    """One statement over the sampled windows."""

    key: str
    text: str
    calls: int
    total_ms: float
    max_ms: float
    rows: int
    per_request: float | None = None

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    def describe(self) -> str:
        per = f"{self.per_request:.1f} calls per request, " if self.per_request is not None else ""
        rows = f", {self.rows / self.calls:.0f} rows per call" if self.calls else ""
        return (f"{per}{self.calls} calls, mean {ms(self.mean_ms)}, max {ms(self.max_ms)}{rows}: "
                f"{short(self.text)}")


@dataclass(frozen=True)
class Window:
    """The statement calls between two heavy samples, and the probed requests that started in between."""

    t0: int
    t1: int
    requests: int
    #: key → the increase of each figure (max_ms: the window's worst, or a lower bound)
    delta: Mapping[str, StatementStats]

    @property
    def seconds(self) -> float:
        return max(1e-3, (self.t1 - self.t0) / 1e9)

    def calls(self, key: str) -> int:
        d = self.delta.get(key)
        return d.calls if d is not None else 0


def statements(v: View) -> None:
    """How often and how long each statement ran while the requests ran."""
    missing = v.info.statements_missing
    heavy = [x for x in v.ok if x.heavy and x.data.statements is not None]
    if missing or len(heavy) < 2:
        why = missing or "fewer than two statement snapshots"
        v.finding("Statements not measured",
                  f"{why}: calls per request (N+1) and statement times (slow queries) are not measured; "
                  "the other views still are")
        return
    texts: dict[str, str] = {}
    for x in heavy:
        texts.update(x.data.texts)
    windows = _windows(heavy, v.times)
    first = int(v.times[0]) if v.times.size else None
    # From the first request on, the windows after the last one included (late work is theirs too).
    scope = [w for w in windows if first is None or w.t1 > first] or windows
    if not any(w.delta for w in scope):
        _cumulative(v, heavy[-1], texts)
        return
    v.tested("pg:statement_slow")
    figs = _figures(scope, texts)
    sigs: list[Signal] = []
    parts: list[str] = []
    reqs = sum(w.requests for w in windows)
    if first is not None and reqs >= MIN_REQUESTS:
        v.tested("pg:statement_calls_per_request_high")
        _per_request(figs, windows, first)
        total = sum(f.per_request or 0 for f in figs.values())
        parts.append(f"{reqs} probed requests in the sampled windows; {total:.1f} statements per request in all")
        many = sorted((f for f in figs.values() if (f.per_request or 0) >= 10), key=lambda f: -(f.per_request or 0))
        if many:
            top = many[0]
            per = top.per_request or 0.0
            d = f"one statement ran {per:.0f} times per probed request ({top.calls} calls for {reqs} requests)"
            sigs.append(signal("pg:statement_calls_per_request_high", math.log(per / 5) / math.log(20), d,
                               [f.describe() for f in many[:5]], value=per))
    slow = sorted((f for f in figs.values() if f.calls and slowness(f) >= 0.15), key=lambda f: -slowness(f))
    if slow:
        top = slow[0]
        d = f"slowest statement: mean {ms(top.mean_ms)}, max {ms(top.max_ms)} over {top.calls} calls while sampling"
        sigs.append(signal("pg:statement_slow", slowness(top), d, [f.describe() for f in slow[:5]], value=top.mean_ms))
    busiest = sorted(figs.values(), key=lambda f: -f.total_ms)[:3]
    parts.append("most time: " + "; ".join(f.describe() for f in busiest))
    v.finding("Statements (pg_stat_statements)", "; ".join(parts), sigs,
              [e for s in sigs for e in s.exemplars][:5] or [f.describe() for f in busiest])


def _cumulative(v: View, last: Sample[PostgresReading], texts: dict[str, str]) -> None:
    """No calls while sampling: the statistics since their last reset, at half strength."""
    stats = last.data.statements or {}
    figs = [StatementFigures(k, texts.get(k, ""), s.calls, s.total_ms, s.max_ms, s.rows) for k, s in stats.items()]
    slow = sorted((f for f in figs if f.calls >= 3 and slowness(f) >= 0.15), key=lambda f: -slowness(f))
    sigs = []
    if slow:
        top = slow[0]
        d = (f"since the statistics were last reset (not measured during the experiments): mean {ms(top.mean_ms)}, "
             f"max {ms(top.max_ms)} over {top.calls} calls")
        sigs.append(signal("pg:statement_slow", 0.5 * slowness(top), d, [f.describe() for f in slow[:5]],
                           value=top.mean_ms))
    busiest = sorted(figs, key=lambda f: -f.total_ms)[:3]
    v.finding("Statements (pg_stat_statements, cumulative)",
              "no statement ran while sampling; cumulative figures: "
              + ("; ".join(f.describe() for f in busiest) or "none"), sigs)


_NONE = StatementStats(0, 0.0, 0.0, 0, 0)


def _windows(heavy: list[Sample[PostgresReading]], times: np.ndarray) -> list[Window]:
    """Statement deltas between consecutive heavy samples, with the probed requests each window holds."""
    out = []
    for a, b in zip(heavy, heavy[1:], strict=False):
        sa, sb = a.data.statements or {}, b.data.statements or {}
        delta: dict[str, StatementStats] = {}
        for k, vb in sb.items():
            va = sa.get(k)
            if va is None or vb.calls < va.calls:  # new, or statistics reset in between
                va = _NONE
            calls = vb.calls - va.calls
            if calls <= 0:
                continue
            total = max(0.0, vb.total_ms - va.total_ms)
            # The view keeps one max since its reset: a new one is this window's; else the mean bounds it.
            worst = vb.max_ms if vb.max_ms > va.max_ms else total / calls
            delta[k] = StatementStats(calls, total, worst, vb.rows - va.rows, vb.temp_blocks - va.temp_blocks)
        out.append(Window(a.t_ns, b.t_ns, count_between(times, a.t_ns, b.t_ns), delta))
    return out


def _figures(windows: list[Window], texts: dict[str, str]) -> dict[str, StatementFigures]:
    figs: dict[str, StatementFigures] = {}
    for w in windows:
        for k, d in w.delta.items():
            f = figs.get(k)
            if f is None:
                f = figs[k] = StatementFigures(k, texts.get(k, ""), 0, 0.0, 0.0, 0)
            f.calls += d.calls
            f.total_ms += d.total_ms
            f.max_ms = max(f.max_ms, d.max_ms)
            f.rows += d.rows
    return figs


def _per_request(figs: dict[str, StatementFigures], windows: list[Window], first_request_ns: int) -> None:
    """Calls per probed request, net of the rate each statement ran at before the first request.

    Everything from the first request on counts, the windows after the last one included: a
    service still working through requests its callers gave up on runs their statements late.
    A job that runs on its own (a poller, a cron) shows in the windows before the load, and that
    rate is taken off; without such windows nothing is, so start the sampler before the load.
    """
    before = [w for w in windows if w.t1 <= first_request_ns]
    since = [w for w in windows if w.t1 > first_request_ns]
    before_s = sum(w.seconds for w in before)
    since_s = sum(w.seconds for w in since)
    requests = max(1, sum(w.requests for w in since))
    for k, f in figs.items():
        rate = sum(w.calls(k) for w in before) / before_s if before_s >= 1.0 else 0.0
        calls = sum(w.calls(k) for w in since)
        f.per_request = max(0.0, calls - rate * since_s) / requests


def slowness(f: StatementFigures) -> float:
    """0 at a 50 ms mean, 1 at 2 s; a single slow call counts at 0.7 of its weight."""
    def scale(v: float) -> float:
        return 0.0 if v <= 50 else min(1.0, math.log10(v / 50) / math.log10(40))
    mean = scale(f.mean_ms) if f.calls >= 2 else 0.7 * scale(f.mean_ms)
    return max(mean, 0.7 * scale(f.max_ms))


__all__ = ["MIN_REQUESTS", "StatementFigures", "Window", "slowness", "statements"]
