"""Server-Timing: which phase of the service's own accounting grows in the failing or slow requests.

A service that sends ``Server-Timing: app;dur=812, pool;dur=790, db;dur=3`` (as
:mod:`tracehound.instrument` does, or any framework that times its phases) tells where each
request spent its time. The prober records the header; here each phase becomes a column of
milliseconds, parsed with Arrow's regular expressions (no per-row Python), and the phases of the
failing requests that answered are compared with those of the successes. When too few failures
carry the header (a gateway's 504 has none), the slowest tenth of the successes is compared with
their fastest half instead. A phase *grows* when it is clearly larger in the first group and
accounts for a good part of the latency between the groups; a wait or a lag (phases a healthy
service keeps near zero) also when it takes a large share (and 100 ms) of the answered requests' time, as when every
request waits alike and only the gateway's 504s, which carry no header, tell them apart.

Phases are recognised by name, not by one library's spelling: ``pool``/``checkout``/``acquire``
(waiting for a pooled connection), ``loop``/``lag``/``blocked`` (event-loop lag), ``db``/``sql``/
``query`` (statements), ``queue`` (waiting before the app).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tracehound.analysis.frame import Frame
from tracehound.analysis.stats import mann_whitney_greater

COLUMN = "h_server_timing"
#: (role, pattern on the phase's name), the first match wins; the total (``app``, ``total``) has none.
ROLES = (
    ("pool", re.compile(r"pool|checkout|acquire|conn(?:ection)?[-_]?wait", re.I)),
    ("loop", re.compile(r"loop|lag|block", re.I)),
    ("db", re.compile(r"^(?:db|sql|query|queries|database|pg|postgres|mysql|sqlite|mongo|orm)"
                      r"|[-_.](?:db|sql|query)$|active_?record", re.I)),
    ("queue", re.compile(r"queue|wait", re.I)),
)
MIN_GROUP = 5
#: The share of the latency between the two groups a phase's growth must account for, and the
#: least growth (ms). Among successes the bar is higher: a busy but healthy service has slow
#: requests too, and a few tens of ms of lag or wait in them is contention, not the failure.
MIN_SHARE_FAILING, MIN_MS_FAILING = 0.2, 5.0
MIN_SHARE_SLOW, MIN_MS_SLOW = 0.4, 100.0
#: A phase that takes this share of the answered requests' latency, and at least DOMINANT_MS, is
#: abnormal by itself for phases a healthy service keeps near zero (waits, lag): it has grown.
DOMINANT_SHARE = 0.25
DOMINANT_MS = 100.0
DOMINANT_ROLES = ("pool", "loop", "queue")
#: Distinct header values looked at to learn the phases' names.
NAME_SAMPLE = 2000
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")


@dataclass
class PhaseGrowth:
    """One phase, compared between the failing (or slow) requests and the others."""

    phase: str
    role: str
    bad_ms: float
    good_ms: float
    #: Median latency of the first group minus the second's (ms).
    latency_gap_ms: float
    #: How much of that gap the phase's growth accounts for, in [0, 1].
    share: float
    #: P(phase larger in a first-group request than in a second-group one).
    auc: float
    p: float
    n_bad: int
    n_good: int
    grows: bool
    rows: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp), repr=False)
    #: Why it counts as grown: "failing" or "slow" (the contrast), "dominant" (most of every answer's time), "".
    how: str = ""
    #: The phase's median over the answered requests, and that over their median latency (0 below DOMINANT_MS).
    answered_ms: float = float("nan")
    dominant_share: float = 0.0


@dataclass
class ServerTiming:
    """What the header showed: its phases, and how each compares between the two groups."""

    with_header: int
    phases: list[str]
    #: "failing" (failing against succeeding requests) or "slow" (slowest tenth against fastest half).
    contrast: str | None
    n_bad: int = 0
    n_good: int = 0
    compared: list[PhaseGrowth] = field(default_factory=list)

    @property
    def growing(self) -> list[PhaseGrowth]:
        return [g for g in self.compared if g.grows]


def role_of(phase: str) -> str | None:
    for role, pattern in ROLES:
        if pattern.search(phase):
            return role
    return None


def phase_names(column: pa.ChunkedArray) -> list[str]:
    """The phase names the header uses, in order of first appearance among its distinct values."""
    values = pc.unique(pc.drop_null(column.slice(0, 200_000))).to_pylist()[:NAME_SAMPLE]
    out: dict[str, None] = {}
    for v in values:
        for entry in str(v).split(","):
            name = entry.split(";", 1)[0].strip()
            if _NAME.match(name):
                out.setdefault(name, None)
    return list(out)


def phase_ms(column: pa.ChunkedArray, phase: str) -> NDArray[np.float64]:
    """The ``dur`` of one phase per row, in ms (NaN where the row has no header or no such phase)."""
    pattern = r"(?:^|,)\s*" + re.escape(phase) + r'\s*(?:;[^,]*)?;\s*dur\s*=\s*"?(?P<dur>[0-9]+(?:\.[0-9]*)?)'
    found = pc.extract_regex(column, pattern=pattern)
    durs = pc.struct_field(found, [0])
    num = pc.cast(durs, pa.float64(), safe=False)
    ms: NDArray[np.float64] = pc.fill_null(num, np.nan).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return ms


def server_timing(frame: Frame, use: NDArray[np.bool_] | None = None, column: str = COLUMN) -> ServerTiming | None:
    """Compare the Server-Timing phases of failing (or slow) requests with the rest; None without the header."""
    if not frame.has(column) or frame.n == 0:
        return None
    col = frame.table.column(column)
    if col.null_count == frame.n:
        return None
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, pa.string())
    names = phase_names(col)
    if not names:
        return None
    values = {p: phase_ms(col, p) for p in names}
    has = np.zeros(frame.n, bool)
    for v in values.values():
        has |= np.isfinite(v)
    lat = frame.latency_ms
    base = has & (frame.status > 0) & np.isfinite(lat)
    if use is not None:
        base &= use
    out = ServerTiming(int(base.sum()), names, None)
    answered = base & frame.ok
    groups = _groups(frame, base)
    gap = 0.0
    if groups is not None:
        out.contrast, bad, good = groups
        out.n_bad, out.n_good = int(bad.sum()), int(good.sum())
        gap = float(np.median(lat[bad]) - np.median(lat[good]))
    for phase, v in values.items():
        role = role_of(phase)
        if role is None:
            continue
        g = _compare(phase, role, v, lat, groups, gap) if groups is not None else None
        ok = answered & np.isfinite(v)
        med = dominant = float("nan")
        if ok.sum() >= MIN_GROUP:
            med, med_lat = float(np.median(v[ok])), float(np.median(lat[ok]))
            dominant = med / med_lat if med >= DOMINANT_MS and med_lat > 0 else 0.0
            if g is None:
                rows = np.flatnonzero(ok)
                g = PhaseGrowth(phase, role, float("nan"), float("nan"), 0.0, 0.0, 0.5, 1.0, 0, 0, False,
                                rows[np.argsort(-v[rows], kind="stable")][:5])
        if g is None:
            continue
        g.answered_ms, g.dominant_share = med, min(1.0, dominant) if np.isfinite(dominant) else 0.0
        if not g.grows and role in DOMINANT_ROLES and g.dominant_share >= DOMINANT_SHARE:
            g.grows, g.how = True, "dominant"
        out.compared.append(g)
    return out


#: The contrast's name ("failing" or "slow") and the masks of its two groups.
_Groups = tuple[str, NDArray[np.bool_], NDArray[np.bool_]]


def _groups(frame: Frame, base: NDArray[np.bool_]) -> _Groups | None:
    """Failing against succeeding requests; without enough failures that answered, the slowest
    successes (a tenth, at least :data:`MIN_GROUP`) against the fastest half."""
    bad, good = base & frame.failed, base & frame.ok
    if bad.sum() >= MIN_GROUP and good.sum() >= MIN_GROUP:
        return "failing", bad, good
    rows = np.flatnonzero(good)
    if rows.size < 4 * MIN_GROUP:
        return None
    order = rows[np.argsort(frame.latency_ms[rows], kind="stable")]
    k = max(MIN_GROUP, rows.size // 10)
    slow, fast = np.zeros(frame.n, bool), np.zeros(frame.n, bool)
    slow[order[-k:]] = True
    fast[order[: rows.size // 2]] = True
    if np.median(frame.latency_ms[slow]) <= np.median(frame.latency_ms[fast]):
        return None
    return "slow", slow, fast


def _compare(phase: str, role: str, v: NDArray[np.float64], lat: NDArray[np.float64], groups: _Groups,
             gap: float) -> PhaseGrowth | None:
    contrast, bad, good = groups
    b, g = bad & np.isfinite(v), good & np.isfinite(v)
    if b.sum() < MIN_GROUP or g.sum() < MIN_GROUP:
        return None
    vb, vg = v[b], v[g]
    mb, mg = float(np.median(vb)), float(np.median(vg))
    auc, p = mann_whitney_greater(_sample(vb), _sample(vg))
    diff = mb - mg
    share = float(np.clip(diff / max(gap, diff, 1e-9), 0.0, 1.0)) if diff > 0 else 0.0
    # Slow requests are often simply longer ones, and any phase counted over a request's
    # lifetime (loop lag) grows with it: among successes, a phase must explain more of the gap.
    min_share, min_ms = (MIN_SHARE_FAILING, MIN_MS_FAILING) if contrast == "failing" else (MIN_SHARE_SLOW, MIN_MS_SLOW)
    grows = diff >= max(min_ms, min_share * gap) and p < 1e-3 and auc >= 0.7
    rows = np.flatnonzero(b)
    rows = rows[np.argsort(-v[rows], kind="stable")][:5]
    return PhaseGrowth(phase, role, mb, mg, gap, share, auc, p, int(b.sum()), int(g.sum()), grows, rows,
                       how=contrast if grows else "")


def _sample(x: NDArray[np.float64], k: int = 20_000) -> NDArray[np.float64]:
    if x.size <= k:
        return x
    return np.random.default_rng(0).choice(x, k, replace=False)


__all__ = ["COLUMN", "PhaseGrowth", "ServerTiming", "phase_ms", "phase_names", "role_of", "server_timing"]
