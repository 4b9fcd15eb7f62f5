"""The service's database connection pool, from its own metrics: pinned at its limit, waits, timeouts, leaks."""

from __future__ import annotations

import math

import numpy as np

from tracehound.agents.metrics.view import View, fmt, secs
from tracehound.diagnosis.signals import Signal, signal
from tracehound.sources.sampler import clock

#: Waits for a pooled connection below this are noise (seconds).
MIN_WAIT_S = 0.05


def pool(v: View) -> None:
    s = v.s
    if not any(s.has(r) for r in ("pool_in_use", "pool_wait", "pool_waiting", "pool_timeouts", "pool_wait_now")):
        return
    sigs: list[Signal] = []
    parts: list[str] = []
    in_use = s.value("pool_in_use")
    cap = s.value("pool_max") if s.has("pool_max") else s.value("pool_size")
    waiting = s.value("pool_waiting")
    timeouts = s.increase("pool_timeouts") if s.has("pool_timeouts") else np.zeros(v.t1.size)
    if s.has("pool_in_use"):
        peak = float(np.nanmax(in_use)) if np.isfinite(in_use).any() else 0.0
        limit = float(np.nanmax(cap)) if np.isfinite(cap).any() else None
        parts.append(f"checked out up to {peak:.0f}" + (f" of {limit:.0f}" if limit else "")
                     + f" ({v.named('pool_in_use')})")
        _saturation(v, in_use[1:], cap[1:], waiting[1:], timeouts, limit, sigs)
        _after_load(v, in_use, sigs, parts)
    if s.has("pool_wait") or s.has("pool_wait_now") or s.has("pool_waiting"):
        _waits(v, sigs, parts)
    if s.has("pool_timeouts") and v.loaded.any():
        v.tested("metrics:pool_checkout_timeouts")
        n = int(np.nansum(timeouts[v.loaded]))
        parts.append(f"{n} checkout timeout(s) while requests ran ({v.named('pool_timeouts')})")
        if n:
            ex = [f"+{int(timeouts[i])} checkout timeout(s) by {v.when(i)}" for i in np.flatnonzero(timeouts > 0)[:5]]
            sigs.append(signal("metrics:pool_checkout_timeouts", 0.5 + math.log10(1 + n) / 4,
                               f"the pool counted {n} checkout(s) that gave up waiting for a connection", ex, value=n))
    if s.has("pool_invalidations") and v.loaded.any():
        v.tested("metrics:pool_invalidations")
        inv = s.increase("pool_invalidations")
        n = int(np.nansum(inv))
        if n:
            ex = [f"+{int(inv[i])} invalidated by {clock(int(v.t1[i]))}" for i in np.flatnonzero(inv > 0)[:5]]
            sigs.append(signal("metrics:pool_invalidations", 0.4 + math.log10(1 + n) / 3,
                               f"the pool discarded {n} connection(s) as broken ({v.named('pool_invalidations')})", ex,
                               value=n))
    v.finding("Database connection pool (metrics)", "; ".join(parts), sigs)


def _saturation(v: View, in_use: np.ndarray, cap: np.ndarray, waiting: np.ndarray, timeouts: np.ndarray,
                limit: float | None, sigs: list[Signal]) -> None:
    """All connections out (or callers queued, or timeouts) in the intervals where requests failed."""
    if not v.enough_failures:
        return
    v.tested("metrics:pool_saturated_with_failures")
    if limit:
        full = in_use >= np.where(np.isfinite(cap), cap, limit) - 1e-9
    else:  # no stated limit: pinned at its peak, where it sits in many loaded intervals, is a cap
        peak = np.nanmax(in_use)
        full = (in_use >= peak - 1e-9) & (peak >= 1)
        if not np.nansum(full & v.loaded) >= max(2, 0.3 * v.loaded.sum()):
            full = np.zeros_like(full)
    sat = full | (np.nan_to_num(waiting) > 0) | (timeouts > 0)
    bad_share = float(sat[v.bad].mean())
    calm_share = float(sat[v.calm].mean()) if v.calm.any() else 0.0
    if bad_share < 0.5:
        return
    strength = max(0.3, bad_share - 0.5 * calm_share)
    rows = np.flatnonzero(sat & v.bad)
    d = (f"the pool was full, had callers waiting or timed out in {int(sat[v.bad].sum())} of {int(v.bad.sum())} "
         f"intervals with failing requests ({bad_share:.0%}; {calm_share:.0%} of the calm loaded ones)")
    ex = [f"{fmt(in_use[i])}" + (f"/{fmt(cap[i] if np.isfinite(cap[i]) else limit)}" if limit else "")
          + f" checked out, {fmt(waiting[i])} waiting at {v.when(i)}" for i in rows[:5]]
    sigs.append(signal("metrics:pool_saturated_with_failures", strength, d, ex, value=bad_share))


def _waits(v: View, sigs: list[Signal], parts: list[str]) -> None:
    s = v.s
    if s.has("pool_wait"):
        wait = s.interval_mean("pool_wait")
        names = v.named("pool_wait")
    else:
        wait = s.value("pool_wait_now")[1:] if s.has("pool_wait_now") else np.full(v.t1.size, np.nan)
        names = v.named("pool_wait_now")
    waiting = s.value("pool_waiting")[1:]
    seen_bad = np.isfinite(wait) & v.bad
    if v.loaded.any() and np.isfinite(wait).any():
        parts.append(f"mean checkout wait up to {secs(float(np.nanmax(wait)))} ({names})")
    if not v.enough_failures or not (seen_bad.any() or np.isfinite(waiting[v.bad]).any()):
        return
    v.tested("metrics:pool_wait_grows_with_failures")
    bad_wait = float(np.nanmedian(wait[seen_bad])) if seen_bad.any() else 0.0
    calm = wait[np.isfinite(wait) & ~v.bad]
    calm_wait = float(np.nanmedian(calm)) if calm.size else 0.0
    queued = float(np.nanmean(np.nan_to_num(waiting[v.bad]) > 0)) if np.isfinite(waiting[v.bad]).any() else 0.0
    grew = bad_wait >= MIN_WAIT_S and bad_wait >= 3 * calm_wait
    if not grew and queued < 0.5:
        return
    strength = max(min(1.0, max(0.3, math.log10(max(bad_wait, 1e-3) / 0.01) / 2)) if grew else 0.0, 0.6 * queued)
    d = (f"getting a pooled connection took {secs(bad_wait)} (median of the intervals with failing requests) against "
         f"{secs(calm_wait)} otherwise"
         + (f"; callers queued for a connection in {queued:.0%} of those intervals" if queued else ""))
    rows = np.flatnonzero(v.bad & (np.nan_to_num(wait) >= MIN_WAIT_S) | v.bad & (np.nan_to_num(waiting) > 0))
    ex = [f"mean wait {secs(wait[i]) if np.isfinite(wait[i]) else '?'}, {fmt(waiting[i])} waiting at {v.when(i)}"
          for i in rows[:5]]
    sigs.append(signal("metrics:pool_wait_grows_with_failures", strength, d, ex, value=bad_wait))


def _after_load(v: View, in_use: np.ndarray, sigs: list[Signal], parts: list[str]) -> None:
    """Connections still out a while after the last request ended: never given back."""
    if v.window is None:
        return
    t = v.s.t
    before = in_use[t < v.window[0]]
    after = np.flatnonzero(t > v.window[1] + 500_000_000)
    if after.size == 0 or not np.isfinite(in_use[after]).any():
        return
    v.tested("metrics:pool_checked_out_after_load")
    rest = float(np.nanmin(before)) if before.size and np.isfinite(before).any() else 0.0
    left = float(np.nanmin(in_use[after]))
    if left - rest >= 1:
        d = (f"{left:.0f} connection(s) stayed checked out {((t[after[-1]] - v.window[1]) / 1e9):.1f} s after the "
             f"last request ended ({rest:.0f} before the load)")
        parts.append(d)
        sigs.append(signal("metrics:pool_checked_out_after_load", min(1.0, 0.4 + 0.2 * (left - rest)), d,
                           [f"{fmt(in_use[i])} checked out at {clock(int(t[i]))}, after the load" for i in after[:5]],
                           value=left - rest))


__all__ = ["MIN_WAIT_S", "pool"]
