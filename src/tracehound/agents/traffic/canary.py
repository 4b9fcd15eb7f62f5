"""The canaries: requests nothing else loads, sent while the service idles and while it is loaded.

Two canaries may run: one on a path nothing serves (a gateway in front may answer it alone) and
one on a cheap path the service itself serves (``served`` in its run's ``experiment`` block). Each
is compared with itself, idle against under load, and the stronger of the two speaks for the
service; the detail line says what each showed.

A canary request that timed out is a slow sample (its latency is the time it waited, at least the
timeout), not a missing one: a stalled service must not hide its stall by never answering. A test
whose samples could not reach its significance level even at the most extreme outcome is left
*untested*, never counted as absent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tracehound.agents.traffic.context import Context, Section, sample
from tracehound.analysis.frame import Frame, spread_pick
from tracehound.analysis.outcome import TIMEOUT
from tracehound.analysis.stats import fisher_greater, mann_whitney_greater, relative_rise
from tracehound.diagnosis.signals import Signal, signal

SLOWS = "unrelated_endpoint_slows_under_load"
FAILS = "unrelated_endpoint_fails_under_load"
#: The significance each test needs.
SLOW_P = 1e-3
FAIL_P = 0.01


#: A canary slower by less than this under load is not slowed (ms); by this much, fully.
SLOW_MIN_MS = 50.0
SLOW_FULL_MS = 300.0
#: A canary held this much past the idle ones is held by the service, not by CPU contention.
SLOW_HELD_MS = 100.0


def slow_testable(n_load: int, n_idle: int) -> bool:
    """Whether a rank test on these many samples can reach :data:`SLOW_P` at all (every load sample slowest)."""
    if n_load < 1 or n_idle < 1:
        return False
    return mann_whitney_greater(np.ones(n_load), np.zeros(n_idle))[1] < SLOW_P


def fail_testable(n_load: int, n_idle: int) -> bool:
    """Whether Fisher's test can reach :data:`FAIL_P` at all (every load request failed, no idle one)."""
    return n_load >= 2 and n_idle >= 1 and fisher_greater(n_load, n_load, 0, n_idle) < FAIL_P


@dataclass
class CanaryRead:
    """One canary's comparison, idle against under load."""

    name: str
    tested: list[str]
    signals: list[Signal]
    detail: str
    exemplars: list[str]


def canaries(ctx: Context) -> Section:
    out = Section()
    c = ctx.canary
    if c is None:
        return out
    served = np.array([r.served for r in c.runs], dtype=bool)[c.run]
    reads = [r for r in (_read(c, c.counted & ~served, "the path nothing serves"),
                         _read(c, c.counted & served, "a cheap path the service serves")) if r is not None]
    for r in reads:
        out.test(*r.tested)
    if not reads:
        return out
    best: dict[str, Signal] = {}
    for r in reads:
        for s in r.signals:
            if s.name not in best or s.strength > best[s.name].strength:
                best[s.name] = s
    detail = "; ".join(r.detail for r in reads)
    sigs = [signal(s.name, s.strength, detail, s.exemplars, value=s.value) for s in best.values()]
    shown = max(reads, key=lambda r: max((s.strength for s in r.signals), default=0.0))
    out.add("An unrelated request during the load", detail, sigs, shown.exemplars)
    return out


def _read(c: Frame, rows: np.ndarray, name: str) -> CanaryRead | None:
    """``rows``' canary compared idle against under load; None when it has no requests."""
    if not rows.any():
        return None
    during = np.array([r.during or "" for r in c.runs], dtype=object)[c.run]
    # From when each request was due, not when it could be sent (``total_ms`` is measured from
    # the arrival schedule's time): a user arriving then waits that long. A request that timed
    # out waited at least the timeout, and that is its latency here.
    lat = c.numeric("total_ms", np.float64, np.nan)
    timed_out = np.equal(c.error, TIMEOUT)
    sampled = rows & ((c.error < 0) | timed_out) & np.isfinite(lat)
    idle = rows & (during == "idle")
    load = rows & (during == "load")
    si, sl = sampled & idle, sampled & load
    ni, nl = int(idle.sum()), int(load.sum())
    if ni == 0 or nl == 0:
        return None
    tested: list[str] = []
    sigs: list[Signal] = []
    # The canary's timeout is ours, shorter than a user's: a timed-out request is slow, not failed.
    bad = rows & (((c.error >= 0) & ~timed_out) | (c.status >= 500))
    ki, kl = int((bad & idle).sum()), int((bad & load).sum())
    path = _path(c, rows)
    parts = [f"{name} ({path})"]
    ex: list[str] = []
    if int(si.sum()) and int(sl.sum()):
        li, ll = lat[si], lat[sl]
        p50_i, p50_l = float(np.median(li)), float(np.median(ll))
        ratio = p50_l / max(p50_i, 1e-3)
        delta = p50_l - p50_i
        t_i, t_l = int((timed_out & idle).sum()), int((timed_out & load).sum())
        parts.append(f"p50 {p50_i:.1f} ms idle, {p50_l:.1f} ms under load ({ratio:.1f}×) over "
                     f"{int(si.sum())} and {int(sl.sum())} samples"
                     + (f", {t_l} of them timed out" if t_l else "") + (f" ({t_i} idle)" if t_i else ""))
        ex = c.describe(spread_pick(np.flatnonzero(sl)[np.argsort(-ll)][:25]))
        if slow_testable(int(sl.sum()), int(si.sum())):
            tested.append(SLOWS)
            found = None
            if ratio >= 2 and delta >= SLOW_MIN_MS:
                _, p = mann_whitney_greater(sample(ll), sample(li))
                if p < SLOW_P:
                    # Full strength at a stall of SLOW_FULL_MS: a request nothing else loads that
                    # waits a tenth of a second longer is what CPU contention alone does (our own
                    # load shares the machine), a stalled server holds it for far longer.
                    found = min(1.0, math.log10(ratio)) * min(1.0, delta / SLOW_FULL_MS)
            if found is None:
                found = _held_share(li, ll, p50_i, parts)
            if found is not None:
                sigs.append(signal(SLOWS, found, "", ex, value=ratio))
        else:
            parts.append("too few samples to tell a slowdown")
    else:
        parts.append("no samples idle or under load")
    parts.append(f"failed {ki}/{ni} idle, {kl}/{nl} under load")
    if fail_testable(nl, ni):
        tested.append(FAILS)
        if kl >= 2 and fisher_greater(kl, nl, ki, ni) < FAIL_P:
            sigs.append(signal(FAILS, relative_rise(kl, nl, ki, ni), "",
                               c.describe(spread_pick(np.flatnonzero(bad & load))), value=kl / nl))
    return CanaryRead(name, tested, sigs, ": ".join([parts[0], ", ".join(parts[1:])]), ex)


def _held_share(li: np.ndarray, ll: np.ndarray, p50_i: float, parts: list[str]) -> float | None:
    """A stall that holds only some of the canaries: their share past the idle ones, tested as a share.

    A loop blocked now and then (a blocking call per request) holds the canaries that arrive
    during a block and lets the others through, so the ranks of all of them shift less than the
    held ones stand out. Held: past the idle canaries' 90th percentile by :data:`SLOW_HELD_MS`.
    """
    cut = float(np.percentile(li, 90)) + SLOW_HELD_MS
    kl, ki = int((ll > cut).sum()), int((li > cut).sum())
    if kl < 5 or fisher_greater(kl, ll.size, ki, li.size) >= SLOW_P:
        return None
    held = float(np.median(ll[ll > cut]))
    parts.append(f"{kl} of {ll.size} held past {cut:.0f} ms (median {held:.0f} ms) against {ki} of {li.size} idle")
    return min(1.0, 2 * kl / ll.size) * min(1.0, (held - p50_i) / SLOW_FULL_MS)


def _path(c: Frame, rows: np.ndarray) -> str:
    first = int(np.flatnonzero(rows)[0])
    got = c.strings("path", np.array([first]))
    return str(got[0]) if got and got[0] else "?"


__all__ = ["canaries", "fail_testable", "slow_testable"]
