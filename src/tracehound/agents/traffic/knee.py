"""The knee: from every concurrency level run, where failures begin, as an estimate of a pool or worker count."""

from __future__ import annotations

import numpy as np

from tracehound.agents.traffic.context import Context, Section
from tracehound.analysis.knee import knee
from tracehound.analysis.stats import fisher_greater, relative_rise
from tracehound.diagnosis.signals import Signal, signal

#: Closed-model runs at one concurrency level each.
LEVEL_KINDS = ("baseline", "sweep", "confirm")


def failure_knee(ctx: Context) -> Section:
    f = ctx.f
    out = Section()
    infos = [r for r in f.runs if r.role == "target" and r.kind in LEVEL_KINDS and r.concurrency and r.rate is None
             and r.keepalive]
    if len({r.concurrency for r in infos}) < 3:
        return out
    ix = np.array([r.index for r in infos])
    n_runs = len(f.runs)
    fails = np.bincount(f.run, weights=ctx.fail & ctx.counted, minlength=n_runs)
    cnt = np.bincount(f.run, weights=ctx.counted, minlength=n_runs)
    if not fails[ix].any():
        return out
    k = knee([(int(r.concurrency or 0), int(fails[r.index]), int(cnt[r.index])) for r in infos])
    if k is None:
        out.test("failures_begin_at_fixed_concurrency")
        return out
    # Levels far apart (4, 12, 32) cannot tell a step at a fixed count from a slope: the signal is
    # tested only once the levels run bracket the knee closely (the plan's knee levels narrow it).
    narrow = k.failed - k.held <= max(2, k.held // 4)
    if narrow:
        out.test("failures_begin_at_fixed_concurrency")
    (kb, nb), (ka, na) = k.below, k.above
    levels = ", ".join(f"c={c}: {kk}/{n}" for c, kk, n in k.levels)
    limit = (f"a limit of about {k.held}" if k.failed - k.held == 1
             else f"a limit between {k.held} and {k.failed - 1}")
    detail = (f"failures begin between {k.held} and {k.failed} concurrent users: {limit} (pool or workers); "
              f"at or below {k.held} {kb}/{nb} failed, from {k.failed} up {ka}/{na} ({levels})")
    sigs: list[Signal] = []
    rates = [kk / n for c, kk, n in k.levels if c >= k.failed]
    # A step, not a slope: the first failing level already fails a good part of what the highest does.
    sharp = min(1.0, 2 * rates[0] / max(*rates, 1e-9))
    if narrow and k.monotone and ka >= 3 and fisher_greater(ka, na, kb, nb) < 0.01:
        rows = np.flatnonzero(ctx.fail & np.isin(f.run, [r.index for r in infos if (r.concurrency or 0) >= k.failed]))
        sigs.append(signal("failures_begin_at_fixed_concurrency", relative_rise(ka, na, kb, nb) * sharp, detail,
                           ctx.ex(rows), value=float(k.held)))
    out.add("Where failures begin", detail, sigs)
    return out


__all__ = ["LEVEL_KINDS", "failure_knee"]
