"""The metrics analysis: the service's own series lined up with the recorded requests.

Each interval between two scrapes either overlapped failing requests or not, and each
``metrics:`` signal says what the service's own figures did while its requests failed (the pool
pinned at its limit, checkout waits growing, the loop lagging, a core saturated), or afterwards
(connections still checked out after the load, memory that kept growing).
"""

from __future__ import annotations

import math

import numpy as np

from tracehound.agents.metrics.pool import pool
from tracehound.agents.metrics.timeline import Timeline
from tracehound.agents.metrics.view import MetricsAnalysis, View, secs
from tracehound.agents.sampled import aligned
from tracehound.analysis.stats import spearman
from tracehound.diagnosis.signals import Signal, signal
from tracehound.sources.metrics import MetricsInfo, Scrape
from tracehound.sources.sampler import Recording, clock

#: Loop lag below this is scheduling noise (seconds).
MIN_LAG_S = 0.05
#: Failing intervals lagging less than this share of the calm loaded ones' median are the quiet part of the load.
LAG_QUIET_SHARE = 0.25
#: A process using this share of a core is saturated (a Python process holds one core through the GIL).
CPU_BUSY = 0.85
#: Memory growth over the run that counts: relative and absolute.
MEMORY_GROWTH = 0.2
MEMORY_GROWTH_BYTES = 20 * 2**20


def analyze_metrics(rec: Recording[Scrape, MetricsInfo], timeline: Timeline) -> MetricsAnalysis:
    """Findings and ``metrics:`` signals from a recording of scrapes and the probed requests."""
    ok = rec.ok_samples
    if not ok:
        out = MetricsAnalysis()
        out.detail = f"no scrape could be read: {rec.first_error() or rec.crash or 'nothing sampled'}"
        return out
    v = View(rec, ok, timeline)
    pool(v)
    loop(v)
    process(v)
    roles = sorted(rec.info.roles)
    span = (ok[-1].t_ns - ok[0].t_ns) / 1e9
    inside = int(v.loaded.sum())
    v.out.detail = (f"{len(rec.samples)} scrapes of {rec.info.where} over {span:.1f} s "
                    f"({aligned(inside, v.window)}; {int(v.bad.sum())} interval(s) with failing requests); "
                    f"read: {', '.join(roles) or 'no series tracehound knows'}; {len(v.out.signals)} signal(s)")
    if not roles:
        v.finding("No known series", f"the endpoint serves {rec.info.families} metric families, none of them a "
                  "database pool, event-loop lag, process CPU or memory that tracehound recognises", [])
    return v.out


def loop(v: View) -> None:
    """The event loop's lag in the intervals with failing requests."""
    s = v.s
    if not (s.has("loop_lag") or s.has("loop_lag_hist")):
        return
    gauge = s.value("loop_lag")[1:] if s.has("loop_lag") else np.full(v.t1.size, np.nan)
    mean = s.interval_mean("loop_lag_hist") if s.has("loop_lag_hist") else np.full(v.t1.size, np.nan)
    lag = np.fmax(gauge, mean)
    names = v.named("loop_lag", "loop_lag_hist")
    sigs: list[Signal] = []
    shown = lag[v.loaded] if v.loaded.any() else lag
    worst = float(np.nanmax(shown)) if np.isfinite(shown).any() else 0.0
    parts = [f"event-loop lag up to {secs(worst)} while requests ran ({names})"]
    if v.enough_failures and np.isfinite(lag[v.bad]).any():
        v.tested("metrics:loop_lag_with_failures")
        high = np.nan_to_num(lag) >= MIN_LAG_S
        share = float(high[v.bad].mean())
        calm = float(np.nanmedian(lag[v.calm])) if np.isfinite(lag[v.calm]).any() else 0.0
        bad_lag = float(np.nanmedian(lag[v.bad]))
        # A blocked loop delays every request, so calm loaded intervals lag too, and a scrape that
        # waited behind a stall reports it in whichever interval it lands: the failing intervals
        # must lag, and must not be a far quieter part of the load (a quarter of the calm median;
        # half was too close: 471 ms against 919 ms calm on a run where the loop was the cause).
        if share >= 0.4 and bad_lag >= max(MIN_LAG_S, LAG_QUIET_SHARE * calm):
            strength = min(1.0, share * max(0.5, min(1.0, math.log10(bad_lag / 0.01) / 1.5)))
            d = (f"the event loop lagged {secs(bad_lag)} (median) in the intervals with failing requests, at least "
                 f"{secs(MIN_LAG_S)} in {share:.0%} of them; {secs(calm)} in calm loaded ones")
            ex = [f"lag {secs(lag[i])} at {v.when(i)}" for i in np.flatnonzero(high & v.bad)[:5]]
            sigs.append(signal("metrics:loop_lag_with_failures", strength, d, ex, value=bad_lag))
            parts.append(d)
    v.finding("Event loop (metrics)", "; ".join(parts), sigs)


def process(v: View) -> None:
    """The process's CPU in the intervals with failing requests, and its memory over the run."""
    s = v.s
    sigs: list[Signal] = []
    parts: list[str] = []
    if s.has("cpu"):
        dt = np.diff(s.t) / 1e9
        with np.errstate(invalid="ignore", divide="ignore"):
            cores = np.where(dt > 0, s.increase("cpu") / dt, np.nan)
        if v.loaded.any() and np.isfinite(cores[v.loaded]).any():
            parts.append(f"CPU up to {np.nanmax(cores[v.loaded]):.2f} core(s) while requests ran")
        if v.enough_failures and np.isfinite(cores[v.bad]).any():
            v.tested("metrics:cpu_saturated")
            busy = float(np.nanmedian(cores[v.bad]))
            if busy >= CPU_BUSY:
                d = f"the process used {busy:.2f} core(s) (median) in the intervals with failing requests"
                ex = [f"{cores[i]:.2f} cores at {v.when(i)}" for i in np.flatnonzero(v.bad & (cores >= CPU_BUSY))[:5]]
                sigs.append(signal("metrics:cpu_saturated", min(1.0, 0.4 + (busy - CPU_BUSY) * 2), d, ex, value=busy))
    if s.has("rss"):
        _memory(v, sigs, parts)
    if parts or sigs:
        v.finding("Process (metrics)", "; ".join(parts), sigs)


def _memory(v: View, sigs: list[Signal], parts: list[str]) -> None:
    rss = v.s.value("rss")
    t = v.s.t
    w = v.window
    inside = np.isfinite(rss) & ((t >= w[0]) & (t <= w[1] + 1_000_000_000) if w else True)
    if inside.sum() < 6 or (t[inside][-1] - t[inside][0]) < 5e9:
        return
    v.tested("metrics:memory_grows")
    vals, tt = rss[inside], t[inside]
    third = max(2, vals.size // 3)
    first, last = float(np.median(vals[:third])), float(np.median(vals[-third:]))
    grow = last - first
    rho, p = spearman(tt.astype(np.float64), vals)
    parts.append(f"resident memory {first / 2**20:.0f} → {last / 2**20:.0f} MiB over the load")
    if grow >= MEMORY_GROWTH_BYTES and grow >= MEMORY_GROWTH * first and rho >= 0.7 and p < 0.01:
        d = (f"resident memory grew from {first / 2**20:.0f} to {last / 2**20:.0f} MiB ({grow / first:.0%}) over "
             f"{(tt[-1] - tt[0]) / 1e9:.0f} s, steadily (Spearman {rho:.2f})")
        sigs.append(signal("metrics:memory_grows", min(1.0, 0.3 + grow / first), d,
                           [f"{vals[i] / 2**20:.0f} MiB at {clock(int(tt[i]))}"
                            for i in np.linspace(0, vals.size - 1, 5).astype(int)],
                           value=grow / first))


__all__ = ["CPU_BUSY", "LAG_QUIET_SHARE", "MIN_LAG_S", "analyze_metrics"]
