"""The access-log analyst: production traffic (nginx, Apache, ALB, CloudFront, JSON lines) as evidence.

An access log is imported into Parquet (:mod:`tracehound.access`) and analysed where it lies, in
DuckDB SQL: statuses, a log-binned histogram of latencies, failures per time bucket, and
failures per value of each attribute (path template, method, host, client, user agent,
upstream, status, time of day). The pure analyses then read those aggregates as the traffic
agent reads request records: :func:`~tracehound.analysis.plateau.plateaus_binned` for timeouts,
:func:`~tracehound.analysis.temporal.failure_window` for "19.5 % failed between 14:00 and 15:00",
:func:`~tracehound.analysis.contrast.contrast_counts` for what the failures have in common.

It emits the traffic signals (``status_504``, ``failure_latency_plateau``, ``failures_bursty``,
``failures_on_one_server`` for one upstream …): a log shows the same observations the prober
would, from the users' own requests. It never keys on a path, an address or a word.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tracehound.access import ImportFolder, import_access_log
from tracehound.access import queries as q
from tracehound.agents.base import AgentResult, Finding, RecordedRun
from tracehound.agents.traffic import STATUS_SIGNALS, TrafficAnalysis
from tracehound.analysis.contrast import AttributeCounts, ContrastItem, contrast_counts
from tracehound.analysis.plateau import plateaus_binned
from tracehound.analysis.stats import Z_EFFECT, saturate, trend_test, wilson
from tracehound.analysis.temporal import Window, bucket_dispersion, failure_window
from tracehound.case import Case
from tracehound.diagnosis.signals import Signal, signal
from tracehound.errors import TracehoundError

NAME = "access_log"
#: The traffic signals an access log can show (the statuses it counts as failures, timing, time and attributes).
SIGNALS: tuple[str, ...] = (*(f"status_{s}" for s in STATUS_SIGNALS), "client_timeouts", "failure_latency_plateau",
                            "failures_fast", "failures_start_after_elapsed_time", "failures_bursty",
                            "failures_grow_over_time", "failures_uniform", "failures_concentrated_on_attribute",
                            "failures_on_one_server")
#: Fewer failures than this: report the figures, emit nothing about their structure.
MIN_FAILURES = 5


async def access_log_agent(case: Case | None, runs: Sequence[RecordedRun]) -> AgentResult:
    """Import and analyse each ``case.sources.access_logs`` file (or import folder)."""
    del runs  # the log carries its own requests
    given = list(case.sources.access_logs) if case is not None else []
    if not given:
        return AgentResult(NAME, "skipped", "no access log given (--access-log FILE)")
    started = time.perf_counter()
    findings: list[Finding] = []
    tested: list[str] = []
    details: list[str] = []
    for p in given:
        try:
            res = await asyncio.to_thread(analyze_file, Path(p))
        except TracehoundError as e:
            details.append(e.line())
            continue
        for f in res.findings:
            f.title = f"{Path(p).name}: {f.title}"
        findings += res.findings
        tested += res.tested
        details.append(f"{Path(p).name}: {res.detail}")
    status = "ok" if findings or tested else "failed"
    return AgentResult(NAME, status, "; ".join(details), findings, time.perf_counter() - started, sorted(set(tested)))


def analyze_file(path: Path) -> TrafficAnalysis:
    """An import folder analysed, or a log file imported into a temporary folder and analysed."""
    if path.is_dir():
        return analyze_import(ImportFolder.load(path))
    tmp = Path(tempfile.mkdtemp(prefix="tracehound-access-"))
    try:
        return analyze_import(import_access_log(path, out=tmp / "import"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def analyze_import(folder: ImportFolder) -> TrafficAnalysis:
    """The traffic analysis of an import folder, pushed down to DuckDB."""
    con = folder.connect()
    try:
        return _Analysis(con, folder).run()
    finally:
        con.close()


class _Analysis:
    def __init__(self, con: Any, folder: ImportFolder) -> None:
        self.con = con
        self.folder = folder
        self.offset = folder.utc_offset_min
        self.out = TrafficAnalysis()
        self.window: Window | None = None
        self.timeline: q.Timeline | None = None

    # -- plumbing ----------------------------------------------------------------------------
    def tested(self, *names: str) -> None:
        self.out.tested.extend(names)

    def local(self, dt: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return (dt + timedelta(minutes=self.offset)).strftime(fmt)

    @property
    def zone(self) -> str:
        if not self.offset:
            return "UTC"
        sign = "+" if self.offset > 0 else "-"
        return f"UTC{sign}{abs(self.offset) // 60:02d}:{abs(self.offset) % 60:02d}"

    def ex(self, where: str = "TRUE") -> list[str]:
        return q.examples(self.con, where, 5, self.offset)

    def run(self) -> TrafficAnalysis:
        ov = q.overview(self.con)
        self.ov = ov
        self.out.requests, self.out.failures = ov.requests, ov.failures
        self.outcome()
        if ov.failures >= MIN_FAILURES:
            self.latency()
            self.time_structure()
            self.contrast()
        rate = ov.failures / ov.requests if ov.requests else 0.0
        self.out.detail = (f"{ov.requests:,} requests ({self.folder.imported.format or '?'} log), "
                           f"{ov.failures:,} failed ({rate:.2%}); {len(self.out.signals)} signal(s) from "
                           f"{len(self.out.findings)} finding(s)")
        return self.out

    # -- what the failures are ---------------------------------------------------------------
    def outcome(self) -> None:
        ov = self.ov
        top = sorted(ov.statuses.items(), key=lambda kv: -kv[1][0])[:8]
        statuses = ", ".join(f"{s}×{n:,}" for s, (n, _) in top)
        span = (f" from {self.local(ov.first)} to {self.local(ov.last)} {self.zone}" if ov.first and ov.last else "")
        rate = ov.failures / ov.requests if ov.requests else 0.0
        bad = self.folder.imported.bad_lines or 0
        detail = (f"{ov.requests:,} requests{span}; {ov.failures:,} failed ({rate:.2%}: 5xx, 408, 429, 499 and no "
                  f"answer count as failures); statuses {statuses or 'none'}"
                  + (f"; {bad:,} unreadable line(s) left out" if bad else ""))
        sigs: list[Signal] = []
        K = ov.failures
        if K >= 3:
            self.tested(*(f"status_{s}" for s in STATUS_SIGNALS if s >= 500 or s == 429), "client_timeouts")
        for s in STATUS_SIGNALS:
            k = ov.statuses.get(s, (0, 0))[1]
            if k >= 2 and K:
                share = k / K
                sigs.append(signal(f"status_{s}", share, f"{k:,} of {K:,} failures ({share:.0%}) answered {s}",
                                   self.ex(f"status = {s}"), value=share))
        gave_up = sum(ov.statuses.get(s, (0, 0))[1] for s in (499, 0))
        if gave_up >= 2 and K:
            share = gave_up / K
            sigs.append(signal("client_timeouts", share,
                               f"{gave_up:,} of {K:,} failures ({share:.0%}) were closed by the client before any "
                               "answer (499, or no status)", self.ex("status IN (0, 499)"), value=share))
        self.out.findings.append(Finding("What the failures are" if K else "No failures", detail,
                                         self.ex() if K else [], sigs))

    # -- latency -----------------------------------------------------------------------------
    def latency(self) -> None:
        b, k, ok = q.latency_histogram(self.con)
        if k.sum() < MIN_FAILURES:
            return
        self.tested("failure_latency_plateau", "failures_fast")
        sigs: list[Signal] = []
        lines = []
        pl = plateaus_binned(b, k, ok, q.LOG_STEP)
        for p in pl:
            lines.append(f"{p.count:,} failures ({p.share:.0%}) end at {p.seconds:.3g} s (±{p.spread / 2:.0%}), "
                         f"{p.peak_ratio:.0f}× denser than around it; {p.ok_share:.0%} of successes there")
        if pl:
            top = pl[0]
            lo, hi = top.ms * 0.95, top.ms * 1.05
            sigs.append(signal("failure_latency_plateau", top.share * saturate(top.count),
                               f"failures pile up at {top.seconds:.3g} s: " + "; ".join(lines),
                               self.ex(f"latency_ms BETWEEN {lo} AND {hi}"), value=round(top.seconds, 3)))
        fast = _fast(b, k, ok)
        if fast is not None:
            strength, text, ratio = fast
            sigs.append(signal("failures_fast", strength, text, self.ex(), value=ratio))
            lines.append(text)
        med_f, med_ok = _median(b, k), _median(b, ok)
        lines.append(f"median latency of failures {med_f:.0f} ms, of successes {med_ok:.0f} ms")
        self.out.findings.append(Finding("How long the failures take", "; ".join(lines),
                                         sigs[0].exemplars if sigs else [], sigs))

    # -- time ----------------------------------------------------------------------------------
    def time_structure(self) -> None:
        ov = self.ov
        if ov.first is None or ov.last is None or ov.span_s < 60:
            return
        tl = q.timeline(self.con, ov.first, ov.last)
        self.timeline = tl
        if tl.n.size < 10:
            return
        self.tested("failures_bursty", "failures_start_after_elapsed_time", "failures_grow_over_time",
                    "failures_uniform")
        sigs: list[Signal] = []
        notes: list[str] = []
        w = failure_window(tl.k, tl.n)
        width = _duration(tl.width_s)
        if w is not None and w.significant:
            self.window = w
            a, z = tl.at(w.start), tl.at(w.end)
            where = f"ts >= TIMESTAMPTZ '{a.isoformat()}' AND ts < TIMESTAMPTZ '{z.isoformat()}'"
            day = self.local(a, "%Y-%m-%d")
            text = (f"{w.rate_inside:.1%} failed between {self.local(a, '%H:%M')} and {self.local(z, '%H:%M')} "
                    f"({day}, {self.zone}; {w.inside[0]:,} of {w.inside[1]:,} requests), against {w.rate_outside:.2%} "
                    f"outside; {w.share:.0%} of all failures fell in that stretch (p={w.p:.1e})")
            notes.append(text)
            ex = self.ex(where)
            if w.at_end and w.start > 0:
                sigs.append(signal("failures_start_after_elapsed_time", w.effect * w.share,
                                   f"no failures to speak of until {self.local(a)}, then {text}", ex,
                                   value=round((a - ov.first).total_seconds(), 1)))
            elif not w.at_end:
                sigs.append(signal("failures_bursty", w.effect * w.share,
                                   f"failures come in a burst: {text}", ex,
                                   value=w.rate_inside / max(w.rate_outside, 1e-9)))
        else:
            tenths = np.array_split(np.arange(tl.n.size), 10)
            kk = np.array([tl.k[t].sum() for t in tenths])
            nn = np.array([tl.n[t].sum() for t in tenths])
            z_score, p = trend_test(kk, nn, np.arange(10))
            first, last = kk[:3].sum() / max(nn[:3].sum(), 1), kk[-3:].sum() / max(nn[-3:].sum(), 1)
            index, p_disp = bucket_dispersion(tl.k, tl.n)
            notes.append(f"failures per {width}: dispersion {index:.1f}× binomial (p={p_disp:.1e}); by tenths of the "
                         "log: " + " ".join(f"{a / max(b, 1):.1%}" for a, b in zip(kk, nn, strict=True)))
            if p < 1e-3 and last >= 2 * first and z_score > 0:
                sigs.append(signal("failures_grow_over_time", float(wilson(kk[-3:].sum(), nn[-3:].sum(), Z_EFFECT)[0])
                                   / max(last, 1e-9) * (1 - first / last),
                                   f"the failure rate climbs from {first:.2%} in the first third of the log to "
                                   f"{last:.2%} in the last (trend z={z_score:.1f})", self.ex(), value=last))
            elif index >= 3 and p_disp < 1e-6:
                sigs.append(signal("failures_bursty", min(1.0, math.log(index) / math.log(25)),
                                   f"failures per {width} vary {index:.1f}× more than independent failures would "
                                   f"(p={p_disp:.1e})", self.ex(), value=index))
            elif index < 1.5 or p_disp >= 0.05:
                sigs.append(signal("failures_uniform", saturate(self.ov.failures, 10),
                                   f"{self.ov.failures:,} failures spread evenly over {tl.n.size} buckets of {width} "
                                   f"(dispersion {index:.1f}×)", self.ex(),
                                   value=self.ov.failures / max(self.ov.requests, 1)))
        self.out.findings.append(Finding("Time structure", "; ".join(notes), sigs[0].exemplars if sigs else [], sigs))

    # -- contrast --------------------------------------------------------------------------------
    def contrast(self) -> None:
        counts = q.attribute_counts(self.con, self.offset)
        self.endpoints(counts)
        items = contrast_counts(counts, self.ov.failures, self.ov.requests)
        scope, scope_where = "", "TRUE"
        if self.window is not None and self.timeline is not None:
            # Inside the stretch where failures concentrate, what they share stands out most clearly.
            tl, w = self.timeline, self.window
            where = (f"ts >= TIMESTAMPTZ '{tl.at(w.start).isoformat()}' "
                     f"AND ts < TIMESTAMPTZ '{tl.at(w.end).isoformat()}'")
            inside = q.attribute_counts(self.con, self.offset, where)
            in_items = contrast_counts(inside, w.inside[0], w.inside[1])
            if _best_diff(in_items) > _best_diff(items):
                items, counts, scope_where = in_items, inside, where
                scope = f" (between {self.local(tl.at(w.start), '%H:%M')} and {self.local(tl.at(w.end), '%H:%M')})"
        roles = {c.name: c for c in counts}
        if any(c.role == "request" and (c.n > 0).sum() >= 2 for c in counts):
            self.tested("failures_concentrated_on_attribute")
        servers = [c for c in counts if c.role == "server" and (c.n - c.k > 0).sum() >= 2]
        if servers:
            self.tested("failures_on_one_server")
        sig_items = [i for i in items if i.q < 0.01 and i.attribute != "time_of_day"]
        if not sig_items:
            return
        sigs: list[Signal] = []
        req = [i for i in sig_items if i.role == "request" and _concentrated(i)]
        if req:
            top = max(req, key=lambda i: i.diff)
            sigs.append(signal("failures_concentrated_on_attribute", top.diff, _describe(top) + scope,
                               self.ex(f"{self._where(top)} AND {scope_where}"), value=top.diff))
        srv = [i for i in sig_items if i.role == "server" and _concentrated(i) and i.value not in ("(none)", "(other)")
               and _several(roles[i.attribute], i)]
        if srv:
            top = max(srv, key=lambda i: i.diff)
            sigs.append(signal("failures_on_one_server", top.diff, _describe(top) + scope,
                               self.ex(f"{self._where(top)} AND {scope_where}"), value=top.diff))
        lines = [_describe(i) for i in sig_items[:8]]
        self.out.findings.append(Finding("What the failures have in common" + scope, "; ".join(lines),
                                         sigs[0].exemplars if sigs else [], sigs))

    def _where(self, item: ContrastItem) -> str:
        expr = q.attribute_expr(item.attribute)
        if item.value == "(none)":
            return f"{expr} IS NULL"
        if item.value == "(other)":
            return "TRUE"
        return f"{expr} = {q.quote(item.value)}"

    def endpoints(self, counts: list[AttributeCounts]) -> None:
        paths = next((c for c in counts if c.name == "path"), None)
        if paths is None:
            return
        order = np.lexsort((-paths.n, -paths.k))
        rows = [f"{paths.values[i]}: {paths.k[i]:,}/{paths.n[i]:,} failed ({paths.k[i] / max(paths.n[i], 1):.1%})"
                for i in order[:10] if paths.k[i] > 0]
        failing = int((paths.k > 0).sum())
        self.out.findings.append(Finding(f"{len(paths.values)} endpoint(s), {failing} with failures",
                                         "Failure rate per path template (ids, UUIDs and numbers as :id), worst first.",
                                         rows))


def _describe(i: ContrastItem) -> str:
    lift = f"{i.lift:.0f}×" if math.isfinite(i.lift) else "only there"
    return (f"{i.attribute}={i.value}: {i.fail_share:.0%} of failures vs {i.ok_share:.0%} of successes; fails "
            f"{i.rate:.1%} of the time against {i.rate_without:.2%} otherwise (lift {lift}; {i.failures:,} of "
            f"{i.requests:,}; q={i.q:.1e})")


def _concentrated(i: ContrastItem) -> bool:
    return i.failures >= 3 and i.diff >= 0.2 and i.rate >= 2 * i.rate_without


def _several(attr: AttributeCounts, item: ContrastItem) -> bool:
    """Several backends answered: successes come from two values or more, or from the failing one too."""
    ok = attr.n - attr.k
    with_ok = [v for v, o in zip(attr.values, ok, strict=True) if o > 0 and v not in ("(none)", "(other)")]
    return len(with_ok) >= 2 or item.value in with_ok


def _best_diff(items: list[ContrastItem]) -> float:
    return max((i.diff for i in items if i.q < 0.01 and i.role in ("request", "server")), default=0.0)


def _median(b: np.ndarray, k: np.ndarray) -> float:
    c = np.cumsum(k)
    if not c.size or c[-1] == 0:
        return float("nan")
    return float(math.exp((b[int(np.searchsorted(c, c[-1] / 2))] + 0.5) * q.LOG_STEP))


def _fast(b: np.ndarray, k: np.ndarray, ok: np.ndarray) -> tuple[float, str, float] | None:
    """Failures much faster than successes, as the traffic agent tests it, from the histogram:
    AUC = P(a success is slower than a failure), counting ties as half."""
    n_failed, n_ok = float(k.sum()), float(ok.sum())
    if n_failed < MIN_FAILURES or n_ok < MIN_FAILURES:
        return None
    med_f, med_ok = _median(b, k), _median(b, ok)
    ratio = med_f / med_ok if med_ok > 0 else 1.0
    if ratio > 0.6:
        return None
    below = np.cumsum(k) - k  # failures in lower bins
    auc = float((ok * (below + 0.5 * k)).sum() / (n_failed * n_ok))
    if auc < 0.75:
        return None
    strength = (2 * auc - 1) * min(1.0, math.log(1 / max(ratio, 1e-6)) / math.log(5))
    text = (f"failures take a median {med_f:.1f} ms against {med_ok:.1f} ms for successes ({ratio:.2f}×; a success "
            f"is the slower of the two {auc:.0%} of the time)")
    return strength, text, ratio


def _duration(s: int) -> str:
    if s % 3600 == 0:
        return f"{s // 3600} h"
    if s % 60 == 0:
        return f"{s // 60} min"
    return f"{s} s"


__all__ = ["NAME", "SIGNALS", "access_log_agent", "analyze_file", "analyze_import"]
