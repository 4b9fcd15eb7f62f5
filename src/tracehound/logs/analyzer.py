"""The log analyst's pass over the files: one stream of events, aggregated as it goes.

Nothing per event is kept: each event updates the counters of its template and of the
signatures it matches, and the alignment with the runs is looked up on the fly, so memory
depends on the variety of the logs (templates, capped) and on the runs, never on their size.

Per event the work is a cache lookup in the common case: the raw message (or the access line's
method, path and status) maps to its template and signatures. Only a message not seen before
is masked, only a masked line not seen before reaches Drain and the signature table.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from tracehound import spool
from tracehound.logs.alignment import FINE_NS, NEAR_NS, Timeline, timeline
from tracehound.logs.events import Event, assemble, inline_access, status_level
from tracehound.logs.formats import ERROR, REQUEST_ID_TEXT, WARNING, detect, level_of
from tracehound.logs.observations import MIN_EXCESS, excess, observations, tested
from tracehound.logs.report import (
    Alignment,
    FileReport,
    LogReport,
    SignatureHit,
    TemplateReport,
    UpstreamReport,
)
from tracehound.logs.signatures import Table, default_table
from tracehound.logs.sources import MAX_LINE_BYTES, expand, open_source
from tracehound.logs.templates import Miner, mask, mask_path
from tracehound.logs.timestamps import NS, Clock, iso_ns, local_zone_name
from tracehound.redact import redact_text

#: Untimed events between two timed ones closer than this take the earlier one's time.
PLACE_GAP_NS = 2 * NS
#: Untimed events waiting for their next timed neighbour, at most (then they stay untimed).
MAX_PENDING = 10_000
#: Raw-message (and request-path) cache entries before it is cleared: it only saves masking work.
RAW_CACHE = 50_000
#: Messages are cached with their digits 2-9 written as 1: lines that differ only in their numbers
#: (ids, counts, times) share one lookup, and zero stays apart (exit code 0 is not exit code 1).
_DIGITS = bytes.maketrans(b"23456789", b"11111111")
_STATUS = [str(i).encode() for i in range(1000)]
EXEMPLARS = 3
#: A template with at most this share of the events (and at most a handful) is rare.
RARE_SHARE = 0.001
#: The runs' span must have this much log before it for a template to count as new in it.
HISTORY_NS = 60 * NS
def analyze_logs(
    paths: Iterable[str | Path],
    since: int | None = None,
    until: int | None = None,
    runs: Sequence[Any] = (),
    zone: tzinfo | None = None,
    table: Table | None = None,
) -> LogReport:
    """Read the log files (or folders of them), mine templates, match signatures, align with ``runs``.

    ``since``/``until`` bound the events analysed (epoch ns); ``zone`` is the zone of timestamps
    written without one (None: this machine's local time). ``runs`` are run folders
    (:class:`tracehound.probe.Run`) or anything with ``.table`` in the record schema.
    Unreadable, empty and binary files are listed as skipped; the others are read.
    """
    t0 = time.perf_counter()
    a = _Analysis(since, until, timeline(runs) if runs else Timeline(), Clock(zone), table or default_table())
    a.zone_name = local_zone_name() if zone is None else str(zone)
    for path in expand(paths):
        a.read(path)
    report = a.finish()
    report.seconds = time.perf_counter() - t0
    return report


def parse_bound(text: str, zone: tzinfo | None = None, now: float | None = None) -> int:
    """A ``--since``/``--until`` value as epoch ns: ISO 8601 (zone optional), epoch seconds, or a
    duration (``30m``, ``2h``, ``1d``) meaning that long before now."""
    t = text.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|m|min|h|d)", t)
    if m:
        secs = float(m.group(1)) * {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}[m.group(2)]
        if secs > 1e11:  # some thousand years: no log goes back that far (and inf has no integer)
            raise ValueError(f"not a time: {text!r} (a duration of more than 3,000 years)")
        return int(((now if now is not None else time.time()) - secs) * NS)
    if re.fullmatch(r"\d{9,11}(?:\.\d+)?", t):
        return int(float(t) * NS)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"not a time: {text!r} "
                         "(give ISO 8601 like 2026-03-01T14:20:00Z, epoch seconds, or 30m)") from None
    if dt.tzinfo is None:
        dt = dt.astimezone() if zone is None else dt.replace(tzinfo=zone)
    return int(dt.timestamp() * NS)


@dataclass
class _Agg:
    """Counters of one template or one signature."""

    count: int = 0
    level: int = 0
    first: int | None = None
    last: int | None = None
    exemplars: list[str] = field(default_factory=list)
    failure_exemplars: list[str] = field(default_factory=list)
    in_span: int = 0
    near: int = 0
    near_failures: float = 0.0
    by_id: int = 0
    by_id_failed: int = 0
    kinds: set[str] = field(default_factory=set)
    access: int = 0

    def alignment(self, base: float) -> Alignment:
        return Alignment(self.near, self.near_failures, self.by_id, self.by_id_failed, base, self.in_span)


class _Analysis:
    def __init__(self, since: int | None, until: int | None, tl: Timeline, clock: Clock, table: Table) -> None:
        self.since, self.until = since, until
        self.tl = tl
        self.clock = clock
        self.table = table
        self.miner = Miner()
        self.raw: dict[bytes, tuple[int, tuple[int, ...], int]] = {}
        self.masked: dict[str, tuple[int, tuple[int, ...]]] = {}
        self.paths: dict[str, str] = {}
        self.templates: dict[int, _Agg] = {}
        self.sigs: dict[int, _Agg] = {}
        self.upstreams: dict[str, list[int]] = {}
        self.files: list[FileReport] = []
        self.untimed = 0
        self.placed = 0
        self.earliest: int | None = None
        self.bytes = 0
        self.want_ids = bool(tl.ids)
        # The runs' span (empty without runs): from the first request's start (less a truncated
        # timestamp's millisecond) to the distance a late line may sit after the last one's end.
        self.span_lo, self.span_hi = (tl.start_ns - FINE_NS, tl.end_ns + NEAR_NS) if tl else (1, 0)
        self.tpl_sigs: dict[int, set[int]] = {}
        self.zone_name = ""

    # -- reading ------------------------------------------------------------------------------
    def read(self, path: Path) -> None:
        try:
            with spool.regular(path) as real:  # a pipe (``<(…)``, a FIFO) is read once, never waited on forever
                self._read(path, real)
        except spool.PipeUnreadable as e:
            self.files.append(FileReport(str(path), skipped=e.strerror))

    def _read(self, path: Path, real: Path) -> None:
        src = open_source(real)
        fr = FileReport(str(path), gzip=src.gzip, size=src.size, skipped=src.skipped)
        self.files.append(fr)
        if src.skipped:
            return
        fmt = detect(src.sample)
        fr.kind, fr.role = fmt.kind, fmt.role
        naive_before = self.clock.naive
        pending: list[Event] = []
        prev: int | None = None
        label = path.name
        for ev in assemble(src.lines(), fmt, self.clock):
            fr.events += 1
            ts = ev.ts
            if ts is None:
                pending.append(ev)
                if len(pending) >= MAX_PENDING:
                    self._flush(pending, prev, None, fr, label)
                continue
            if pending:
                self._flush(pending, prev, ts, fr, label)
            prev = ts
            if fr.first_ns is None or ts < fr.first_ns:
                fr.first_ns = ts
            if fr.last_ns is None or ts > fr.last_ns:
                fr.last_ns = ts
            self._event(ev, fr, label, ts, ts)
        if pending:
            self._flush(pending, prev, None, fr, label)
        fr.naive = self.clock.naive - naive_before
        fr.cut_short = src.cut_short
        self.bytes += src.size
        if fr.events == 0 and not fr.cut_short:
            fr.skipped = "no log events in it"

    def _flush(self, pending: list[Event], prev: int | None, nxt: int | None, fr: FileReport, label: str) -> None:
        """Place untimed events between their timed neighbours (``prev``, ``nxt``) and count them."""
        # Untimed events between two close neighbours take the first's time, the gap as resolution.
        placed = None
        if prev is not None and nxt is not None and nxt - prev <= PLACE_GAP_NS:
            placed = (prev, nxt - prev + NS // 1000)
        for ev in pending:
            fr.untimed += 1
            if placed is not None:
                ev.ts, ev.res = placed
                self.placed += 1
            else:
                self.untimed += 1
            self._event(ev, fr, label, prev, nxt)
        pending.clear()

    def _event(self, ev: Event, fr: FileReport, label: str, lo: int | None, hi: int | None) -> None:
        """Count one event whose time lies in [lo, hi] (both ``ev.ts`` when it has its own)."""
        if self.since is not None and hi is not None and hi < self.since:
            return
        if self.until is not None and lo is not None and lo > self.until:
            return
        fr.in_window += 1
        ts = ev.ts
        if ts is not None and (self.earliest is None or ts < self.earliest):
            self.earliest = ts
        if ev.access:  # the status stays as it is: 200 and 500 must not share a template
            key = f"{ev.method} {ev.path} ".encode().translate(_DIGITS) + _STATUS[ev.status]
        else:
            key = (ev.message if ev.exc is None else ev.text()).encode().translate(_DIGITS)
        hit = self.raw.get(key)
        if hit is None:
            hit = self._classify(ev)
            if len(self.raw) >= RAW_CACHE:
                self.raw.clear()
            self.raw[key] = hit
        tid, sig_ids, level = hit
        if ev.level < 0:
            ev.level = level
        if ev.exc and ev.level < ERROR:
            ev.level = ERROR
        if ev.level >= WARNING:
            fr.errors += 1
        weight: float | None = None
        failed_by_id: bool | None = None
        tl = self.tl
        in_span = False
        if ts is not None and self.span_lo <= ts <= self.span_hi:
            in_span = True
            weight = tl.weight(ts, ev.res)
        if self.want_ids:
            rid = ev.rid
            if rid is None and not ev.access:
                m = REQUEST_ID_TEXT.search(ev.message)
                rid = m.group(1) if m else None
            if rid is not None:
                failed_by_id = tl.by_id(rid)
        agg = self.templates.get(tid)
        if agg is None:
            agg = self.templates[tid] = _Agg()
        self._count(agg, ev, fr.kind, label, in_span, weight, failed_by_id)
        for i in sig_ids:
            s = self.sigs.get(i)
            if s is None:
                s = self.sigs[i] = _Agg()
            self._count(s, ev, fr.kind, label, in_span, weight, failed_by_id)
        if ev.access and ev.upstream:
            up = self.upstreams.get(ev.upstream)
            if up is None:
                if len(self.upstreams) >= 1000:
                    return
                up = self.upstreams[ev.upstream] = [0, 0]
            up[0] += 1
            up[1] += ev.status >= 500

    def _classify(self, ev: Event) -> tuple[int, tuple[int, ...], int]:
        """Template, signatures and level of an event whose message was not seen before."""
        access = (ev.method or "", ev.path or "", ev.status) if ev.access else None
        level = level_of(ev.message) if ev.level < 0 else ev.level
        if access is None and not ev.exc:
            access = inline_access(ev.message)
            if access is not None:
                level = max(level, status_level(access[2]))
        if access is not None:
            p = self.paths.get(access[1])
            if p is None:
                p = mask_path(access[1])
                if len(self.paths) < RAW_CACHE:
                    self.paths[access[1]] = p
            masked = f"{access[0]} {p} {access[2]}"
        else:
            masked = mask(ev.message if not ev.exc else ev.message + " ⏎ " + " ⏎ ".join(ev.exc))
        hit = self.masked.get(masked)
        if hit is None:
            if access is not None:
                hit = (self.miner.exact(masked), ())
            else:
                hit = (self.miner.add(masked), self.table.match(ev.text()))
            if hit[1]:
                self.tpl_sigs.setdefault(hit[0], set()).update(hit[1])
            if len(self.masked) < self.miner.cap:
                self.masked[masked] = hit
        return hit[0], hit[1], level

    @staticmethod
    def _count(agg: _Agg, ev: Event, kind: str, label: str, in_span: bool, weight: float | None,
               failed_by_id: bool | None) -> None:
        agg.count += 1
        agg.in_span += in_span
        agg.level = max(agg.level, ev.level)
        ts = ev.ts
        if ts is not None:
            if agg.first is None or ts < agg.first:
                agg.first = ts
            if agg.last is None or ts > agg.last:
                agg.last = ts
        if len(agg.exemplars) < EXEMPLARS:
            agg.exemplars.append(_exemplar(ev, label))
        if kind not in agg.kinds:
            agg.kinds.add(kind)
        if ev.access:
            agg.access += 1
        if weight is not None:
            agg.near += 1
            agg.near_failures += weight
            if weight >= 0.5 and len(agg.failure_exemplars) < EXEMPLARS:
                agg.failure_exemplars.append(_exemplar(ev, label))
        if failed_by_id is not None:
            agg.by_id += 1
            agg.by_id_failed += failed_by_id

    # -- the report ------------------------------------------------------------------------------
    def finish(self) -> LogReport:
        tl = self.tl
        base = tl.base_rate
        r = LogReport(files=self.files, since_ns=self.since, until_ns=self.until, zone=self.zone_name, runs=tl.runs,
                      requests=tl.requests, failures=tl.failures, bytes=self.bytes)
        r.events = sum(f.in_window for f in self.files)
        r.template_count = len(self.templates)
        reports = {tid: self._template(tid, agg, base) for tid, agg in self.templates.items()}
        r.templates = sorted(reports.values(), key=lambda t: -t.count)[:50]
        r.over_represented = self._over_represented(reports, base)
        r.rare = self._rare(reports, r.events)
        r.new = self._new(reports)
        r.signatures = self._signatures(base)
        by_requests = sorted(self.upstreams.items(), key=lambda kv: -kv[1][0])
        r.upstreams = [UpstreamReport(a, n, k) for a, (n, k) in by_requests]
        r.observations = observations(r, tl)
        r.tested = tested(r, self.table, bool(tl.failures) and any(t.near for t in self.templates.values()))
        r.notes = self._notes(r)
        return r

    def _template(self, tid: int, agg: _Agg, base: float) -> TemplateReport:
        sigs = sorted({self.table.signatures[i].id for i in self.tpl_sigs.get(tid, ())})
        return TemplateReport(tid, redact_text(self.miner.text(tid)), agg.count, agg.level, agg.first, agg.last,
                              agg.exemplars, agg.failure_exemplars, agg.alignment(base), sorted(agg.kinds),
                              agg.access > agg.count / 2, sigs)

    def _over_represented(self, reports: dict[int, TemplateReport], base: float) -> list[TemplateReport]:
        """Templates whose events sit around failures more than failures' share of all requests."""
        scored = []
        for t in reports.values():
            a = t.alignment
            n, k = (a.by_id, a.by_id_failed) if a.by_id >= 3 else (a.near, a.near_failures)
            if n >= 3 and (e := excess(k, n, base)) >= MIN_EXCESS:
                scored.append((e, t))
        return [t for _, t in sorted(scored, key=lambda x: -x[0])][:20]

    @staticmethod
    def _rare(reports: dict[int, TemplateReport], events: int) -> list[TemplateReport]:
        """Warnings and errors whose template appeared only a handful of times."""
        cap = max(2, int(RARE_SHARE * events))
        rare = [t for t in reports.values() if t.count <= cap and t.level >= WARNING and not t.access]
        return sorted(rare, key=lambda t: (-t.level, t.count, t.first_ns or 0))[:20]

    def _new(self, reports: dict[int, TemplateReport]) -> list[TemplateReport]:
        """Templates first seen once the runs began, in logs that go back well before them."""
        tl = self.tl
        if not tl or self.earliest is None or self.earliest > tl.start_ns - HISTORY_NS:
            return []
        new = [t for t in reports.values()
               if t.first_ns is not None and t.first_ns >= tl.start_ns - NS and not t.access]
        return sorted(new, key=lambda t: (-t.level, -t.count))[:20]

    def _signatures(self, base: float) -> list[SignatureHit]:
        out = []
        for i, agg in sorted(self.sigs.items(), key=lambda kv: -kv[1].count):
            s = self.table.signatures[i]
            exemplars = agg.failure_exemplars + [e for e in agg.exemplars if e not in agg.failure_exemplars]
            out.append(SignatureHit(s.id, s.signal, s.title, agg.count, agg.first, agg.last, exemplars,
                                    agg.alignment(base), sorted(agg.kinds), list(s.relates_to)))
        return out

    def _notes(self, r: LogReport) -> list[str]:
        notes = []
        naive = sum(f.naive for f in r.read)
        if naive:
            notes.append(f"{naive} timestamps had no time zone; read as {r.zone} (set another with --tz)")
        if self.untimed:
            notes.append(f"{self.untimed} events had no time and no close timed neighbour: counted, but not aligned "
                         f"with the runs")
        if self.miner.overflowed:
            notes.append(f"{self.miner.overflowed} distinct lines past the template cap were matched to existing "
                         f"templates")
        if self.tl and not any(t.near for t in self.templates.values()):
            notes.append("no timed event fell within the runs (" + iso_ns(self.tl.start_ns) + " .. "
                         + iso_ns(self.tl.end_ns) + "): check that the logs cover them and their time zone")
        return notes


def _exemplar(ev: Event, label: str) -> str:
    """An event as a report quotes it: where, when, and its text with credentials masked (before it is cut,
    so no secret is left half-shown)."""
    when = iso_ns(ev.ts)[11:23] if ev.ts is not None else "--:--:--.---"
    text = redact_text(ev.summary(MAX_LINE_BYTES))
    return f"{label}:{ev.line} {when} {text if len(text) <= 240 else text[:239] + '…'}"


__all__ = ["analyze_logs", "parse_bound"]
