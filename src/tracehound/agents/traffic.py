"""The traffic agent: every recorded request of every run, analysed; observations become signals.

It reads the runs the experiments left (or a plain probe's run), concatenates the target's
records, keeps the canary's apart, and runs the analyses of :mod:`tracehound.analysis` over them.
Each observation the statistics support becomes a registered signal with a strength in [0, 1],
a detail with the figures and exemplar requests; everything the data could have shown is listed
in ``tested``, so that the diagnoser can count an expected signal that did not show as evidence
against. It never keys on a path, a port, a message or a scenario: only on how requests failed.

Strength, throughout: 0 is not emitted; a signal is emitted only past a significance test and a
minimum count, and its strength grows with the effect, taken at a cautious bound (lower 80 %
Wilson bounds for rates) so that a handful of requests gives a modest strength and hundreds give
nearly the point estimate.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from tracehound.agents.base import AgentResult, Finding
from tracehound.analysis.connections import connection_structure
from tracehound.analysis.content import content_anomalies
from tracehound.analysis.contrast import Attribute, ContrastItem, attributes, contrast
from tracehound.analysis.distribution import Distribution, distribution
from tracehound.analysis.frame import Frame, RunInfo, concat, dense, spread_pick
from tracehound.analysis.load import (
    LoadDependence,
    load_dependence,
    sequential,
    throughput,
)
from tracehound.analysis.outcome import CONNECTION_ERRORS, DROPPED_CONNECTION_ERRORS
from tracehound.analysis.periodicity import periodicity
from tracehound.analysis.plateau import plateaus
from tracehound.analysis.server_timing import server_timing
from tracehound.analysis.stats import (
    fisher_greater,
    mann_whitney_greater,
    relative_rise,
    saturate,
    spearman,
    wilson,
)
from tracehound.analysis.temporal import dispersion, onset, trend
from tracehound.diagnosis.signals import Signal, signal
from tracehound.errors import BadRun

NAME = "traffic"
STATUS_SIGNALS = (401, 403, 404, 409, 429, 500, 502, 503, 504)
#: Server-Timing phase roles and the signal each one's growth emits.
SERVER_TIMING_SIGNALS = {"pool": "server_timing_pool_wait_grows", "loop": "server_timing_loop_lag_grows",
                         "db": "server_timing_db_grows"}
#: Experiment kinds whose load is steady enough to read time and load structure from.
LOAD_KINDS = (None, "baseline", "sweep", "confirm", "low_rate", "probe")
#: Runs whose shape is designed to change the outcome (pauses), kept out of time and load analyses.
SHAPED_KINDS = ("idle_gap", "flow_delay")
#: A periodicity or order analysis looks at most at this many requests per order.
ORDER_CAP = 500_000
_SAMPLE = 100_000


@dataclass
class TrafficAnalysis:
    """What :func:`analyze` found: findings for a person, and the signal names the data could show."""

    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    detail: str = ""
    requests: int = 0
    failures: int = 0

    @property
    def signals(self) -> list[Signal]:
        return [s for f in self.findings for s in f.signals]


async def traffic_agent(case: Any, runs: Sequence[Any]) -> AgentResult:
    """The traffic agent: :func:`analyze` in a worker thread, as an :class:`AgentResult`."""
    del case  # the records say everything this agent uses
    if not runs:
        return AgentResult(NAME, "skipped", "no runs to analyse")
    res = await asyncio.to_thread(analyze, list(runs))
    if res.requests == 0:
        return AgentResult(NAME, "skipped", "the runs hold no requests", tested=[])
    return AgentResult(NAME, "ok", res.detail, res.findings, tested=sorted(set(res.tested)))


def analyze_runs(runs: Sequence[Any]) -> list[Finding]:
    """The findings of :func:`analyze` alone."""
    return analyze(runs).findings


def analyze(runs: Sequence[Any]) -> TrafficAnalysis:
    """Analyse the records of ``runs`` (objects with ``.meta``, ``.table`` and, optionally, ``.path``)."""
    target_tables, target_infos, canary_tables, canary_infos = [], [], [], []
    unreadable: list[str] = []
    for run in runs:
        label = getattr(getattr(run, "path", None), "name", "") or str(run.meta.get("run_id", ""))
        try:
            table = run.table
        except BadRun:
            unreadable.append(label)
            continue
        if table.num_rows == 0:
            continue
        if (run.meta.get("experiment") or {}).get("role") == "canary":
            canary_infos.append(RunInfo.of(len(canary_infos), label, run.meta))
            canary_tables.append(table)
        else:
            target_infos.append(RunInfo.of(len(target_infos), label, run.meta))
            target_tables.append(table)
    out = TrafficAnalysis()
    if not target_tables:
        return out
    frame = Frame(concat(target_tables), target_infos)
    canary = Frame(concat(canary_tables), canary_infos) if canary_tables else None
    ctx = _Context(frame, canary, out)
    ctx.run()
    if unreadable:
        out.detail += f"; unreadable runs left out: {', '.join(unreadable)}"
    return out


class _Context:
    """One analysis: the frame, its shared masks, and the findings being collected."""

    def __init__(self, frame: Frame, canary: Frame | None, out: TrafficAnalysis) -> None:
        self.f = frame
        self.canary = canary
        self.out = out
        runs = frame.runs
        shaped = np.array([r.kind in SHAPED_KINDS for r in runs])
        self.in_load_run = np.array([r.kind in LOAD_KINDS for r in runs])[frame.run]
        self.in_time_run = ~shaped[frame.run]
        self.counted = frame.counted & ~frame.cascaded
        self.fail = frame.primary
        self.dist: Distribution = distribution(frame)
        self.load: LoadDependence | None = None

    @cached_property
    def attributes(self) -> list[Attribute]:
        return attributes(self.f)

    # -- plumbing ------------------------------------------------------------------------------
    def tested(self, *names: str) -> None:
        self.out.tested.extend(names)

    def finding(self, title: str, detail: str, rows: np.ndarray | None = None, signals: list[Signal] | None = None,
                exemplars: list[str] | None = None) -> Finding:
        ex = exemplars if exemplars is not None else (self.f.describe(spread_pick(rows)) if rows is not None else [])
        fnd = Finding(title, detail, ex, signals or [])
        self.out.findings.append(fnd)
        return fnd

    def ex(self, rows: np.ndarray, k: int = 5) -> list[str]:
        return self.f.describe(spread_pick(np.asarray(rows), k))

    def run(self) -> None:
        f, d = self.f, self.dist
        self.out.requests = f.n
        self.out.failures = d.failed
        self.outcome()
        if d.primary:
            self.latency_of_failures()
        self.latency()
        self.server_timing()
        self.load_dependence()
        if d.primary:
            self.time_structure()
            self.connections()
            self.contrast()
        self.content()
        self.delay()
        self.canaries()
        self.out.detail = (f"{f.n} requests in {len(f.runs)} run(s), {d.failed} failed ({d.failure_rate:.1%}); "
                           f"{len(self.out.signals)} signal(s) from {len(self.out.findings)} finding(s)")

    # -- what the failures are -----------------------------------------------------------------
    def outcome(self) -> None:
        f, d = self.f, self.dist
        statuses = ", ".join(f"{s or 'none'}×{c}" for s, c in sorted(d.statuses.items(), key=lambda kv: -kv[1])[:6])
        kinds = ", ".join(f"{k}×{c}" for k, c in sorted(d.error_kinds.items(), key=lambda kv: -kv[1]))
        detail = (f"{d.requests} requests, {d.failed} failed ({d.failure_rate:.1%})"
                  + (f", {d.cascaded} of them not sent because an earlier step failed" if d.cascaded else "")
                  + f"; statuses {statuses or 'none'}" + (f"; errors {kinds}" if kinds else "")
                  + f". Latency of successes {d.latency_ok.brief()}; of failures {d.latency_failed.brief()}.")
        sigs: list[Signal] = []
        if d.primary >= 3:
            self.tested(*(f"status_{s}" for s in STATUS_SIGNALS), "client_timeouts", "connection_errors")
        for s in STATUS_SIGNALS:
            c = d.failure_statuses.get(s, 0)
            if c >= 2:
                rows = np.flatnonzero(self.fail & (f.status == s))
                sigs.append(signal(f"status_{s}", d.status_share(s),
                                   f"{c} of {d.primary} failures ({d.status_share(s):.0%}) answered {s}", self.ex(rows),
                                   value=d.status_share(s)))
        timeouts = self.fail & f.error_is("timeout")
        if timeouts.sum() >= 2:
            secs = float(np.nanmedian(f.latency_ms[timeouts])) / 1000
            share = d.error_share("timeout")
            sigs.append(signal("client_timeouts", share,
                               f"{int(timeouts.sum())} of {d.primary} failures ({share:.0%}) got no answer before the "
                               f"client's timeout (median {secs:.2f} s)", self.ex(np.flatnonzero(timeouts)), value=secs))
        conn = self.fail & f.error_is(*CONNECTION_ERRORS)
        if conn.sum() >= 2:
            share = d.error_share(*CONNECTION_ERRORS)
            kinds_c = ", ".join(f"{k}×{d.error_kinds[k]}" for k in CONNECTION_ERRORS if d.error_kinds.get(k))
            sigs.append(signal("connection_errors", share,
                               f"{int(conn.sum())} of {d.primary} failures ({share:.0%}) failed at the connection: {kinds_c}",
                               self.ex(np.flatnonzero(conn)), value=share))
        self.retry_after(sigs)
        rows = np.flatnonzero(self.fail)
        self.finding("What the failures are" if d.failed else "No failures", detail, rows, sigs)

    def retry_after(self, sigs: list[Signal]) -> None:
        f = self.f
        cols = [c for c in f.header_columns() if c == "h_retry_after" or "ratelimit" in c or "rate_limit" in c]
        answered = self.fail & (f.status > 0)
        if not cols or answered.sum() < 3:
            return
        self.tested("retry_after_header")
        has = np.zeros(f.n, bool)
        for c in cols:
            present = f.table.column(c).is_valid().to_numpy(zero_copy_only=False)
            if "remaining" in c:
                # X-RateLimit-Remaining rides on every answer; it says "limited" when it reads 0.
                enc = f.codes(c)
                if enc is None:
                    continue
                codes, values = enc
                present = np.isin(codes, [i for i, v in enumerate(values) if str(v).strip() == "0"])
            has |= present
        k = int((has & answered).sum())
        k_ok = int((has & f.ok).sum())
        if k >= 2 and fisher_greater(k, int(answered.sum()), k_ok, max(int(f.ok.sum()), 1)) < 0.01:
            share = k / int(answered.sum())
            sigs.append(signal("retry_after_header", share,
                               f"{k} of {int(answered.sum())} failing responses ({share:.0%}) carry Retry-After or rate-limit "
                               f"headers ({', '.join(c[2:] for c in cols)}), against {k_ok} successes",
                               self.ex(np.flatnonzero(has & answered)), value=share))

    # -- latency ---------------------------------------------------------------------------------
    def latency_of_failures(self) -> None:
        f, d = self.f, self.dist
        lat = f.latency_ms
        withlat = self.fail & np.isfinite(lat)
        if withlat.sum() < 5:
            return
        self.tested("failure_latency_plateau", "failures_fast")
        sigs: list[Signal] = []
        pl = plateaus(lat, withlat, f.ok)
        lines = []
        for p in pl:
            lines.append(f"{p.count} failures ({p.share:.0%}) end at {p.seconds:.3g} s (±{p.spread / 2:.0%}), "
                         f"{p.peak_ratio:.0f}× denser than around it; {p.ok_share:.0%} of successes there")
        if pl:
            top = pl[0]
            strength = top.share * saturate(top.count)
            sigs.append(signal("failure_latency_plateau", strength,
                               f"failures pile up at {top.seconds:.3g} s: " + "; ".join(lines), self.ex(top.rows),
                               value=round(top.seconds, 3)))
        ok_lat = lat[f.ok & np.isfinite(lat)]
        fl = lat[withlat]
        fast = ""
        if ok_lat.size >= 5:
            med_f, med_ok = float(np.median(fl)), float(np.median(ok_lat))
            ratio = med_f / med_ok if med_ok > 0 else 1.0
            if ratio <= 0.6:
                auc, p = mann_whitney_greater(_sample(ok_lat), _sample(fl))
                if p < 1e-3 and auc >= 0.75:
                    # How reliably a success is slower than a failure, and by how much.
                    strength = (2 * auc - 1) * min(1.0, math.log(1 / max(ratio, 1e-6)) / math.log(5))
                    fast = (f"failures take a median {med_f:.1f} ms against {med_ok:.1f} ms for successes ({ratio:.2f}×; "
                            f"a success is the slower of the two {auc:.0%} of the time)")
                    sigs.append(signal("failures_fast", strength, fast, self.ex(np.flatnonzero(withlat)), value=ratio))
        if sigs:
            self.finding("How long the failures take", "; ".join(lines + ([fast] if fast else [])) or d.latency_failed.brief(),
                         signals=sigs, exemplars=sigs[0].exemplars)

    def latency(self) -> None:
        f = self.f
        lat = f.latency_ms
        sigs: list[Signal] = []
        notes: list[str] = []
        # Slow even alone.
        alone = self._alone()
        ok_alone = alone & f.ok & np.isfinite(lat)
        if ok_alone.sum() >= 5:
            self.tested("slow_when_sequential")
            p50 = float(np.median(lat[ok_alone]))
            notes.append(f"alone, successes take p50 {p50:.0f} ms")
            if p50 >= 200:
                sigs.append(signal("slow_when_sequential", min(1.0, math.log10(p50 / 100)),
                                   f"one request at a time, successes take a median {p50:.0f} ms",
                                   self.ex(np.flatnonzero(ok_alone)), value=p50 / 1000))
        # One kind of request far slower than the others.
        group, names = self._request_groups()
        answered = self.counted & (f.status > 0) & np.isfinite(lat) & self.in_load_run
        if group is not None:
            g = group[answered]
            counts = np.bincount(g[g >= 0], minlength=len(names))
            big = np.flatnonzero(counts >= 5)
            if big.size >= 2:
                self.tested("latency_varies_by_request")
                meds = {int(j): float(np.median(lat[answered & (group == j)])) for j in big}
                slow = max(meds, key=meds.get)
                fast = min(meds, key=meds.get)
                ratio = meds[slow] / max(meds[fast], 1e-3)
                delta = meds[slow] - meds[fast]
                notes.append("median by request: " + ", ".join(f"{names[j]} {m:.0f} ms" for j, m in
                                                                sorted(meds.items(), key=lambda kv: -kv[1])[:6]))
                if ratio >= 3 and delta >= 50:
                    _, p = mann_whitney_greater(_sample(lat[answered & (group == slow)]),
                                                _sample(lat[answered & (group != slow) & (group >= 0)]))
                    if p < 1e-3:
                        sigs.append(signal("latency_varies_by_request", min(1.0, math.log(ratio) / math.log(10)),
                                           f"{names[slow]} takes a median {meds[slow]:.0f} ms, {ratio:.1f}× the fastest "
                                           f"({names[fast]}, {meds[fast]:.0f} ms)",
                                           self.ex(np.flatnonzero(answered & (group == slow))), value=ratio))
        # Time that grows with the size of the answer.
        okb = f.ok & np.isfinite(lat) & (f.bytes_in > 0)
        if okb.sum() >= 30:
            rows = _sample_rows(np.flatnonzero(okb))
            size = f.bytes_in[rows]
            p10, p90 = np.percentile(size, [10, 90])
            # Sizes must vary: a spread of the bulk, or a few answers at least twice the usual
            # size (the one large account among many small ones).
            med = float(np.median(size))
            large = int((size >= 2 * med).sum())
            if (p10 > 0 and p90 / p10 >= 2) or (med > 0 and large >= 5 and size.size - large >= 5):
                self.tested("latency_scales_with_body_size")
                rho, p = spearman(size, lat[rows])
                notes.append(f"latency against answer size: Spearman ρ {rho:.2f}")
                big = size >= 2 * med
                if rho >= 0.3 and p < 1e-3:
                    big_rows = rows[size >= max(p90, 2 * med)] if large else rows[size >= p90]
                    sigs.append(signal("latency_scales_with_body_size", rho,
                                       f"the larger the answer the longer it takes (Spearman ρ {rho:.2f} over {rows.size} "
                                       f"successes; sizes {p10:.0f}–{p90:.0f} bytes)", self.ex(big_rows), value=rho))
                elif large >= 5 and size.size - large >= 5:
                    # Two clusters (a few large answers among many small ones): a rank correlation
                    # over everything is diluted by the noise among the small; compare the groups.
                    lb, ls = lat[rows][big], lat[rows][~big]
                    auc, p2 = mann_whitney_greater(_sample(lb), _sample(ls))
                    rise = float(np.median(lb)) / max(float(np.median(ls)), 1e-3)
                    if p2 < 1e-3 and rise >= 3 and auc >= 0.8:
                        sigs.append(signal("latency_scales_with_body_size", 2 * (auc - 0.5),
                                           f"the {large} answers of at least {2 * med:.0f} bytes (twice the median) take "
                                           f"a median {np.median(lb):.0f} ms, {rise:.1f}× the others "
                                           f"(P(slower) {auc:.2f})", self.ex(rows[big]), value=rise))
        if sigs or notes:
            self.finding("Latency", "; ".join(notes), signals=sigs,
                         exemplars=sigs[0].exemplars if sigs else [])

    def server_timing(self) -> None:
        """Which phase of the service's own Server-Timing grows in the failing (or slow) requests."""
        st = server_timing(self.f, self.counted & self.in_load_run)
        if st is None or not st.compared:
            return
        against = {"failing": "failing requests against succeeding ones",
                   "slow": "the slowest tenth of the successes against their fastest half"}.get(
                       st.contrast or "", "medians of the answered requests")
        self.tested(*(SERVER_TIMING_SIGNALS[g.role] for g in st.compared if g.role in SERVER_TIMING_SIGNALS))
        sigs: list[Signal] = []
        for g in st.growing:
            name = SERVER_TIMING_SIGNALS.get(g.role)
            if name is None:
                continue
            if g.how == "dominant":
                d = (f"Server-Timing '{g.phase}': a median {g.answered_ms:.1f} ms, {g.dominant_share:.0%} of the latency of "
                     "the answered requests")
                strength = 0.3 + 0.5 * g.dominant_share
            else:
                gap = (f"{g.share:.0%} of the {g.latency_gap_ms:.0f} ms latency between them" if g.latency_gap_ms > 0
                       else "though they were no slower overall")
                d = (f"Server-Timing '{g.phase}': median {g.bad_ms:.1f} ms in {g.n_bad} {g.how} requests against "
                     f"{g.good_ms:.1f} ms in {g.n_good} others, {gap} (P(larger) {g.auc:.2f})")
                strength = (0.4 + 0.6 * g.share) * (2 * g.auc - 1)
            ms = g.answered_ms if g.how == "dominant" else g.bad_ms
            sigs.append(signal(name, max(0.3, min(1.0, strength)), d, self.ex(g.rows), value=ms / 1000))
        medians = "; ".join((f"{g.phase} {g.bad_ms:.1f} vs {g.good_ms:.1f} ms" if g.n_bad else f"{g.phase} —")
                            + f" (all answered: {g.answered_ms:.1f} ms)" for g in st.compared)
        self.finding("Server-Timing phases", f"{st.with_header} responses carried Server-Timing ({', '.join(st.phases)}); "
                     f"{against}: {medians or 'no phase to compare'}", signals=sigs,
                     exemplars=sigs[0].exemplars if sigs else [])

    def _alone(self) -> np.ndarray:
        """Requests sent one at a time: a sequential run's, or any with nothing else of ours in flight."""
        f = self.f
        seq_run = np.array([r.sequential for r in f.runs])[f.run]
        return self.counted & self.in_load_run & (seq_run | (f.inflight == 1))

    def _request_groups(self) -> tuple[np.ndarray | None, list[str]]:
        enc = self.f.codes("step")
        if enc is not None and len(enc[1]) >= 1:
            return enc[0], [str(v) for v in enc[1]]
        for a in self.attributes:
            if a.name == "path":
                return a.codes, a.values
        return None, []

    # -- load --------------------------------------------------------------------------------------
    def load_dependence(self) -> None:
        f = self.f
        use = self.counted & self.in_load_run
        ld = load_dependence(np.where(use, f.inflight, -1), self.fail, use, f.ok, f.latency_ms)
        self.load = ld
        sigs: list[Signal] = []
        notes: list[str] = []
        if ld.tested:
            notes.append("failure rate by requests in flight: " + ", ".join(
                f"{lv.label}: {lv.rate:.1%} of {lv.requests}" for lv in ld.levels))
            lat_line = ", ".join(f"{lv.label}: {lv.ok_p50_ms:.0f} ms" for lv in ld.levels if lv.ok_p50_ms is not None)
            if lat_line:
                notes.append("success p50 by in flight: " + lat_line)
            if self.dist.primary:
                self.tested("failures_rise_with_concurrency")
            self.tested("latency_rises_with_concurrency")
            if ld.failures_rise:
                (kb, nb), (ka, na) = ld.below, ld.above
                s = ld.rise
                rows = np.flatnonzero(self.fail & use & (f.inflight >= (ld.knee or 0)))
                sigs.append(signal("failures_rise_with_concurrency", s,
                                   f"{ka / na:.1%} of requests fail with {ld.knee} or more in flight against "
                                   f"{kb / nb:.1%} below (knee at {ld.knee}; trend z={ld.z:.1f})", self.ex(rows),
                                   value=float(ld.knee or 0)))
            if ld.latency_rises:
                s = min(1.0, max(ld.latency_slope or 0, 0)) * min(1.0, math.log(ld.latency_ratio or 1) / math.log(4))
                hi = ld.levels[-1]
                rows = np.flatnonzero(f.ok & use & (f.inflight >= hi.lo))
                sigs.append(signal("latency_rises_with_concurrency", s,
                                   f"success p50 grows {ld.latency_ratio:.1f}× (+{ld.latency_delta_ms:.0f} ms) from "
                                   f"{ld.levels[0].label} to {hi.label} in flight (p50 ∝ inflight^{ld.latency_slope:.2f})",
                                   self.ex(rows), value=ld.latency_slope))
        # One at a time against concurrently.
        alone = self._alone()
        seq_run = np.array([r.sequential for r in f.runs])[f.run]
        together = use & (f.inflight >= 2) & ~seq_run
        if alone.any():
            # Like with like in time: only as far into their runs as the requests sent alone went (a
            # failure that begins after a while must not pass for one that needs concurrency).
            together &= f.elapsed_s <= float(f.elapsed_s[alone].max()) + 0.5
        sq = sequential(self.fail, alone, together)
        if sq.tested and self.dist.primary:
            self.tested("failures_absent_when_sequential", "failures_present_when_sequential")
            (ka, na), (kt, nt) = sq.alone, sq.together
            notes.append(f"alone {ka}/{na} failed; with others in flight {kt}/{nt}")
            if sq.absent:
                sigs.append(signal("failures_absent_when_sequential", sq.absent_strength,
                                   f"{ka or 'none'} of {na} requests sent one at a time failed, against {kt} of {nt} ({kt / max(nt, 1):.1%}) "
                                   "sent concurrently", self.ex(np.flatnonzero(alone)), value=ka / na))
            elif sq.present:
                rate_a = ka / na
                rate_t = kt / nt if nt else rate_a
                lo = float(_wilson_lo(ka, na))
                s = min(1.0, lo / max(rate_a, rate_t, 1e-9)) if max(rate_a, rate_t) > 0 else 0.0
                sigs.append(signal("failures_present_when_sequential", s,
                                   f"{ka} of {na} requests sent one at a time failed ({rate_a:.1%}; concurrently {rate_t:.1%})",
                                   self.ex(np.flatnonzero(alone & self.fail)), value=rate_a))
        self.throughput(sigs, notes)
        if notes or sigs:
            self.finding("Load dependence", "; ".join(notes), signals=sigs, exemplars=sigs[0].exemplars if sigs else [])

    def throughput(self, sigs: list[Signal], notes: list[str]) -> None:
        f = self.f
        infos = [r for r in f.runs if r.kind in ("baseline", "sweep", "confirm") and r.concurrency]
        if len({r.concurrency for r in infos}) < 2:
            return
        ix = np.array([r.index for r in infos])
        n_runs = len(f.runs)
        cnt = np.bincount(f.run, weights=self.counted, minlength=n_runs)
        ok = np.bincount(f.run, weights=f.ok, minlength=n_runs)
        secs = self._run_seconds()
        tp = throughput(np.array([f.runs[i].concurrency for i in ix]), ok[ix], secs[ix], cnt[ix])
        if not tp.tested:
            return
        alone_ok = self._alone() & f.ok & np.isfinite(f.latency_ms)
        base_p50 = float(np.median(f.latency_ms[alone_ok])) if alone_ok.sum() >= 5 else None
        notes.append("successes per second by concurrency: " + ", ".join(f"c={p.concurrency}: {p.ok_per_s:.1f}/s"
                                                                          for p in tp.points))
        # A service answering in a few ms saturates this machine's CPU, not itself: not a finding.
        if base_p50 is None or base_p50 < 5:
            return
        self.tested("throughput_flat_under_concurrency")
        if tp.gain <= 1.5 and tp.flatness >= 0.5:
            sigs.append(signal("throughput_flat_under_concurrency", tp.flatness,
                               f"{tp.concurrency_ratio:.0f}× the concurrency brought {tp.gain:.2f}× the successes per second "
                               f"({tp.points[0].ok_per_s:.1f}/s at c={tp.points[0].concurrency}, "
                               f"{tp.points[-1].ok_per_s:.1f}/s at c={tp.points[-1].concurrency})",
                               [f"{r.label or 'run'} (c={r.concurrency}): {ok[r.index]:.0f} successes in {secs[r.index]:.1f} s "
                                f"= {ok[r.index] / max(secs[r.index], 1e-9):.1f}/s" for r in infos],
                               value=tp.gain))

    def _run_seconds(self) -> np.ndarray:
        """Each run's span, from its first start to its last end, in seconds."""
        f = self.f
        out = np.zeros(len(f.runs))
        if f.n == 0:
            return out
        o = f.order
        r = f.run[o]
        bounds = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        last = np.maximum.reduceat(f.end_ns[o], bounds)
        out[r[bounds]] = np.maximum(last - f.run_start_ns[r[bounds]], 0) / 1e9
        return out

    # -- time ------------------------------------------------------------------------------------------
    def time_structure(self) -> None:
        f = self.f
        sigs: list[Signal] = []
        notes: list[str] = []
        use = self.counted & self.in_time_run
        o = f.order[use[f.order]]
        failed_o = self.fail[o]
        if failed_o.sum() < 5 or o.size < 50:
            return
        disp = dispersion(failed_o, f.run[o])
        # Periodicity: in send order, per virtual user, per connection.
        orders = self._orders(use)
        group, _ = self._request_groups()
        group = f.run.astype(np.int64) * 4096 + (np.maximum(group, -1) + 1 if group is not None else 0)
        per = periodicity(self.fail, orders, group=group)
        self.tested("failures_periodic")
        rising = self.load is not None and self.load.failures_rise and self.load.rise >= 0.5
        periodic = per.periodic and not (per.route == "regular" and rising)
        if per.period:
            notes.append(f"autocorrelation of failures by lag ({per.order} order): "
                         + ", ".join(f"{k + 1}:{r:+.2f}" for k, r in enumerate(per.acf[:8]))
                         + (f"; window regularity {per.regularity:.2f}" if per.route == "regular" else ""))
        # A period makes failures even, bursts make them uneven: over-dispersion in send order rules a period out.
        periodic = periodic and not disp.bursty
        if periodic:
            rows = orders[per.order][0]
            rows = rows[self.fail[rows]][:50]
            sigs.append(signal("failures_periodic", per.strength,
                               f"about every {_ordinal(per.period)} request fails ({per.order} order: "
                               + (f"r_{per.period}={per.r:+.2f}, r_1={per.r1:+.2f}" if per.route == "lag"
                                  else f"windows hold {per.regularity:.2f}× the variance of independent failures")
                               + f", p={per.p:.1e})", self.ex(rows), value=float(per.period)))
        if disp.tested:
            self.tested("failures_bursty", "failures_uniform")
            w = disp.worst
            if w is not None:
                notes.append(f"dispersion of failures over windows of {w.window} requests: {w.index:.2f}× binomial "
                             f"(p={w.p_over:.1e})")
            if disp.bursty and w is not None:
                rows = o[failed_o][: 5 * 50]
                sigs.append(signal("failures_bursty", min(1.0, math.log(w.index) / math.log(5)),
                                   f"failures come in bursts: windows of {w.window} requests vary {w.index:.1f}× more than "
                                   f"independent failures would (p={w.p_over:.1e})", self.ex(rows), value=w.index))
        onsets, trends = self._onsets_and_trends(sigs, notes, disp)
        if disp.tested and disp.uniform and not periodic and not onsets and not trends and not (self.load and self.load.failures_rise):
            rows = o[failed_o]
            sigs.append(signal("failures_uniform", saturate(disp.failures, 10),
                               f"{disp.failures} failures spread evenly over {disp.requests} requests (no window size "
                               "shows bursts; no onset, trend or load dependence)", self.ex(rows),
                               value=disp.failures / max(disp.requests, 1)))
        self.persistence(sigs, notes)
        if sigs or notes:
            self.finding("Time structure", "; ".join(notes), signals=sigs, exemplars=sigs[0].exemplars if sigs else [])

    def _orders(self, use: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Rows in send order within runs, and within each (run, VU) and (run, connection), capped."""
        f = self.f
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

    def _onsets_and_trends(self, sigs: list[Signal], notes: list[str], disp: Any = None) -> tuple[list, list]:
        f = self.f
        onsets, trends, testable = [], [], 0
        tested_any = False
        for info in f.runs:
            if info.kind in SHAPED_KINDS:
                continue
            rows = np.flatnonzero((f.run == info.index) & self.counted)
            if rows.size < 30:
                continue
            span = float(f.elapsed_s[rows].max())
            if span < 3:
                continue
            tested_any = True
            fail = self.fail[rows]
            if fail.sum() < 5:
                continue
            testable += 1
            phi = disp.index_of(info.index) if disp is not None else 1.0
            best = None
            for clock, t in (("since the run began", f.elapsed_s[rows]), ("since each user's first request", f.vu_age_s[rows])):
                if clock.startswith("since each") and not np.isfinite(t).all():
                    continue
                on = onset(t, fail, phi)
                if on is not None and on.is_onset and (best is None or on.p < best[1].p):
                    best = (clock, on)
            if best is not None:
                onsets.append((info, *best, rows))
            tr = trend(f.elapsed_s[rows], fail, overdispersion=phi)
            if tr is not None and tr.rising:
                trends.append((info, tr, rows))
        if tested_any:
            self.tested("failures_start_after_elapsed_time", "failures_grow_over_time")
        if onsets:
            consistency = len(onsets) / max(testable, 1)
            info, clock, on, rows = max(onsets, key=lambda x: x[2].effect)
            ats = [x[2].at_s for x in onsets]
            strength = on.effect * consistency
            clock_s = f.elapsed_s if clock.startswith("since the run") else f.vu_age_s
            after_rows = rows[self.fail[rows] & (clock_s[rows] >= on.at_s)]
            sigs.append(signal("failures_start_after_elapsed_time", strength,
                               f"no failures for the first {on.at_s:.1f} s {clock} ({on.before[0]}/{on.before[1]} failed), "
                               f"then {on.rate_after:.0%} ({on.after[0]}/{on.after[1]}); seen in {len(onsets)} of {testable} "
                               f"runs with failures (onsets at {', '.join(f'{a:.1f}' for a in ats)} s)",
                               self.ex(after_rows), value=round(float(np.median(ats)), 2)))
            self.fresh_sessions(on.at_s, sigs, notes)
        if trends:
            info, tr, rows = max(trends, key=lambda x: x[1].effect)
            if tr.p * max(testable, 1) < 1e-3:
                sigs.append(signal("failures_grow_over_time", tr.effect,
                                   f"the failure rate climbs over {info.label or 'the run'}: "
                                   f"{tr.first[0] / max(tr.first[1], 1):.0%} in the first third, "
                                   f"{tr.last[0] / max(tr.last[1], 1):.0%} in the last (trend z={tr.z:.1f}); by tenths: "
                                   + " ".join(f"{r:.0%}" for r in tr.rates), self.ex(rows[self.fail[rows]][-20:]),
                                   value=tr.effect))
        return onsets, trends

    def fresh_sessions(self, age_s: float, sigs: list[Signal], notes: list[str]) -> None:
        """Once failures have begun, do virtual users that started later (new sessions, fresh logins) succeed?

        A failure tied to the age of a session (expiring credentials) spares young sessions; one tied
        to the service's own state (a leak, a dry pool) fails them as well.
        """
        f = self.f
        failing_old = self.fail & self.in_time_run & (f.vu_age_s >= age_s)
        if not failing_old.any():
            return
        since = int(f.start_ns[failing_old].min())
        later = self.counted & self.in_time_run & (f.start_ns > since) & (f.vu >= 0)
        young = later & (f.vu_age_s < 0.8 * age_s)
        old = later & (f.vu_age_s >= age_s)
        ky, ny = int((young & self.fail).sum()), int(young.sum())
        ko, no = int((old & self.fail).sum()), int(old.sum())
        if ny < 5 or no < 5:
            return
        self.tested("failures_vanish_with_fresh_login")
        notes.append(f"after failures began, sessions younger than {0.8 * age_s:.1f} s failed {ky}/{ny}, older ones {ko}/{no}")
        if ko >= 3 and fisher_greater(ko, no, ky, ny) < 0.01:
            s = relative_rise(ko, no, ky, ny)
            if s > 0:
                sigs.append(signal("failures_vanish_with_fresh_login", s,
                                   f"once failures had begun, virtual users with a fresh session (younger than "
                                   f"{0.8 * age_s:.1f} s) failed {ky} of {ny} requests, against {ko} of {no} for older "
                                   "sessions: the failure follows the session's age", self.ex(np.flatnonzero(young)),
                                   value=ky / ny))

    def persistence(self, sigs: list[Signal], notes: list[str]) -> None:
        """Failures that stay once the load has gone: low-load runs after a failing loaded run fail from their start."""
        f = self.f
        by_start = sorted(f.runs, key=lambda r: int(f.run_start_ns[r.index]))
        fails = np.bincount(f.run, weights=self.fail, minlength=len(f.runs))
        cnt = np.bincount(f.run, weights=self.counted, minlength=len(f.runs))

        def low(r: RunInfo) -> bool:
            return r.kind in ("baseline", "low_rate", "idle_gap") or (r.concurrency is not None and r.concurrency <= 2)

        def loaded(r: RunInfo) -> bool:
            return r.concurrency is not None and r.concurrency >= 4 and r.kind not in SHAPED_KINDS

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
            rows = (f.run == r.index) & self.counted
            t = f.elapsed_s
            span = float(t[rows].max()) if rows.any() else 0.0
            early |= rows & (t <= max(3.0, 0.3 * span))
        k_post, n_post = int((early & self.fail).sum()), int(early.sum())
        if n_post < 5:
            return
        self.tested("failures_persist_after_load")
        notes.append(f"low load before the first failing load: {k_pre}/{n_pre} failed; early in low-load runs after it: "
                     f"{k_post}/{n_post}")
        if k_post >= 2 and fisher_greater(k_post, n_post, k_pre, n_pre) < 0.01:
            s = relative_rise(k_post, n_post, k_pre, n_pre)
            if s > 0:
                sigs.append(signal("failures_persist_after_load", s,
                                   f"before the load {k_pre} of {n_pre} low-load requests failed; after it, {k_post} of {n_post} "
                                   f"({k_post / n_post:.0%}) failed from the start of the low-load runs",
                                   self.ex(np.flatnonzero(early & self.fail)), value=k_post / n_post))

    # -- connections ----------------------------------------------------------------------------------
    def connections(self) -> None:
        f = self.f
        dropped = f.error_is(*DROPPED_CONNECTION_ERRORS)
        cs = connection_structure(f.conn_reused, self.fail, self.counted, dropped, f.conn_idle_ms, f.quiet_ms)
        sigs: list[Signal] = []
        notes = [f"failures on reused connections {cs.reused[0]}/{cs.reused[1]}, on new ones {cs.new[0]}/{cs.new[1]}"]
        if cs.reused[1] + cs.new[1] > 0 and self.dist.primary >= 3:
            self.tested("reset_on_reused_connection")
        if cs.drops:
            notes.append(f"dropped connections: {cs.dropped_reused[0]} on reused, {cs.dropped_new[0]} on new")
        if cs.reset_on_reused:
            rows = np.flatnonzero(dropped & (f.conn_reused == 1))
            sigs.append(signal("reset_on_reused_connection", cs.reset_strength,
                               f"{cs.dropped_reused[0]} of {cs.drops} dropped connections ({cs.reused_share_of_drops:.0%}) were "
                               f"reused keep-alive connections ({cs.dropped_reused[0]}/{cs.dropped_reused[1]} reused vs "
                               f"{cs.dropped_new[0]}/{cs.dropped_new[1]} new)", self.ex(rows),
                               value=cs.reused_share_of_drops))
        best = None
        for g in (cs.quiet, cs.idle):
            if g is None or not g.tested:
                continue
            self.tested("failures_after_idle_gap")
            notes.append(f"by {g.measure}: " + ", ".join(f"{b.label}: {b.failures}/{b.requests}" for b in g.buckets if b.requests))
            if g.significant and (best is None or g.effect > best.effect):
                best = g
        if best is not None:
            (kg, ng), (ks, ns) = best.after_gap, best.steady
            sigs.append(signal("failures_after_idle_gap", best.effect,
                               f"{kg} of {ng} requests after ≥ {best.gap_ms / 1000:g} s of {best.measure} failed, against {ks} of "
                               f"{ns} in steady traffic (p={best.p:.1e})", self.ex(best.rows), value=kg / ng))
        self.finding("Connections and idle time", "; ".join(notes), signals=sigs, exemplars=sigs[0].exemplars if sigs else [])

    # -- contrast --------------------------------------------------------------------------------------
    def contrast(self) -> None:
        attrs = self.attributes
        items = contrast(attrs, self.fail, self.counted)
        sig_items = [i for i in items if i.q < 0.01]
        if not sig_items:
            if items:
                self.tested("failures_concentrated_on_attribute")
            return
        sigs: list[Signal] = []
        by_name = {a.name: a for a in attrs}
        if any(a.role == "request" and len(a.values) >= 2 for a in attrs):
            self.tested("failures_concentrated_on_attribute")
        req = [i for i in sig_items if i.role == "request" and _concentrated(i)]
        if req:
            top = max(req, key=lambda i: i.diff)
            sigs.append(signal("failures_concentrated_on_attribute", top.diff, top.describe(),
                               self.ex(self._rows_of(by_name[top.attribute], top.value)), value=top.diff))
        server_attrs = [a for a in attrs if a.role == "server" and len(a.values) >= 2]
        if server_attrs:
            self.tested("failures_on_one_server")
        srv = [i for i in sig_items if i.role == "server" and _concentrated(i) and self._several_servers(by_name[i.attribute], i)]
        if srv:
            top = max(srv, key=lambda i: i.diff)
            sigs.append(signal("failures_on_one_server", top.diff, top.describe(),
                               self.ex(self._rows_of(by_name[top.attribute], top.value)), value=top.diff))
        lines = [i.describe() for i in sig_items[:8]]
        self.finding("What the failures have in common", "; ".join(lines), signals=sigs,
                     exemplars=sigs[0].exemplars if sigs else [])

    def _rows_of(self, attr: Any, value: str) -> np.ndarray:
        try:
            code = attr.values.index(value)
        except ValueError:
            code = -1
        return np.flatnonzero(self.fail & (np.asarray(attr.codes) == code))

    def _several_servers(self, attr: Any, item: ContrastItem) -> bool:
        """Backends, not layers: successes come from several values, or from the failing one too."""
        codes = np.asarray(attr.codes)
        ok_codes = np.unique(codes[self.f.ok & (codes >= 0)])
        try:
            code = attr.values.index(item.value)
        except ValueError:
            return False
        return ok_codes.size >= 2 or code in ok_codes

    # -- content -------------------------------------------------------------------------------------
    def content(self) -> None:
        f = self.f
        st = f.status
        eligible = self.counted & (st >= 200) & (st < 300) & ((f.error < 0) | f.error_is("capture"))
        if eligible.sum() < 20:
            return
        group, names = self._request_groups()
        if group is None:
            group, names = np.zeros(f.n, np.int32), ["all"]
        samples = (lambda rows: f.take("body_sample", rows)) if f.has("body_sample") else None
        h = f.codes("body_hash", max_cardinality=1 << 30)
        self.tested("ok_status_body_anomaly")
        found = content_anomalies(group, names, eligible, f.bytes_in, samples, h[0] if h is not None else None)
        if not found:
            return
        top = found[0]
        lines = [f"{a.group}: {a.count} of {a.group_count} 2xx answers ({a.share:.0%}) are {a.example} where the majority is "
                 f"{a.majority} ({a.kind})" for a in found[:5]]
        sig = signal("ok_status_body_anomaly", top.strength, lines[0] + (" (sampled)" if top.sampled < 1 else ""),
                     self.ex(top.rows), value=top.share)
        self.finding("Successful answers with the wrong body", "; ".join(lines), signals=[sig], exemplars=sig.exemplars)

    # -- experiments with pauses --------------------------------------------------------------------------
    def delay(self) -> None:
        f = self.f
        runs = [r for r in f.runs if r.kind == "flow_delay"]
        none = [r.index for r in runs if not r.delay_s]
        some = [r.index for r in runs if r.delay_s]
        if not none or not some:
            return
        self.tested("failures_vanish_with_delay", "read_after_write_miss")
        m0 = np.isin(f.run, none) & self.counted
        md = np.isin(f.run, some) & self.counted
        k0, n0 = int((m0 & self.fail).sum()), int(m0.sum())
        kd, nd = int((md & self.fail).sum()), int(md.sum())
        delays = sorted({f.runs[i].delay_s for i in some})
        detail = (f"without a pause between steps {k0}/{n0} failed; with {', '.join(f'{d:g}' for d in delays)} s pauses "
                  f"{kd}/{nd}")
        sigs: list[Signal] = []
        if k0 >= 3 and nd >= 5 and fisher_greater(k0, n0, kd, nd) < 0.01 and kd / nd <= 0.25 * k0 / n0:
            vanish = relative_rise(k0, n0, kd, nd)
            rows0 = np.flatnonzero(m0 & self.fail)
            sigs.append(signal("failures_vanish_with_delay", vanish, detail, self.ex(rows0), value=kd / nd))
            st = f.status[rows0]
            writes = self._has_writes(none)
            reads = self._read_rows(rows0)
            miss = (np.isin(st, (404, 410)) | ((st >= 200) & (st < 300) & f.error_is("capture")[rows0])) & reads
            share = float(miss.mean()) if rows0.size else 0.0
            if writes and miss.sum() >= 2 and share >= 0.5:
                sigs.append(signal("read_after_write_miss", vanish * share,
                                   f"{int(miss.sum())} of {rows0.size} failures without a pause ({share:.0%}) are reads that "
                                   f"found nothing (404 or an empty answer) after a write; with a pause {kd}/{nd} failed",
                                   self.ex(rows0[miss]), value=share))
        self.finding("Pauses between dependent requests", detail, signals=sigs, exemplars=sigs[0].exemplars if sigs else [])

    def _has_writes(self, runs: list[int]) -> bool:
        enc = self.f.codes("method")
        if enc is None:
            return False
        codes, values = enc
        w = [i for i, v in enumerate(values) if str(v).upper() in ("POST", "PUT", "PATCH")]
        return bool(w) and bool(np.isin(codes[np.isin(self.f.run, runs)], w).any())

    def _read_rows(self, rows: np.ndarray) -> np.ndarray:
        enc = self.f.codes("method")
        if enc is None:
            return np.ones(rows.size, bool)
        codes, values = enc
        r = [i for i, v in enumerate(values) if str(v).upper() in ("GET", "HEAD")]
        return np.isin(codes[rows], r)

    # -- canary ----------------------------------------------------------------------------------------
    def canaries(self) -> None:
        c = self.canary
        if c is None:
            return
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
            return
        self.tested("unrelated_endpoint_slows_under_load", "unrelated_endpoint_fails_under_load")
        li, ll = lat[answered & idle], lat[answered & load]
        p50_i, p50_l = float(np.median(li)), float(np.median(ll))
        ratio = p50_l / max(p50_i, 1e-3)
        delta = p50_l - p50_i
        bad = c.counted & ((c.error >= 0) | (c.status >= 500))
        ki, ni = int((bad & idle).sum()), int(idle.sum())
        kl, nl = int((bad & load).sum()), int(load.sum())
        detail = (f"a request nothing else loads took p50 {p50_i:.1f} ms with the service idle and {p50_l:.1f} ms during the "
                  f"load ({ratio:.1f}×); it failed {ki}/{ni} idle, {kl}/{nl} under load")
        sigs: list[Signal] = []
        canary_ex = c.describe(spread_pick(np.flatnonzero(answered & load)[np.argsort(-ll)][:25]))
        if ratio >= 2 and delta >= 25:
            _, p = mann_whitney_greater(_sample(ll), _sample(li))
            if p < 1e-3:
                s = min(1.0, math.log10(ratio)) * min(1.0, delta / 100)
                sigs.append(signal("unrelated_endpoint_slows_under_load", s, detail, canary_ex, value=ratio))
        if kl >= 2 and fisher_greater(kl, nl, ki, ni) < 0.01:
            sigs.append(signal("unrelated_endpoint_fails_under_load", relative_rise(kl, nl, ki, ni), detail,
                               c.describe(spread_pick(np.flatnonzero(bad & load))), value=kl / nl))
        self.finding("An unrelated request during the load", detail, signals=sigs, exemplars=canary_ex)


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def _concentrated(i: ContrastItem) -> bool:
    """A value that holds a clear share more of the failures than of the successes, and fails far more often."""
    return i.failures >= 3 and i.diff >= 0.2 and i.rate >= 2 * i.rate_without


def _wilson_lo(k: int, n: int) -> float:
    return float(wilson(k, n)[0])


def _sample(x: np.ndarray, k: int = 20_000, seed: int = 0) -> np.ndarray:
    x = np.asarray(x)
    if x.size <= k:
        return x
    return np.random.default_rng(seed).choice(x, k, replace=False)


def _sample_rows(rows: np.ndarray, k: int = _SAMPLE) -> np.ndarray:
    if rows.size <= k:
        return rows
    return np.sort(np.random.default_rng(0).choice(rows, k, replace=False))


__all__ = ["TrafficAnalysis", "analyze", "analyze_runs", "traffic_agent"]
