"""Contrast, as Honeycomb's BubbleUp does it: which attribute values the failures over-represent.

For every recorded attribute (path, step, method, host, response headers, connection reuse,
worker, virtual-user bucket, in-flight level, experiment …) and each of its values, compare the
failures with the successes: the share of failures that have the value against the share of
successes that have it (the effect size, as BubbleUp draws it), and the failure rate with the
value against without it (one-sided Fisher exact test, or a two-proportion z-test for large
counts). The p-values of every value of every attribute are corrected together with
Benjamini–Hochberg.

Attributes carry a role, because a response's status class "explains" its failure trivially:
``request`` (what was asked), ``server`` (who answered: response headers that name a backend),
``response`` (other response properties, outcomes included), ``context`` (load, connection, VU).

Parameters from data have values by the hundred or thousand, each sent a few times:
:func:`parameter_contrast` tests each value's failures against the rest's rate (an exact binomial
tail), corrected over all the values, and names the few the failures follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tracehound.analysis.frame import Codes, Frame
from tracehound.analysis.load import level_of
from tracehound.analysis.stats import bh, binom_greater, prop_greater, rate_greater

#: Response headers that never identify a server: content, tracing, timing and throttling headers.
NOT_SERVER_HEADERS = ("h_content_type", "h_content_length", "h_retry_after", "h_x_request_id", "h_server_timing",
                      "h_date", "h_etag", "h_last_modified", "h_x_trace_id", "h_traceparent", "h_x_correlation_id",
                      "h_set_cookie", "h_location", "h_cache_control", "h_expires", "h_age", "h_vary",
                      "h_content_encoding", "h_transfer_encoding", "h_connection", "h_keep_alive", "h_www_authenticate")
MAX_VALUES = 64
VU_BUCKETS = 8
#: A parameter value's failures must stand out at this false-discovery rate to be one the failures follow.
PARAMETER_Q = 0.01


@dataclass
class Attribute:
    name: str
    role: str  # request | server | response | context
    codes: NDArray[np.int32]
    values: list[str]


@dataclass
class ContrastItem:
    attribute: str
    role: str
    value: str
    #: Failures and requests with the value; failures and requests without it.
    failures: int
    requests: int
    failures_without: int
    requests_without: int
    #: Share of all failures having the value, and share of all successes having it.
    fail_share: float
    ok_share: float
    p: float
    q: float = 1.0

    @property
    def diff(self) -> float:
        """BubbleUp's effect: how much more common the value is among failures than among successes."""
        return self.fail_share - self.ok_share

    @property
    def rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    @property
    def rate_without(self) -> float:
        return self.failures_without / self.requests_without if self.requests_without else 0.0

    @property
    def lift(self) -> float:
        return self.rate / self.rate_without if self.rate_without > 0 else float("inf")

    def describe(self) -> str:
        return (f"{self.attribute}={self.value}: "
                f"{self.fail_share:.0%} of failures vs {self.ok_share:.0%} of successes; "
                f"fails {self.rate:.0%} of the time against {self.rate_without:.0%} otherwise (q={self.q:.1e})")


def contrast(attributes: list[Attribute], failed: NDArray[np.bool_], counted: NDArray[np.bool_],
             max_values: int = MAX_VALUES) -> list[ContrastItem]:
    """Every attribute value over-represented among the failures, most significant effect first.

    An attribute needs at least two values among the counted rows; its values beyond the
    ``max_values`` most frequent are pooled as "(other)". Null codes (-1) count as "(none)".
    """
    f = np.asarray(failed) & counted
    K = int(f.sum())
    N = int(np.asarray(counted).sum())
    if K == 0 or K == N:
        return []
    counts: list[AttributeCounts] = []
    # Failures are few and uncounted rows fewer: count them by index, everything else without weights.
    fail_rows = np.flatnonzero(f)
    skip_rows = np.flatnonzero(~np.asarray(counted))
    for attr in attributes:
        shift = np.asarray(attr.codes) + 1  # -1 (none) → 0
        size = len(attr.values) + 1
        n = np.bincount(shift, minlength=size)
        if skip_rows.size:
            n = n - np.bincount(shift[skip_rows], minlength=size)
        k = np.bincount(shift[fail_rows], minlength=size)
        counts.append(AttributeCounts(attr.name, attr.role, ["(none)", *map(str, attr.values)], k, n))
    return contrast_counts(counts, K, N, max_values)


@dataclass
class AttributeCounts:
    """One attribute's values with their failures ``k`` and requests ``n`` (counted elsewhere: SQL)."""

    name: str
    role: str
    values: list[str]
    k: NDArray[np.integer[Any]]
    n: NDArray[np.integer[Any]]


def contrast_counts(counts: list[AttributeCounts], failures: int, requests: int,
                    max_values: int = MAX_VALUES) -> list[ContrastItem]:
    """:func:`contrast` from per-value counts: the same tests and correction, for data counted in SQL."""
    K, N = int(failures), int(requests)
    if K == 0 or K == N:
        return []
    items: list[ContrastItem] = []
    ok_total = N - K
    n_tests = 0
    for c in counts:
        n = np.asarray(c.n, dtype=np.int64)
        k = np.asarray(c.k, dtype=np.int64)
        names = list(c.values)
        present = np.flatnonzero(n)
        n_tests += max(1, present.size)
        if present.size < 2:
            continue
        if present.size > max_values:
            top = present[np.argsort(-n[present], kind="stable")[:max_values]]
            rest = np.setdiff1d(present, top)
            n = np.r_[n[top], n[rest].sum()]
            k = np.r_[k[top], k[rest].sum()]
            names = [names[i] for i in top] + ["(other)"]
            present = np.arange(n.size)
        kv, nv = k[present], n[present]
        over = kv * (N - nv) > (K - kv) * nv  # rate with the value above the rate without
        p = np.where(over, prop_greater(kv, nv, K - kv, N - nv), 1.0)
        for j in np.flatnonzero(over):
            kk, nn = int(kv[j]), int(nv[j])
            if min(nn, N - nn) * min(K, N - K) / N < 20 or N < 2000:
                p[j] = rate_greater(kk, nn, K - kk, N - nn)
        for j in np.flatnonzero(over):
            items.append(ContrastItem(c.name, c.role, names[present[j]], int(kv[j]), int(nv[j]),
                                      K - int(kv[j]), N - int(nv[j]), kv[j] / K, (nv[j] - kv[j]) / ok_total,
                                      float(p[j])))
    if not items:
        return []
    # Every value tested counts in the correction, also those not over-represented (p = 1).
    ps = np.array([i.p for i in items] + [1.0] * max(0, n_tests - len(items)))
    qs = bh(ps)[: len(items)]
    for it, q in zip(items, qs, strict=True):
        it.q = float(q)
    items.sort(key=lambda i: (i.q >= 0.01, -i.diff))
    return items


@dataclass
class ParameterValue:
    """One value of a parameter, with its failures and requests."""

    value: str
    failures: int
    requests: int
    q: float

    @property
    def rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass
class ParameterContrast:
    """Which values of one parameter (a data pool's column of the records) the failures follow."""

    name: str
    #: Distinct values among the counted requests; failures and requests that had a value.
    values: int
    failures: int
    requests: int
    #: The values whose requests fail far more often than the others', most failures first.
    failing: list[ParameterValue]

    @property
    def covered(self) -> int:
        """Failures of the failing values."""
        return sum(v.failures for v in self.failing)

    @property
    def share(self) -> float:
        """Share of the failures that the failing values hold."""
        return self.covered / self.failures if self.failures else 0.0

    @property
    def rest_rate(self) -> float:
        """Failure rate of the other values."""
        rest = self.requests - sum(v.requests for v in self.failing)
        return (self.failures - self.covered) / rest if rest else 0.0

    def describe(self, limit: int = 5) -> str:
        """``fails for 3 of 400 values of customers (96% of the failures): 7 (30/30), …``."""
        if not self.failing:
            return f"no value of {self.name} fails more than the others ({self.values} values)"
        shown = ", ".join(f"{v.value} ({v.failures}/{v.requests})" for v in self.failing[:limit])
        more = f" and {len(self.failing) - limit} more" if len(self.failing) > limit else ""
        return (f"fails for {len(self.failing)} of {self.values} values of {self.name} ({self.share:.0%} of the "
                f"failures): {shown}{more}; the other values fail {self.rest_rate:.1%} of the time")


def parameter_contrast(name: str, codes: NDArray[np.int32], values: list[str], failed: NDArray[np.bool_],
                       counted: NDArray[np.bool_], q: float = PARAMETER_Q) -> ParameterContrast:
    """The values of a parameter whose requests fail significantly more often than the rest's.

    ``codes`` index ``values`` (-1: the request used no value). A value counts when its failures
    are improbable at the other values' failure rate (one-sided binomial tail, the rate smoothed by
    half a failure so that one stray failure elsewhere cannot make it zero), Benjamini–Hochberg
    corrected over every value, when it failed at least twice, and at twice the others' rate.
    """
    codes = np.asarray(codes)
    use = np.asarray(counted) & (codes >= 0)
    c = codes[use]
    f = np.asarray(failed)[use]
    n = np.bincount(c, minlength=len(values))
    k = np.bincount(c[f], minlength=len(values))
    K, N = int(k.sum()), int(n.sum())
    present = np.flatnonzero(n)
    if K == 0 or K == N or present.size < 2:
        return ParameterContrast(name, int(present.size), K, N, [])
    kv, nv = k[present].astype(np.float64), n[present].astype(np.float64)
    rest = (K - kv + 0.5) / (N - nv + 1.0)
    over = kv > nv * rest
    p = np.ones(present.size)
    p[over] = binom_greater(kv[over], nv[over], rest[over])
    qs = bh(p)
    pick = np.flatnonzero((qs < q) & (kv >= 2) & (kv >= 2 * nv * rest))
    pick = pick[np.lexsort((-nv[pick], -kv[pick]))]
    failing = [ParameterValue(values[present[j]], int(kv[j]), int(nv[j]), float(qs[j])) for j in pick]
    return ParameterContrast(name, int(present.size), K, N, failing)


def attributes(frame: Frame) -> list[Attribute]:
    """The attributes of a frame's requests worth contrasting, with their roles."""
    out: list[Attribute] = []

    def add(name: str, role: str, enc: Codes | None) -> None:
        if enc is not None and len(enc[1]) >= 1:
            out.append(Attribute(name, role, enc[0], [str(v) for v in enc[1]]))

    add("step", "request", frame.codes("step"))
    path = frame.codes("path")
    if path is None and frame.has("path"):
        masked = pc.replace_substring_regex(frame.table.column("path"), r"[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}|\d+", "N")
        path = _encode(masked)
    add("path", "request", path)
    add("method", "request", frame.codes("method"))
    add("host", "request", frame.codes("host"))
    for col in frame.header_columns():
        role = "response" if col in NOT_SERVER_HEADERS or "ratelimit" in col or "rate_limit" in col else "server"
        add(col, role, frame.codes(col))
    status = frame.status
    cls = np.where(status > 0, np.minimum(status // 100, 5), 0).astype(np.int32)
    add("status_class", "response", (cls, ["none", "1xx", "2xx", "3xx", "4xx", "5xx"]))
    reused = frame.conn_reused.astype(np.int32)
    add("conn_reused", "context", (np.where(reused >= 0, reused, -1), ["new", "reused"]))
    if frame.has("worker"):
        w = frame.numeric("worker", np.int32, -1)
        uniq = _present(w)
        worker_codes = np.where(w >= 0, np.searchsorted(uniq, w), -1).astype(np.int32)
        add("worker", "context", (worker_codes, [str(u) for u in uniq]))
    vu = frame.vu
    if (vu >= 0).any():
        uniq = _present(vu)
        if uniq.size > VU_BUCKETS:
            edges = np.quantile(uniq, np.linspace(0, 1, VU_BUCKETS + 1))[1:-1]
            b = np.searchsorted(edges, vu, side="right").astype(np.int32)
            lo = np.r_[uniq.min(), np.ceil(edges)].astype(np.int64)
            hi = np.r_[np.ceil(edges) - 1, uniq.max()].astype(np.int64)
            add("vu", "context", (np.where(vu >= 0, b, -1), [f"{a}–{z}" for a, z in zip(lo, hi, strict=True)]))
        else:
            inv = np.searchsorted(uniq, vu).astype(np.int32)
            add("vu", "context", (np.where(vu >= 0, inv, -1), [str(u) for u in uniq]))
    inflight = frame.inflight
    if (inflight > 0).any():
        lv = level_of(inflight).astype(np.int32)
        names = ["1" if j == 0 else f"{2 ** (j - 1) + 1}–{2 ** j}" if j > 1 else "2" for j in range(int(lv.max()) + 1)]
        add("inflight", "context", (np.where(inflight > 0, lv, -1), names))
    kinds = [r.kind or "probe" for r in frame.runs]
    if len(set(kinds)) > 1:
        uniq_k = sorted(set(kinds))
        per_run = np.array([uniq_k.index(k) for k in kinds], np.int32)
        add("experiment", "context", (per_run[frame.run], uniq_k))
    return out


def _present(ids: NDArray[np.integer[Any]]) -> NDArray[np.intp]:
    """The distinct non-negative values of an integer column, sorted (by counting, not sorting)."""
    ids = np.asarray(ids)
    ids = ids[ids >= 0] if (ids < 0).any() else ids
    return np.flatnonzero(np.bincount(ids)) if ids.size else np.zeros(0, np.intp)


def _encode(col: pa.ChunkedArray | pa.Array) -> Codes | None:
    enc = pc.dictionary_encode(col)
    chunks = enc.chunks if hasattr(enc, "chunks") else [enc]
    if not chunks:
        return None
    values = chunks[0].dictionary.to_pylist()
    if len(values) > 1000:
        return None
    codes = np.concatenate([pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in chunks])
    return codes.astype(np.int32), values


__all__ = ["PARAMETER_Q", "Attribute", "AttributeCounts", "ContrastItem", "ParameterContrast", "ParameterValue",
           "attributes", "contrast", "contrast_counts", "parameter_contrast"]
