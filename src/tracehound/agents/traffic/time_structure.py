"""Time structure: failures that come periodically, in bursts, evenly, after a while, more and more, or that stay."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tracehound.agents.traffic.context import Context, Section, is_shaped
from tracehound.analysis.frame import RunInfo, dense
from tracehound.analysis.periodicity import periodicity
from tracehound.analysis.stats import fisher_greater, relative_rise, saturate
from tracehound.analysis.temporal import Dispersion, Onset, Trend, dispersion, onset, trend
from tracehound.diagnosis.signals import Signal, signal

#: A periodicity or order analysis looks at most at this many requests per order.
ORDER_CAP = 500_000


@dataclass(frozen=True)
class _Onset:
    run: RunInfo
    clock: str
    onset: Onset
    rows: np.ndarray


@dataclass(frozen=True)
class _Trend:
    run: RunInfo
    trend: Trend
    rows: np.ndarray


def time_structure(ctx: Context) -> Section:
    f = ctx.f
    out = Section()
    sigs: list[Signal] = []
    notes: list[str] = []
    use = ctx.counted & ctx.in_time_run
    o = f.order[use[f.order]]
    failed_o = ctx.fail[o]
    if failed_o.sum() < 5 or o.size < 50:
        return out
    disp = dispersion(failed_o, f.run[o])
    # Periodicity: in send order, per virtual user, per connection.
    orders = _orders(ctx, use)
    kinds, _ = ctx.request_groups()
    group = f.run.astype(np.int64) * 4096 + (np.maximum(kinds, -1) + 1 if kinds is not None else 0)
    per = periodicity(ctx.fail, orders, group=group, kinds=kinds)
    out.test("failures_periodic")
    rising = ctx.load.failures_rise and ctx.load.rise >= 0.5
    periodic = per.periodic and not (per.route == "regular" and rising)
    if per.period:
        notes.append(f"autocorrelation of failures by lag ({per.order} order): "
                     + ", ".join(f"{k + 1}:{r:+.2f}" for k, r in enumerate(per.acf[:8]))
                     + (f"; window regularity {per.regularity:.2f}" if per.route == "regular" else ""))
    # A period makes failures even, bursts make them uneven: over-dispersion in send order rules a period out.
    periodic = periodic and not disp.bursty
    if periodic:
        rows = orders[per.order][0]
        rows = rows[ctx.fail[rows]][:50]
        sigs.append(signal("failures_periodic", per.strength,
                           f"about every {_ordinal(per.period)} request fails ({per.order} order: "
                           + (f"r_{per.period}={per.r:+.2f}, r_1={per.r1:+.2f}" if per.route == "lag"
                              else f"windows hold {per.regularity:.2f}× the variance of independent failures")
                           + f", p={per.p:.1e})", ctx.ex(rows), value=float(per.period)))
    if disp.tested:
        out.test("failures_bursty", "failures_uniform")
        w = disp.worst
        if w is not None:
            notes.append(f"dispersion of failures over windows of {w.window} requests: {w.index:.2f}× binomial "
                         f"(p={w.p_over:.1e})")
        if disp.bursty and w is not None:
            rows = o[failed_o][: 5 * 50]
            sigs.append(signal("failures_bursty", min(1.0, math.log(w.index) / math.log(5)),
                               f"failures come in bursts: windows of {w.window} requests vary {w.index:.1f}× more "
                               f"than independent failures would (p={w.p_over:.1e})", ctx.ex(rows), value=w.index))
    onsets, trends = _onsets_and_trends(ctx, out, sigs, notes, disp)
    if disp.tested and disp.uniform and not periodic and not onsets and not trends and not ctx.load.failures_rise:
        rows = o[failed_o]
        sigs.append(signal("failures_uniform", saturate(disp.failures, 10),
                           f"{disp.failures} failures spread evenly over {disp.requests} requests (no window size "
                           "shows bursts; no onset, trend or load dependence)", ctx.ex(rows),
                           value=disp.failures / max(disp.requests, 1)))
    _persistence(ctx, out, sigs, notes)
    if sigs or notes:
        out.add("Time structure", "; ".join(notes), sigs)
    return out


def _orders(ctx: Context, use: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Rows in send order within runs, and within each (run, VU) and (run, connection), capped."""
    f = ctx.f
    o = f.order[use[f.order]]
    out = {"send": (o[:ORDER_CAP], f.run[o][:ORDER_CAP].astype(np.int64))}
    for name, ids in (("vu", f.vu), ("connection", f.conn_id)):
        rows = o[ids[o] >= 0]
        if rows.size < 50:
            continue
        idr = ids[rows].astype(np.int64)
        lo = int(idr.min())
        span = int(idr.max()) - lo + 1
        n_ids = int((np.bincount(idr - lo) > 0).sum())
        # Sequences of one or two requests say nothing about order.
        if n_ids < 2 or n_ids >= rows.size // 3:
            continue
        key = f.run[rows].astype(np.int64) * span + (idr - lo)
        key = key.astype(np.int16) if key.max() < 32768 else dense(key)
        # rows are in (run, time) order already: a stable sort by the key keeps time order inside.
        srt = np.argsort(key, kind="stable")[:ORDER_CAP]
        out[name] = (rows[srt], key[srt].astype(np.int64))
    return out


def _onsets_and_trends(ctx: Context, out: Section, sigs: list[Signal], notes: list[str],
                       disp: Dispersion | None = None) -> tuple[list[_Onset], list[_Trend]]:
    f = ctx.f
    onsets: list[_Onset] = []
    trends: list[_Trend] = []
    testable = 0
    tested_any = False
    for info in f.runs:
        if is_shaped(info):
            continue
        rows = np.flatnonzero((f.run == info.index) & ctx.counted)
        if rows.size < 30:
            continue
        span = float(f.elapsed_s[rows].max())
        if span < 3:
            continue
        tested_any = True
        fail = ctx.fail[rows]
        if fail.sum() < 5:
            continue
        testable += 1
        phi = disp.index_of(info.index) if disp is not None else 1.0
        best: tuple[str, Onset] | None = None
        for clock, t in (("since the run began", f.elapsed_s[rows]),
                         ("since each user's first request", f.vu_age_s[rows])):
            if clock.startswith("since each") and not np.isfinite(t).all():
                continue
            on = onset(t, fail, phi)
            if on is not None and on.is_onset and (best is None or on.p < best[1].p):
                best = (clock, on)
        if best is not None:
            onsets.append(_Onset(info, best[0], best[1], rows))
        tr = trend(f.elapsed_s[rows], fail, overdispersion=phi)
        if tr is not None and tr.rising:
            trends.append(_Trend(info, tr, rows))
    if tested_any:
        out.test("failures_start_after_elapsed_time", "failures_grow_over_time")
    if onsets:
        consistency = len(onsets) / max(testable, 1)
        top = max(onsets, key=lambda x: x.onset.effect)
        on, rows = top.onset, top.rows
        ats = [x.onset.at_s for x in onsets]
        clock_s = f.elapsed_s if top.clock.startswith("since the run") else f.vu_age_s
        after_rows = rows[ctx.fail[rows] & (clock_s[rows] >= on.at_s)]
        sigs.append(signal("failures_start_after_elapsed_time", on.effect * consistency,
                           f"no failures for the first {on.at_s:.1f} s {top.clock} ({on.before[0]}/{on.before[1]} "
                           f"failed), then {on.rate_after:.0%} ({on.after[0]}/{on.after[1]}); seen in {len(onsets)} of "
                           f"{testable} runs with failures (onsets at {', '.join(f'{a:.1f}' for a in ats)} s)",
                           ctx.ex(after_rows), value=round(float(np.median(ats)), 2)))
        _fresh_sessions(ctx, on.at_s, out, sigs, notes)
    if trends:
        best_trend = max(trends, key=lambda x: x.trend.effect)
        tr, rows = best_trend.trend, best_trend.rows
        if tr.p * max(testable, 1) < 1e-3:
            sigs.append(signal("failures_grow_over_time", tr.effect,
                               f"the failure rate climbs over {best_trend.run.label or 'the run'}: "
                               f"{tr.first[0] / max(tr.first[1], 1):.0%} in the first third, "
                               f"{tr.last[0] / max(tr.last[1], 1):.0%} in the last (trend z={tr.z:.1f}); by tenths: "
                               + " ".join(f"{r:.0%}" for r in tr.rates), ctx.ex(rows[ctx.fail[rows]][-20:]),
                               value=tr.effect))
    return onsets, trends


def _fresh_sessions(ctx: Context, age_s: float, out: Section, sigs: list[Signal], notes: list[str]) -> None:
    """Once failures have begun, do virtual users that started later (new sessions, fresh logins) succeed?

    A failure tied to the age of a session (expiring credentials) spares young sessions; one tied
    to the service's own state (a leak, a dry pool) fails them as well.
    """
    f = ctx.f
    failing_old = ctx.fail & ctx.in_time_run & (f.vu_age_s >= age_s)
    if not failing_old.any():
        return
    since = int(f.start_ns[failing_old].min())
    later = ctx.counted & ctx.in_time_run & (f.start_ns > since) & (f.vu >= 0)
    young = later & (f.vu_age_s < 0.8 * age_s)
    old = later & (f.vu_age_s >= age_s)
    ky, ny = int((young & ctx.fail).sum()), int(young.sum())
    ko, no = int((old & ctx.fail).sum()), int(old.sum())
    if ny < 5 or no < 5:
        return
    out.test("failures_vanish_with_fresh_login")
    notes.append(f"after failures began, sessions younger than {0.8 * age_s:.1f} s failed {ky}/{ny}, older ones "
                 f"{ko}/{no}")
    if ko >= 3 and fisher_greater(ko, no, ky, ny) < 0.01:
        s = relative_rise(ko, no, ky, ny)
        if s > 0:
            sigs.append(signal("failures_vanish_with_fresh_login", s,
                               f"once failures had begun, virtual users with a fresh session (younger than "
                               f"{0.8 * age_s:.1f} s) failed {ky} of {ny} requests, against {ko} of {no} for older "
                               "sessions: the failure follows the session's age", ctx.ex(np.flatnonzero(young)),
                               value=ky / ny))


def _persistence(ctx: Context, out: Section, sigs: list[Signal], notes: list[str]) -> None:
    """Failures that stay once the load has gone: low-load runs after a failing loaded run fail from their start."""
    f = ctx.f
    by_start = sorted(f.runs, key=lambda r: int(f.run_start_ns[r.index]))
    fails = np.bincount(f.run, weights=ctx.fail, minlength=len(f.runs))
    cnt = np.bincount(f.run, weights=ctx.counted, minlength=len(f.runs))

    def low(r: RunInfo) -> bool:
        return r.kind in ("baseline", "low_rate", "idle_gap") or (r.concurrency is not None and r.concurrency <= 2)

    def loaded(r: RunInfo) -> bool:
        return r.concurrency is not None and r.concurrency >= 4 and not is_shaped(r)

    first_load = next((i for i, r in enumerate(by_start) if loaded(r) and fails[r.index] >= 3), None)
    if first_load is None:
        return
    pre = [r for r in by_start[:first_load] if low(r)]
    post = [r for r in by_start[first_load + 1:] if low(r)]
    k_pre, n_pre = int(sum(fails[r.index] for r in pre)), int(sum(cnt[r.index] for r in pre))
    if n_pre < 10 or not post:
        return
    # The first part of each later low-load run: failures there were not caused by that run.
    early = np.zeros(f.n, bool)
    for r in post:
        rows = (f.run == r.index) & ctx.counted
        t = f.elapsed_s
        span = float(t[rows].max()) if rows.any() else 0.0
        early |= rows & (t <= max(3.0, 0.3 * span))
    k_post, n_post = int((early & ctx.fail).sum()), int(early.sum())
    if n_post < 5:
        return
    out.test("failures_persist_after_load")
    notes.append(f"low load before the first failing load: {k_pre}/{n_pre} failed; early in low-load runs after "
                 f"it: {k_post}/{n_post}")
    if k_post >= 2 and fisher_greater(k_post, n_post, k_pre, n_pre) < 0.01:
        s = relative_rise(k_post, n_post, k_pre, n_pre)
        if s > 0:
            sigs.append(signal("failures_persist_after_load", s,
                               f"before the load {k_pre} of {n_pre} low-load requests failed; after it, {k_post} of "
                               f"{n_post} ({k_post / n_post:.0%}) failed from the start of the low-load runs",
                               ctx.ex(np.flatnonzero(early & ctx.fail)), value=k_post / n_post))


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


__all__ = ["ORDER_CAP", "time_structure"]
