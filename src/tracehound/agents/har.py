"""The HAR inspector: a browser's network log (DevTools' "Save all as HAR", or tracehound's own) read.

Per endpoint, the failure rate and its statuses; the timing phases of the requests (blocked, DNS,
connect, TLS, send, wait, receive), failing against succeeding and for the slowest; the
Authorization each failing request carried, its bearer JWT checked against the entry's own start
time; refused CORS preflights and cross-origin answers the browser may not read. The entries are
also imported as records and run through the traffic analysis (:func:`tracehound.agents.traffic.analyze`),
so plateaus, bursts and status signals come out exactly as for probed requests.

Its own signals are ``har:`` ones; the traffic analysis' signals keep their names (the diagnoser
keeps the strongest of each name, so the same observation from the prober and a HAR counts once).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracehound.agents.base import AgentResult, Finding, RecordedRun
from tracehound.agents.traffic import analyze
from tracehound.browser import har
from tracehound.browser.har import PHASES, HarEntry
from tracehound.case import Case
from tracehound.diagnosis.signals import Signal, register, signal
from tracehound.errors import TracehoundError
from tracehound.probe.meta import RunMeta, ShapeMeta
from tracehound.probe.run import Run

NAME = "har"
SLOW_MS = 1000.0
#: A phase "dominates" a request when it takes at least this share of its time.
DOMINANT = 0.6

SIGNALS: dict[str, str] = {
    "har:token_expired": "failing requests in the HAR sent a bearer JWT that had expired when they started",
    "har:token_near_expiry": "failing requests in the HAR sent a bearer JWT with only seconds left",
    "har:authorization_missing":
        "requests refused as unauthorized sent no Authorization header while others to the same host did",
    "har:cors_preflight_failed":
        "CORS preflight (OPTIONS) requests were refused or answered without the needed headers",
    "har:cors_blocked": "cross-origin answers lack an Access-Control-Allow-Origin the page's origin matches",
    "har:server_wait_dominates": "slow and failing requests spend their time waiting for the server's first byte",
    "har:connection_setup_slow": "slow requests spend their time in DNS, connect or TLS",
    "har:queued_in_browser": "slow requests spend their time blocked in the browser before being sent",
}
for _name, _desc in SIGNALS.items():
    register(_name, _desc, "har")


@dataclass
class HarInspection:
    """What :func:`inspect_har` found."""

    path: Path
    entries: int = 0
    failures: int = 0
    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def signals(self) -> list[Signal]:
        return [s for f in self.findings for s in f.signals]

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "entries": self.entries, "failures": self.failures, "detail": self.detail,
                "tested": sorted(set(self.tested)), "findings": [f.to_dict() for f in self.findings]}


async def har_agent(case: Case | None, runs: Sequence[RecordedRun]) -> AgentResult:
    """Inspect the HAR file(s) of ``case.sources.har``."""
    del runs  # a HAR carries its own requests
    paths = list(case.sources.har) if case is not None else []
    if not paths:
        return AgentResult(NAME, "skipped", "no HAR given (--har FILE)")
    started = time.perf_counter()
    findings: list[Finding] = []
    tested: list[str] = []
    details: list[str] = []
    for p in paths:
        try:
            res = await asyncio.to_thread(inspect_har, p)
        except TracehoundError as e:
            details.append(e.line())
            continue
        findings += res.findings
        tested += res.tested
        details.append(res.detail)
    status = "ok" if findings or tested else "failed"
    return AgentResult(NAME, status, "; ".join(details), findings, time.perf_counter() - started, sorted(set(tested)))


def inspect_har(path: str | Path) -> HarInspection:
    """Read one HAR file and everything above; :class:`BadImport` (one line) when it is not a usable HAR."""
    p = Path(path)
    doc = har.load(p)
    items = har.entries(doc, p)
    out = HarInspection(p, len(items), sum(e.failed for e in items))
    if not items:
        out.detail = f"{p.name}: no entries"
        return out
    _endpoints(items, out)
    _phases(items, out)
    _auth(items, out)
    _cors(items, out)
    _traffic(doc, p, out)
    out.detail = (f"{p.name}: {len(items)} requests, {out.failures} failed ({out.failures / len(items):.0%}); "
                  f"{len(out.signals)} signal(s)")
    return out


# -- per endpoint ----------------------------------------------------------------------------


def _endpoints(items: list[HarEntry], out: HarInspection) -> None:
    groups: dict[str, list[HarEntry]] = {}
    for e in items:
        groups.setdefault(e.endpoint, []).append(e)
    rows = []
    for name, es in groups.items():
        bad = [e for e in es if e.failed]
        statuses = Counter(e.status for e in es)
        times = [e.time_ms for e in es if e.time_ms is not None]
        med = f", median {np.median(times):.0f} ms" if times else ""
        rows.append((len(bad), len(es), f"{name}: {len(bad)}/{len(es)} failed ({len(bad) / len(es):.0%}); statuses "
                     + ", ".join(f"{s or 'none'}×{n}" for s, n in statuses.most_common()) + med))
    rows.sort(key=lambda r: (-r[0], -r[1]))
    failing = sum(1 for r in rows if r[0])
    out.findings.append(Finding(f"{len(groups)} endpoint(s), {failing} with failures",
                                "Failure rate and statuses per endpoint (worst first).", [r[2] for r in rows[:10]]))


# -- timing phases ---------------------------------------------------------------------------


def _phases(items: list[HarEntry], out: HarInspection) -> None:
    timed = [e for e in items if e.time_ms is not None and e.phases]
    if not timed:
        return

    def medians(es: list[HarEntry]) -> str:
        parts = []
        for ph in PHASES:
            vals = [e.phases[ph] for e in es if ph in e.phases]
            if vals:
                parts.append(f"{ph} {np.median(vals):.0f}")
        return ", ".join(parts) + " ms" if parts else "no figures"

    ok = [e for e in timed if not e.failed]
    bad = [e for e in timed if e.failed]
    slow = sorted([e for e in timed if (e.time_ms or 0.0) >= SLOW_MS], key=lambda e: -(e.time_ms or 0))
    detail = f"Median phases of successes: {medians(ok)}" + (f"; of failures: {medians(bad)}" if bad else "") + "."
    out.findings.append(Finding("timing phases (blocked, DNS, connect, TLS, send, wait, receive)", detail,
                                [f"{e.describe()} ({_breakdown(e)})"
                                 for e in sorted(timed, key=lambda e: -(e.time_ms or 0))[:5]]))
    if not slow:
        return
    out.tested += ["har:server_wait_dominates", "har:connection_setup_slow", "har:queued_in_browser"]
    shares: dict[str, list[float]] = {k: [] for k in ("wait", "setup", "blocked")}
    for e in slow:
        total = max(e.time_ms or 0.0, 1e-9)
        shares["wait"].append(e.phases.get("wait", 0.0) / total)
        shares["setup"].append((e.phases.get("dns", 0.0) + e.phases.get("connect", 0.0)) / total)
        shares["blocked"].append(e.phases.get("blocked", 0.0) / total)
    sigs = []
    for key, name, what in (("wait", "har:server_wait_dominates", "waiting for the first byte"),
                            ("setup", "har:connection_setup_slow", "DNS and connection set-up"),
                            ("blocked", "har:queued_in_browser", "queued in the browser")):
        frac = float(np.mean(np.array(shares[key]) >= DOMINANT))
        if frac >= 0.5:
            sigs.append(signal(name, frac,
                               f"{frac:.0%} of {len(slow)} slow request(s) spent ≥ {DOMINANT:.0%} of their time {what}",
                               [f"{e.describe()} ({_breakdown(e)})" for e in slow[:5]], value=frac))
    if sigs:
        what = "the slow request spends" if len(slow) == 1 else f"the {len(slow)} slow requests spend"
        out.findings.append(Finding(f"where {what} its time" if len(slow) == 1 else f"where {what} their time",
                                    "; ".join(s.detail for s in sigs), sigs[0].exemplars, sigs))


def _breakdown(e: HarEntry) -> str:
    return ", ".join(f"{k} {v:.0f}" for k, v in e.phases.items() if v >= 1) or "no phases"


# -- authorization ---------------------------------------------------------------------------


def _auth(items: list[HarEntry], out: HarInspection) -> None:
    failing = [e for e in items if e.failed]
    carried = [(e, e.token) for e in failing if e.token is not None]
    sigs: list[Signal] = []
    lines: list[str] = []
    if carried:
        out.tested += ["har:token_expired", "har:token_near_expiry"]
        expired = [f"{e.describe()}: {t.describe()}" for e, t in carried if t.expired]
        near = [f"{e.describe()}: {t.describe()}" for e, t in carried if t.near_expiry]
        if expired:
            share = len(expired) / len(carried)
            sigs.append(signal("har:token_expired", 0.5 + 0.5 * share,
                               f"{len(expired)} of {len(carried)} failing requests with a bearer JWT sent an expired "
                               "one", expired[:5], value=share))
        if near:
            sigs.append(signal("har:token_near_expiry", 0.2 + 0.6 * len(near) / len(carried),
                               f"{len(near)} failing request(s) sent a JWT about to expire", near[:5]))
        lines += [f"{e.describe()}: {t.describe()}" for e, t in carried[:5]]
    refused = [e for e in failing if e.status in (401, 403) and not e.preflight]  # preflights never carry credentials
    if refused:
        out.tested.append("har:authorization_missing")
        hosts_with_auth = {e.host for e in items if e.has_authorization}
        bare = [e for e in refused if not e.has_authorization and e.token is None and e.host in hosts_with_auth]
        if bare:
            share = len(bare) / len(refused)
            sigs.append(signal("har:authorization_missing", share,
                               f"{len(bare)} of {len(refused)} refused requests sent no Authorization, while other "
                               "requests to their host did",
                               [e.describe() for e in bare[:5]], value=share))
            lines += [f"{e.describe()}: no Authorization header" for e in bare[:5]]
    if sigs or lines:
        out.findings.append(Finding("Authorization on the failing requests",
                                    "Bearer JWTs decoded (time claims only, values redacted) against each entry's "
                                    "start time.",
                                    lines[:8], sigs))


# -- CORS ------------------------------------------------------------------------------------


def _cors(items: list[HarEntry], out: HarInspection) -> None:
    pre = [e for e in items if e.preflight]
    cross = [e for e in items if e.cross_origin and not e.preflight]
    if pre:
        out.tested.append("har:cors_preflight_failed")
    if cross:
        out.tested.append("har:cors_blocked")
    bad_pre = [e for e in pre if e.cors_failed]
    blocked = [e for e in cross if e.cors_failed]
    sigs = []
    if bad_pre:
        sigs.append(signal("har:cors_preflight_failed", len(bad_pre) / len(pre),
                           f"{len(bad_pre)} of {len(pre)} preflights",
                           [f"{e.describe()} (Access-Control-Allow-Origin: {e.allow_origin or 'absent'})"
                            for e in bad_pre[:5]]))
    if blocked:
        sigs.append(signal("har:cors_blocked", len(blocked) / len(cross),
                           f"{len(blocked)} of {len(cross)} cross-origin requests",
                           [f"{e.describe()} from {e.origin} "
                            f"(Access-Control-Allow-Origin: {e.allow_origin or 'absent'})" for e in blocked[:5]]))
    if sigs:
        out.findings.append(Finding("CORS failures", "; ".join(s.detail for s in sigs),
                                    [x for s in sigs for x in s.exemplars][:6], sigs))


# -- the traffic analysis --------------------------------------------------------------------


def _traffic(doc: dict[str, Any], path: Path, out: HarInspection) -> None:
    from tracehound.probe.importers import har as har_importer

    with tempfile.TemporaryDirectory(prefix="tracehound-har-") as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(json.dumps(har.for_import(doc)), encoding="utf-8")
        try:
            imported = har_importer.read(copy)
        except TracehoundError as e:
            out.findings.append(Finding("the traffic analysis could not read the entries as records",
                                        e.line().replace(str(copy), str(path))))
            return
    table = imported.table(path.stem, "har")
    res = analyze([Run(path, RunMeta(run_id=path.stem, shape=ShapeMeta(model="imported")), table)])
    out.findings += res.findings
    out.tested += res.tested


__all__ = ["NAME", "SIGNALS", "HarInspection", "har_agent", "inspect_har"]
