"""Load dependence: failures and latency against the requests in flight, alone against together, throughput."""

from __future__ import annotations

import math

import numpy as np

from tracehound.agents.traffic.context import Context, Section, wilson_lo
from tracehound.analysis.load import LoadDependence, sequential, throughput
from tracehound.analysis.load import load_dependence as load_dependence_of
from tracehound.analysis.stats import fisher_greater, relative_rise
from tracehound.diagnosis.signals import Signal, signal


def load_dependence(ctx: Context) -> Section:
    f = ctx.f
    out = Section()
    use = ctx.counted & ctx.in_load_run
    ld = ctx.load
    sigs: list[Signal] = []
    notes: list[str] = []
    if ld.tested:
        notes.append("failure rate by requests in flight: " + ", ".join(
            f"{lv.label}: {lv.rate:.1%} of {lv.requests}" for lv in ld.levels))
        lat_line = ", ".join(f"{lv.label}: {lv.ok_p50_ms:.0f} ms" for lv in ld.levels if lv.ok_p50_ms is not None)
        if lat_line:
            notes.append("success p50 by in flight: " + lat_line)
        if ctx.dist.primary:
            out.test("failures_rise_with_concurrency")
        out.test("latency_rises_with_concurrency")
        if ld.failures_rise:
            (kb, nb), (ka, na) = ld.below, ld.above
            rows = np.flatnonzero(ctx.fail & use & (f.inflight >= (ld.knee or 0)))
            sigs.append(signal("failures_rise_with_concurrency", ld.rise,
                               f"{ka / na:.1%} of requests fail with {ld.knee} or more in flight against "
                               f"{kb / nb:.1%} below (knee at {ld.knee}; trend z={ld.z:.1f})", ctx.ex(rows),
                               value=float(ld.knee or 0)))
        lat, of, where = _latency_rise(ctx, use, ld)
        if lat.latency_rises:
            hi = lat.levels[-1]
            rows = np.flatnonzero(f.ok & use & where & (f.inflight >= hi.lo))
            sigs.append(signal("latency_rises_with_concurrency", _rise(lat),
                               f"success p50{of} grows {lat.latency_ratio:.1f}× (+{lat.latency_delta_ms:.0f} ms) "
                               f"from {lat.levels[0].label} to {hi.label} in flight "
                               f"(p50 ∝ inflight^{lat.latency_slope:.2f})", ctx.ex(rows), value=lat.latency_slope))
    _alone_against_together(ctx, out, sigs, notes)
    _pace(ctx, out, sigs, notes)
    _throughput(ctx, out, sigs, notes)
    if notes or sigs:
        out.add("Load dependence", "; ".join(notes), sigs)
    return out


def _latency_rise(ctx: Context, use: np.ndarray, ld: LoadDependence) -> tuple[LoadDependence, str, np.ndarray]:
    """The success latency's rise with load: over all requests, or within the flow step where it rises most.

    Under load a flow's slow steps fail and its cheap ones squeeze through, so the successes at the
    top level are mostly cheap steps: over every step, the median success may not rise at all
    while each step's does.
    """
    f = ctx.f
    every = np.ones(f.n, bool)
    best: tuple[LoadDependence, str, np.ndarray] = (ld, "", every)
    steps = f.codes("step")
    if steps is None:
        return best
    code, names = steps
    present = [int(j) for j in np.unique(code[use]) if j >= 0]
    if len(present) < 2:
        return best
    score = _rise(ld)
    for j in present:
        mine = code == j
        lj = load_dependence_of(np.where(use & mine, f.inflight, -1), ctx.fail, use & mine, f.ok, f.latency_ms)
        if lj.latency_rises and _rise(lj) > score:
            best, score = (lj, f" of {names[j]}", mine), _rise(lj)
    return best


def _rise(ld: LoadDependence) -> float:
    if not ld.latency_rises:
        return 0.0
    return min(1.0, max(ld.latency_slope or 0, 0)) * min(1.0, math.log(ld.latency_ratio or 1) / math.log(4))


def _alone_against_together(ctx: Context, out: Section, sigs: list[Signal], notes: list[str]) -> None:
    """One at a time against concurrently."""
    f = ctx.f
    use = ctx.counted & ctx.in_load_run
    alone = ctx.alone()
    seq_run = np.array([r.sequential for r in f.runs])[f.run]
    together = use & (f.inflight >= 2) & ~seq_run
    if alone.any():
        # Like with like in time: only as far into their runs as the requests sent alone went (a
        # failure that begins after a while must not pass for one that needs concurrency).
        together &= f.elapsed_s <= float(f.elapsed_s[alone].max()) + 0.5
    sq = sequential(ctx.fail, alone, together)
    if not (sq.tested and ctx.dist.primary):
        return
    out.test("failures_absent_when_sequential", "failures_present_when_sequential")
    (ka, na), (kt, nt) = sq.alone, sq.together
    notes.append(f"alone {ka}/{na} failed; with others in flight {kt}/{nt}")
    if nt >= 10:
        out.test("failures_fall_with_concurrency")
    if sq.falls:
        sigs.append(signal("failures_fall_with_concurrency", sq.falls_strength,
                           f"{ka} of {na} requests sent one at a time failed ({ka / na:.1%}), against {kt} of {nt} "
                           f"({kt / nt:.1%}) sent with others in flight: the service fails more when quiet",
                           ctx.ex(np.flatnonzero(alone & ctx.fail)), value=ka / na))
    if sq.absent:
        sigs.append(signal("failures_absent_when_sequential", sq.absent_strength,
                           f"{ka or 'none'} of {na} requests sent one at a time failed, against {kt} of {nt} "
                           f"({kt / max(nt, 1):.1%}) sent concurrently", ctx.ex(np.flatnonzero(alone)), value=ka / na))
    elif sq.present:
        rate_a = ka / na
        rate_t = kt / nt if nt else rate_a
        lo = wilson_lo(ka, na)
        s = min(1.0, lo / max(rate_a, rate_t, 1e-9)) if max(rate_a, rate_t) > 0 else 0.0
        sigs.append(signal("failures_present_when_sequential", s,
                           f"{ka} of {na} requests sent one at a time failed ({rate_a:.1%}; concurrently "
                           f"{rate_t:.1%})", ctx.ex(np.flatnonzero(alone & ctx.fail)), value=rate_a))


#: The back-to-back requests must come at least this many times faster than the slow ones.
PACE_RATIO = 3.0


def _pace(ctx: Context, out: Section, sigs: list[Signal], notes: list[str]) -> None:
    """One at a time both, back to back against slowly: a limit on the rate fails only the fast ones.

    The baseline sends its requests one after another as fast as they are answered; the low-rate
    probe a few a second. Failures among the first and (far fewer) among the second follow the
    pace of the requests, not their concurrency nor their number: what a request-rate limit does,
    and what a bad copy, a crash every so many requests or a stale connection does not.
    """
    f = ctx.f
    secs = _run_seconds(ctx)
    fast = [r.index for r in f.runs if r.kind == "baseline" and r.role == "target"]
    slow = [r.index for r in f.runs if r.kind == "low_rate" and r.role == "target"]
    if not fast or not slow:
        return
    in_fast, in_slow = np.isin(f.run, fast) & ctx.counted, np.isin(f.run, slow) & ctx.counted
    nf, ns = int(in_fast.sum()), int(in_slow.sum())
    kf, ks = int((in_fast & ctx.fail).sum()), int((in_slow & ctx.fail).sum())
    t_fast, t_slow = float(secs[fast].sum()), float(secs[slow].sum())
    if nf < 10 or ns < 10 or kf < 3 or t_fast <= 0 or t_slow <= 0:
        return
    pace_fast, pace_slow = nf / t_fast, ns / t_slow
    if pace_fast < PACE_RATIO * pace_slow:
        return
    out.test("failures_follow_request_rate")
    notes.append(f"one at a time, {pace_fast:.0f}/s: {kf}/{nf} failed; {pace_slow:.1f}/s: {ks}/{ns}")
    if kf / nf >= 3 * ks / ns and fisher_greater(kf, nf, ks, ns) < 0.01:
        sigs.append(signal("failures_follow_request_rate", relative_rise(kf, nf, ks, ns),
                           f"requests sent one at a time failed {kf} of {nf} ({kf / nf:.0%}) back to back at "
                           f"{pace_fast:.0f}/s, and {ks} of {ns} ({ks / ns:.0%}) at {pace_slow:.1f}/s: the failures "
                           "follow the pace of the requests", ctx.ex(np.flatnonzero(in_fast & ctx.fail)),
                           value=pace_fast / pace_slow))


def _throughput(ctx: Context, out: Section, sigs: list[Signal], notes: list[str]) -> None:
    """More concurrent users that bring no more successes per second."""
    f = ctx.f
    infos = [r for r in f.runs if r.kind in ("baseline", "sweep", "confirm") and r.concurrency]
    if len({r.concurrency for r in infos}) < 2:
        return
    ix = np.array([r.index for r in infos])
    n_runs = len(f.runs)
    cnt = np.bincount(f.run, weights=ctx.counted, minlength=n_runs)
    ok = np.bincount(f.run, weights=f.ok, minlength=n_runs)
    secs = _run_seconds(ctx)
    tp = throughput(np.array([f.runs[i].concurrency for i in ix]), ok[ix], secs[ix], cnt[ix])
    if not tp.tested:
        return
    alone_ok = ctx.alone() & f.ok & np.isfinite(f.latency_ms)
    base_p50 = float(np.median(f.latency_ms[alone_ok])) if alone_ok.sum() >= 5 else None
    notes.append("successes per second by concurrency: " + ", ".join(f"c={p.concurrency}: {p.ok_per_s:.1f}/s"
                                                                      for p in tp.points))
    # A service answering in a few ms saturates this machine's CPU, not itself: not a finding.
    if base_p50 is None or base_p50 < 5:
        return
    out.test("throughput_flat_under_concurrency")
    if tp.gain <= 1.5 and tp.flatness >= 0.5:
        sigs.append(signal("throughput_flat_under_concurrency", tp.flatness,
                           f"{tp.concurrency_ratio:.0f}× the concurrency brought {tp.gain:.2f}× the successes per "
                           f"second ({tp.points[0].ok_per_s:.1f}/s at c={tp.points[0].concurrency}, "
                           f"{tp.points[-1].ok_per_s:.1f}/s at c={tp.points[-1].concurrency})",
                           [f"{r.label or 'run'} (c={r.concurrency}): {ok[r.index]:.0f} successes in "
                            f"{secs[r.index]:.1f} s = {ok[r.index] / max(secs[r.index], 1e-9):.1f}/s" for r in infos],
                           value=tp.gain))


def _run_seconds(ctx: Context) -> np.ndarray:
    """Each run's span, from its first start to its last end, in seconds."""
    f = ctx.f
    out = np.zeros(len(f.runs))
    if f.n == 0:
        return out
    o = f.order
    r = f.run[o]
    bounds = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    last = np.maximum.reduceat(f.end_ns[o], bounds)
    out[r[bounds]] = np.maximum(last - f.run_start_ns[r[bounds]], 0) / 1e9
    return out


__all__ = ["load_dependence"]
