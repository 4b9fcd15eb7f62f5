"""Experiments that repeat a condition with one thing changed: fresh connections, another client timeout, bursts.

Each compares a variant run (``fresh_conn``, ``timeout_varied``, ``burst``) with the runs of the
same condition that did not change it: reused connections, the other timeout, steady arrivals at
the same mean rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from tracehound.agents.traffic.context import Context, Section, wilson_lo
from tracehound.analysis.frame import RunInfo
from tracehound.analysis.stats import fisher_greater, relative_rise, saturate
from tracehound.diagnosis.signals import Signal, signal

#: Kinds whose runs repeat a condition without being the condition's plain run.
VARIANT_KINDS = ("fresh_conn", "timeout_varied", "burst")
#: A run's client timeout counts as the same as another's within this ratio.
_SAME = 1.05


def condition(r: RunInfo) -> tuple[object, ...]:
    """What load a run applied, whatever its connections or timeout: its kind (or the kind it repeats) and levels."""
    kind = r.like or r.kind
    return ("sweep" if kind == "confirm" else kind, r.concurrency, r.rate, r.gap_s, r.delay_s, r.burst_s)


def _counts(ctx: Context, runs: Iterable[int]) -> tuple[np.ndarray, int, int]:
    """The counted requests of ``runs`` as a mask, their failures and their number."""
    m = np.isin(ctx.f.run, list(runs)) & ctx.counted
    return m, int((m & ctx.fail).sum()), int(m.sum())


def fresh_connections(ctx: Context) -> Section:
    """Failures with a new connection per request against the same load on reused connections."""
    f = ctx.f
    out = Section()
    fresh = [r for r in f.runs if r.kind == "fresh_conn" and r.role == "target"]
    if not fresh:
        return out
    conds = {condition(r) for r in fresh}
    reused = [r.index for r in f.runs if r.keepalive and r.kind not in VARIANT_KINDS and r.role == "target"
              and condition(r) in conds]
    mf, kf, nf = _counts(ctx, (r.index for r in fresh))
    mr, kr, nr = _counts(ctx, reused)
    if nr < 5 or nf < 5 or kr + kf < 3:
        return out
    out.test("failures_need_reused_connection", "failures_persist_on_fresh_connections")
    rate_r, rate_f = kr / nr, kf / nf
    detail = (f"the same load failed {kr}/{nr} ({rate_r:.1%}) on reused connections and {kf}/{nf} ({rate_f:.1%}) "
              "with a new connection per request")
    sigs: list[Signal] = []
    p = fisher_greater(kr, nr, kf, nf)
    if kr >= 3 and p < 0.01 and rate_f <= 0.25 * rate_r:
        sigs.append(signal("failures_need_reused_connection", relative_rise(kr, nr, kf, nf),
                           detail + f" (p={p:.1e}): the failures need a reused connection",
                           ctx.ex(np.flatnonzero(mr & ctx.fail)), value=rate_f / rate_r))
    elif kf >= 3 and p >= 0.05 and rate_f >= 0.5 * rate_r:
        s = min(1.0, wilson_lo(kf, nf) / max(rate_r, rate_f, 1e-9))
        sigs.append(signal("failures_persist_on_fresh_connections", s,
                           detail + ": new connections fail as well", ctx.ex(np.flatnonzero(mf & ctx.fail)),
                           value=rate_f / max(rate_r, 1e-9)))
    out.add("Fresh connections against reused ones", detail, sigs)
    return out


def client_timeout(ctx: Context) -> Section:
    """The same condition under two client timeouts: whose time do the failures keep?"""
    f = ctx.f
    out = Section()
    varied = [r for r in f.runs if r.kind == "timeout_varied" and r.role == "target"]
    if not varied:
        return out
    conds = {condition(r) for r in varied}
    runs = [r for r in f.runs if r.role == "target" and r.timeout_s and condition(r) in conds
            and r.kind not in ("fresh_conn", "burst")]
    timeouts = sorted({float(r.timeout_s or 0) for r in runs})
    if len(timeouts) < 2 or timeouts[-1] < _SAME * timeouts[0]:
        return out
    t_short, t_long = timeouts[0], timeouts[-1]
    short = _Group(ctx, [r.index for r in runs if float(r.timeout_s or 0) <= t_short * _SAME], t_short)
    long = _Group(ctx, [r.index for r in runs if float(r.timeout_s or 0) >= t_long / _SAME], t_long)
    if short.k < 3 or long.n < 5:
        return out
    out.test("failures_follow_client_timeout", "slow_not_stuck", "failure_latency_fixed_by_server")
    detail = f"with a {t_short:g} s client timeout {short.describe()}; with {t_long:g} s {long.describe()}"
    sigs: list[Signal] = []
    drop = fisher_greater(short.k, short.n, long.k, long.n)
    if short.timeout_share >= 0.5 and long.k >= 3 and long.timeout_share >= 0.5 and long.rate >= 0.5 * short.rate:
        sigs.append(signal("failures_follow_client_timeout", min(short.timeout_share, long.timeout_share)
                           * saturate(min(short.k, long.k), 3), detail + ": the failures last as long as we wait",
                           ctx.ex(long.rows(ctx.fail)), value=long.median_fail_ms / 1000))
    elif (short.timeout_share >= 0.5 and drop < 0.01 and long.rate <= 0.5 * short.rate
          and (slow := long.rows(f.ok & (f.latency_ms > t_short * 1000))).size >= 2):
        sigs.append(signal("slow_not_stuck", relative_rise(short.k, short.n, long.k, long.n),
                           detail + f": {slow.size} requests succeeded after more than {t_short:g} s",
                           ctx.ex(slow), value=long.rate / short.rate))
    fixed = _fixed_latency(short, long)
    if fixed is not None:
        sigs.append(signal("failure_latency_fixed_by_server", fixed * saturate(long.k, 3),
                           detail + f": the service ends them at {long.median_fail_ms / 1000:.3g} s whatever our "
                           "timeout", ctx.ex(long.rows(ctx.fail & ~long.ours)), value=long.median_fail_ms / 1000))
    out.add("Failures under another client timeout", detail, sigs)
    return out


class _Group:
    """The runs of one client timeout: their failures, how many were ours, how long they took."""

    def __init__(self, ctx: Context, runs: list[int], timeout_s: float) -> None:
        f = ctx.f
        self.timeout_s = timeout_s
        self.mask, self.k, self.n = _counts(ctx, runs)
        self.rate = self.k / self.n if self.n else 0.0
        self.ours = f.error_is("timeout")
        fails = self.mask & ctx.fail
        self.timeout_share = float((fails & self.ours).sum() / max(self.k, 1))
        server = fails & ~self.ours & np.isfinite(f.latency_ms)
        self.server_ms = f.latency_ms[server]
        fl = f.latency_ms[fails & np.isfinite(f.latency_ms)]
        self.median_fail_ms = float(np.median(self.server_ms if self.server_ms.size >= 3 else fl)) if fl.size else 0.0
        ok = f.latency_ms[self.mask & f.ok & np.isfinite(f.latency_ms)]
        self.median_ok_ms = float(np.median(ok)) if ok.size else 0.0
        self.rows: Callable[[np.ndarray], np.ndarray] = lambda m: np.flatnonzero(self.mask & m)

    def describe(self) -> str:
        if not self.k:
            return f"0/{self.n} failed"
        return (f"{self.k}/{self.n} failed ({self.rate:.1%}), {self.timeout_share:.0%} of them our timeouts, "
                f"median failure {self.median_fail_ms / 1000:.3g} s")

    def concentration(self) -> float:
        """The share of the service's failures within ±15 % of their median latency."""
        if self.server_ms.size < 3:
            return 0.0
        m = float(np.median(self.server_ms))
        return float((np.abs(self.server_ms - m) <= 0.15 * m).mean())


def _fixed_latency(short: _Group, long: _Group) -> float | None:
    """How clearly the service's failures end at one latency of its own whatever our timeout; None if they do not."""
    if long.k < 3 or long.timeout_share >= 0.5 or long.server_ms.size < 3:
        return None
    m = float(np.median(long.server_ms))
    # A failure that waited for something: slower than the successes, and ended well before our timeout.
    if m < 20 or m < 2 * max(long.median_ok_ms, 1e-3) or m > 0.8 * long.timeout_s * 1000:
        return None
    if short.server_ms.size >= 3 and short.timeout_share < 0.5:
        ms = float(np.median(short.server_ms))
        if max(ms, m) / max(min(ms, m), 1e-3) > 1.25:
            return None
    elif not (short.timeout_share >= 0.5 and short.timeout_s * 1000 <= 1.1 * m):
        return None  # our shorter timeout cut the failures at another time than the service's
    return long.concentration()


def bursts(ctx: Context) -> Section:
    """Failures when a mean arrival rate comes in bursts, against the same rate sent steadily."""
    f = ctx.f
    out = Section()
    burst = [r for r in f.runs if r.kind == "burst" and r.role == "target" and r.rate]
    if not burst:
        return out
    rates = [float(r.rate or 0) for r in burst]

    def near(rate: float | None) -> bool:
        return rate is not None and any(abs(rate - b) <= 0.1 * b for b in rates)

    steady = [r.index for r in f.runs if r.role == "target" and r.kind in ("sweep", "confirm", "low_rate", None)
              and r.burst_s is None and r.keepalive and near(r.rate)]
    mb, kb, nb = _counts(ctx, (r.index for r in burst))
    _, ks, ns = _counts(ctx, steady)
    if nb < 10 or ns < 10 or kb + ks < 3:
        return out
    out.test("failures_follow_bursts")
    shape = ", ".join(sorted({f"{r.burst_s:g} s of each {r.period_s or 1:g} s" for r in burst}))
    detail = (f"at {', '.join(f'{x:g}' for x in sorted(set(rates)))} requests/s on average, bursts ({shape}) failed "
              f"{kb}/{nb} ({kb / nb:.1%}), steady arrivals {ks}/{ns} ({ks / ns:.1%})")
    sigs: list[Signal] = []
    p = fisher_greater(kb, nb, ks, ns)
    if kb >= 3 and p < 0.01 and kb / nb >= 2 * ks / ns:
        sigs.append(signal("failures_follow_bursts", relative_rise(kb, nb, ks, ns), detail + f" (p={p:.1e})",
                           ctx.ex(np.flatnonzero(mb & ctx.fail)), value=kb / nb))
    out.add("Bursts against steady arrivals", detail, sigs)
    return out


__all__ = ["VARIANT_KINDS", "bursts", "client_timeout", "condition", "fresh_connections"]
