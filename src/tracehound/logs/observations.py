"""What the log analyst's counts say, as signals: each with a strength and the figures behind it.

A signature's signal is as strong as it is clear (a handful of events is already clear) times
how much it bears on the runs' failures: events beside the failing requests more often than
chance count fully, events at other times of the runs a little less, events outside the runs
much less. A template over-represented around failures and failures piling on one upstream of
a gateway are signals of their own. Pure functions of a finished report.
"""

from __future__ import annotations

import math

from tracehound.analysis.stats import fisher_greater, wilson
from tracehound.diagnosis.signals import lined_up
from tracehound.logs.alignment import Timeline
from tracehound.logs.formats import WARNING
from tracehound.logs.report import Alignment, LogReport, Observation, SignatureHit
from tracehound.logs.signatures import Table

#: Events sit around failures when the lower bound of their share beside failing requests exceeds
#: the failures' share of all requests by this much of what is left above it (a real effect, not
#: only a significant one: a million events make a 1 % excess significant).
MIN_EXCESS = 0.1


def excess(k: float, n: float, base: float) -> float:
    """How far the share k/n of events beside failures stands above ``base``, at its lower bound (0..1)."""
    if n <= 0 or not 0 < base < 1:
        return 0.0
    lo = float(wilson(k, n)[0])
    return max(0.0, (lo - base) / (1 - base))


def observations(r: LogReport, tl: Timeline) -> list[Observation]:
    """Every signal the report supports."""
    out: list[Observation] = []
    by_signal: dict[str, list[SignatureHit]] = {}
    for hit in r.signatures:
        by_signal.setdefault(hit.signal, []).append(hit)
    for name, hits in by_signal.items():
        obs = signature_observation(name, hits, tl)
        out.append(obs)
        why = lines_up(_alignment(hits, tl), tl)
        if why:
            out.append(Observation(lined_up(name), obs.strength, f"{why}: {obs.detail}", obs.exemplars, obs.value))
    for extra in (aligned_template(r, tl.base_rate), one_upstream(r)):
        if extra is not None:
            out.append(extra)
    return out


def tested(r: LogReport, table: Table, aligned_any: bool) -> list[str]:
    """The signals these logs could have shown: a signature's when a log it can appear in was read."""
    roles = {f.role for f in r.read if f.in_window > 0}
    out = {s.signal for s in table.signatures if roles & set(s.seen_in)}
    if aligned_any:
        out.add("log:template_aligned_with_failures")
    if len([u for u in r.upstreams if u.requests >= 5]) >= 2:
        out.add("log:failures_on_one_upstream")
    return sorted(out)


def _alignment(hits: list[SignatureHit], tl: Timeline) -> Alignment:
    return Alignment(sum(h.alignment.near for h in hits), sum(h.alignment.near_failures for h in hits),
                     sum(h.alignment.by_id for h in hits), sum(h.alignment.by_id_failed for h in hits), tl.base_rate,
                     sum(h.alignment.in_span for h in hits))


def lines_up(a: Alignment, tl: Timeline) -> str:
    """Why a signature's events line up with the runs' failing requests ("" when they do not).

    Either they sit beside failing requests (by request id, else in time) more often than chance
    by a real margin, or, when too few could be placed against the requests to tell, the runs
    hold about as many of them as failing requests (within a factor of 1.5, with at least 3
    failures): one event per failure is what a cause that fails each request it touches writes.
    """
    if not tl or tl.failures == 0:
        return ""
    k, m = (a.by_id_failed, a.by_id) if a.by_id >= 3 else (a.near_failures, a.near)
    if m >= 3:
        if excess(k, m, tl.base_rate) < MIN_EXCESS:
            return ""  # placed against the requests, and not beside the failing ones
        return f"{k:.0f} of {m} sat beside failing requests {'by request id' if a.by_id >= 3 else 'in time'}"
    if tl.failures >= 3 and a.in_span and 2 / 3 <= a.in_span / tl.failures <= 1.5:
        return f"{a.in_span} of them within the runs, for {tl.failures} failing requests"
    return ""


def signature_observation(name: str, hits: list[SignatureHit], tl: Timeline) -> Observation:
    """A table signal: strength from how often it was seen and how it sat against the failures."""
    n = sum(h.count for h in hits)
    a = _alignment(hits, tl)
    first = min((h.first_ns for h in hits if h.first_ns is not None), default=None)
    relevance, why = relevance_of(a, first, n, tl)
    strength = (1 - 0.5 ** n) * relevance
    titles = "; ".join(f"{h.title} ×{h.count}" for h in hits)
    kinds = sorted({k for h in hits for k in h.kinds})
    detail = f"{titles} (in {', '.join(kinds)} logs){'; ' + why if why else ''}"
    exemplars = [e for h in hits for e in h.exemplars][:5]
    return Observation(name, strength, detail, exemplars, float(n))


def relevance_of(a: Alignment, first: int | None, n: int, tl: Timeline) -> tuple[float, str]:
    """How much events bear on the runs' failures: 1 aligned with them … 0.35 outside the runs."""
    if not tl:
        return 0.85, ""
    if tl.failures == 0:
        return 0.4, "the runs had no failing request to set them against"
    k, m = (a.by_id_failed, a.by_id) if a.by_id >= 3 else (a.near_failures, a.near)
    how = "by request id" if a.by_id >= 3 else "in time"
    if m >= 1:
        if m >= 3 and excess(k, m, tl.base_rate) >= MIN_EXCESS:
            return 1.0, (f"{k:.0f} of {m} sat beside failing requests {how} "
                         f"(failures are {tl.base_rate:.0%} of requests)")
        if k / m >= 0.5:
            return 0.9, f"{k:.0f} of {m} sat beside failing requests {how}"
        return 0.7, f"only {k:.0f} of {m} sat beside failing requests {how}"
    if a.in_span:
        return 0.85, f"{a.in_span} fell within the runs, none while a request was being answered"
    if first is not None and n > 0:
        return 0.35, "none of them fell within the runs"
    return 0.85, "their time could not be placed against the runs"


def aligned_template(r: LogReport, base: float) -> Observation | None:
    """The warning or error template most over-represented around failures, as a signal."""
    cands = [t for t in r.over_represented if not t.access and t.level >= WARNING]
    if not cands:
        return None
    t = cands[0]
    a = t.alignment
    n, k = (a.by_id, a.by_id_failed) if a.by_id >= 3 else (a.near, a.near_failures)
    lift = a.lift or 0.0
    return Observation("log:template_aligned_with_failures", excess(k, n, base),
                       f"{t.template!r}: {k:.0f} of {n} events beside failing requests (lift {lift:.1f}; "
                       f"failures are {base:.0%} of requests)", (t.failure_exemplars or t.exemplars)[:3], lift)


def one_upstream(r: LogReport) -> Observation | None:
    """Failing requests of an access log piling on one upstream address."""
    ups = [u for u in r.upstreams if u.requests >= 5]
    if len(ups) < 2:
        return None
    worst = max(ups, key=lambda u: u.failed / u.requests)
    rest_n = sum(u.requests for u in ups) - worst.requests
    rest_k = sum(u.failed for u in ups) - worst.failed
    total_k = worst.failed + rest_k
    if worst.failed < 3 or fisher_greater(worst.failed, worst.requests, rest_k, rest_n) > 0.01:
        return None
    share = worst.failed / total_k
    if share < 0.7:
        return None
    rate = worst.failed / worst.requests
    strength = share * (1 - (rest_k / rest_n if rest_n else 0) / rate) * (1 - math.exp(-worst.failed / 5))
    return Observation("log:failures_on_one_upstream", strength,
                       f"{worst.failed} of {total_k} failing (5xx) requests in the access log were served by "
                       f"{worst.address} ({rate:.0%} of its {worst.requests}); the other upstreams failed "
                       f"{rest_k} of {rest_n}", [], share)


__all__ = ["MIN_EXCESS", "aligned_template", "excess", "lines_up", "observations", "one_upstream", "relevance_of",
           "signature_observation", "tested"]
