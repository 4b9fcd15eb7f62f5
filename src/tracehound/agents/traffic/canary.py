"""The canary: a request nothing else loads, sent while the service idles and while it is loaded."""

from __future__ import annotations

import math

import numpy as np

from tracehound.agents.traffic.context import Context, Section, sample
from tracehound.analysis.frame import spread_pick
from tracehound.analysis.stats import fisher_greater, mann_whitney_greater, relative_rise
from tracehound.diagnosis.signals import Signal, signal


def canaries(ctx: Context) -> Section:
    out = Section()
    c = ctx.canary
    if c is None:
        return out
    during = np.array([r.during or "" for r in c.runs], dtype=object)[c.run]
    # From when each canary request was due, not when it could be sent: a user arriving then
    # waits that long. With the canary's few connections held by a stalled service, later
    # requests queue on our side and are then answered at once; the service's share alone
    # would call that fast.
    lat = c.numeric("total_ms", np.float64, np.nan)
    answered = c.counted & (c.error < 0) & np.isfinite(lat)
    idle = c.counted & (during == "idle")
    load = c.counted & (during == "load")
    if (answered & idle).sum() < 5 or (answered & load).sum() < 5:
        return out
    out.test("unrelated_endpoint_slows_under_load", "unrelated_endpoint_fails_under_load")
    li, ll = lat[answered & idle], lat[answered & load]
    p50_i, p50_l = float(np.median(li)), float(np.median(ll))
    ratio = p50_l / max(p50_i, 1e-3)
    delta = p50_l - p50_i
    bad = c.counted & ((c.error >= 0) | (c.status >= 500))
    ki, ni = int((bad & idle).sum()), int(idle.sum())
    kl, nl = int((bad & load).sum()), int(load.sum())
    detail = (f"a request nothing else loads took p50 {p50_i:.1f} ms with the service idle and {p50_l:.1f} ms during "
              f"the load ({ratio:.1f}×); it failed {ki}/{ni} idle, {kl}/{nl} under load")
    sigs: list[Signal] = []
    canary_ex = c.describe(spread_pick(np.flatnonzero(answered & load)[np.argsort(-ll)][:25]))
    if ratio >= 2 and delta >= 25:
        _, p = mann_whitney_greater(sample(ll), sample(li))
        if p < 1e-3:
            s = min(1.0, math.log10(ratio)) * min(1.0, delta / 100)
            sigs.append(signal("unrelated_endpoint_slows_under_load", s, detail, canary_ex, value=ratio))
    if kl >= 2 and fisher_greater(kl, nl, ki, ni) < 0.01:
        sigs.append(signal("unrelated_endpoint_fails_under_load", relative_rise(kl, nl, ki, ni), detail,
                           c.describe(spread_pick(np.flatnonzero(bad & load))), value=kl / nl))
    out.add("An unrelated request during the load", detail, sigs, canary_ex)
    return out


__all__ = ["canaries"]
