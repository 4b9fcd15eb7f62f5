"""The metrics agent: the service's own Prometheus metrics, read while the experiments ran.

:class:`MetricsSampler` scrapes a Prometheus text endpoint (``--metrics URL``, such as the
``/metrics`` of :mod:`tracehound.instrument`) every ``interval_s`` and keeps, per scrape, only
the series it knows how to read, matched by name and type rather than by any one library's
spelling:

=================  ===========================================================================
role               matched (examples)
=================  ===========================================================================
pool in use        a database pool's ``*checked_out*``, ``*in_use*``, ``*active*`` gauge
                   (``tracehound_db_pool_checked_out_connections``, ``hikaricp_connections_active``)
pool capacity      its ``*max*`` (or ``*size*``) gauge
pool waiting       its ``*waiting*``/``*pending*`` gauge (callers queued for a connection)
pool wait          its ``*wait*``/``*acquire*`` histogram or summary (time to get a connection)
pool timeouts      its ``*timeout*`` counter; invalidations: its ``*invalidat*`` counter
loop lag           ``*event_loop*lag*``, ``*eventloop*lag*`` gauges and histograms
CPU, memory        ``process_cpu_seconds_total``, ``process_resident_memory_bytes``
=================  ===========================================================================

:func:`query_prometheus` reads the same series from a Prometheus server's HTTP API
(``/api/v1/query_range``) over a window instead, for services already scraped.

:func:`analyze_metrics` lines the scrapes up with the recorded requests: each interval between
two scrapes either overlapped failing requests or not, and each ``metrics:`` signal says what
the service's own figures did while its requests failed (the pool pinned at its limit, checkout
waits growing, the loop lagging, a core saturated), or afterwards (connections still checked
out after the load, memory that kept growing).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import math
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tracehound.agents.base import AgentResult, Finding
from tracehound.agents.sampling import (
    Recording,
    Sample,
    Sampler,
    aligned,
    clock,
    inspect_for,
    one_line,
    recording_result,
)
from tracehound.analysis.frame import Frame, concat
from tracehound.analysis.stats import spearman
from tracehound.diagnosis.signals import Signal, register, signal
from tracehound.errors import BadRun, BadSource, SourceUnreachable
from tracehound.redact import redact_url

NAME = "metrics"
#: A scrape answer larger than this is not read (a metrics page is a few hundred KiB at most).
MAX_BYTES = 16 * 2**20
#: Fewer failing intervals than this, and the signals that compare them are not tested.
MIN_FAILING = 2
#: Waits for a pooled connection below this are noise (seconds).
MIN_WAIT_S = 0.05
#: Loop lag below this is scheduling noise (seconds).
MIN_LAG_S = 0.05
#: Failing intervals lagging less than this share of the calm loaded ones' median are the quiet part of the load.
LAG_QUIET_SHARE = 0.25
#: A process using this share of a core is saturated (a Python process holds one core through the GIL).
CPU_BUSY = 0.85
#: Memory growth over the run that counts: relative and absolute.
MEMORY_GROWTH = 0.2
MEMORY_GROWTH_BYTES = 20 * 2**20

_SIGNALS = {
    "metrics:pool_saturated_with_failures": "the service's database pool was at its limit (all connections checked out, callers waiting) while requests failed",
    "metrics:pool_wait_grows_with_failures": "the time to get a pooled database connection grew while requests failed",
    "metrics:pool_checkout_timeouts": "the service's database pool counted checkouts that gave up waiting for a connection",
    "metrics:pool_checked_out_after_load": "pooled connections stayed checked out after the load had stopped",
    "metrics:pool_invalidations": "the service's pool discarded connections as broken while the experiments ran",
    "metrics:loop_lag_with_failures": "the service's event loop lagged (something blocked its thread) while requests failed",
    "metrics:cpu_saturated": "the service's process used a whole core while requests failed",
    "metrics:memory_grows": "the service's resident memory grew steadily over the experiments",
}
for _name, _desc in _SIGNALS.items():
    register(_name, _desc, "metrics")


# -- which series mean what ---------------------------------------------------------------------

_NOT_DB_POOL = re.compile(r"thread|worker|executor|goroutine|memory|buffer|http|redis|cache|bytes")
_WORD = r"(?:^|_)(?:{})(?:_|$)"
_POOL_ROLES = (  # (role, kinds it applies to, pattern), the first match wins
    ("pool_timeouts", "counter", re.compile(r"timeout")),
    ("pool_invalidations", "counter", re.compile(r"invalidat|broken|discard")),
    ("pool_waiting", "gauge", re.compile(_WORD.format("waiting|waiters|pending|queued|wait_count"))),
    ("pool_wait", "histogram", re.compile(r"wait|acquire|checkout_(?:duration|time|seconds)|pending")),
    ("pool_wait_now", "gauge", re.compile(r"(?:wait|acquire).*(?:seconds|_ms|milliseconds)")),
    ("pool_in_use", "gauge", re.compile(_WORD.format(r"checked_?out|in_?use|active|busy|used|acquired|leased|borrowed"))),
    ("pool_max", "gauge", re.compile(_WORD.format("max|limit|capacity"))),
    ("pool_size", "gauge", re.compile(_WORD.format("size"))),
)
_LOOP_LAG = re.compile(r"(?:event_?loop|(?:^|_)loop)_?(?:\w*_)?(?:lag|delay|block)|lag\w*_loop")
_ROLE_AGG = {"loop_lag": max, "pool_wait_now": max}


def metric_role(name: str, kind: str) -> str | None:
    """What a metric family measures, from its name and type; None when it is none of ours.

    ``kind`` is the family's type as the exposition says it: counter, gauge, histogram, summary,
    or unknown/untyped (then guessed from the name: ``_total`` is a counter).
    """
    n = name.lower()
    if n.endswith("_total"):
        n = n[:-6]
    if kind in ("unknown", "untyped", ""):
        kind = "counter" if name.lower().endswith("_total") else "gauge"
    kind = "histogram" if kind in ("histogram", "summary", "gaugehistogram") else kind
    if n == "process_cpu_seconds":
        return "cpu" if kind == "counter" else None
    if n in ("process_cpu_user_seconds", "process_cpu_system_seconds"):
        return "cpu_part" if kind == "counter" else None
    if n == "process_resident_memory_bytes":
        return "rss" if kind == "gauge" else None
    if _LOOP_LAG.search(n):
        return "loop_lag_hist" if kind == "histogram" else "loop_lag" if kind == "gauge" else None
    if ("pool" in n and not _NOT_DB_POOL.search(n)) or n.startswith("hikaricp_"):
        for role, want, pattern in _POOL_ROLES:
            if want == kind and pattern.search(n):
                return role
    return None


def _unit(name: str) -> float:
    """The factor that turns a metric's values into seconds (or leaves counts alone)."""
    n = name.lower()
    if re.search(r"(?:^|_)(?:ms|milliseconds)(?:_|$)", n):
        return 1e-3
    if re.search(r"(?:^|_)(?:us|microseconds)(?:_|$)", n):
        return 1e-6
    return 1.0


def read_families(families: Iterable[Any]) -> tuple[dict[str, Any], dict[str, set[str]], int]:
    """One scrape's role values, the metric names behind each role, and how many families there were.

    Gauges of one role add up over their label sets (a pool per engine), except lag, which takes
    the worst; histograms and summaries keep their ``[sum, count]``; counters their total.
    """
    values: dict[str, Any] = {}
    names: dict[str, set[str]] = {}
    count = 0
    for fam in families:
        count += 1
        role = metric_role(fam.name, fam.type)
        if role is None:
            continue
        scale = _unit(fam.name)
        if role.endswith("_hist") or role == "pool_wait":
            s = sum(x.value for x in fam.samples if x.name.endswith("_sum")) * scale
            c = sum(x.value for x in fam.samples if x.name.endswith("_count"))
            old = values.get(role, [0.0, 0.0])
            values[role] = [old[0] + s, old[1] + c]
        else:
            vals = [x.value * scale for x in fam.samples
                    if not x.name.endswith(("_created", "_bucket", "_sum", "_count")) and math.isfinite(x.value)]
            if not vals:
                continue
            agg = _ROLE_AGG.get(role)
            v = agg(vals) if agg else sum(vals)
            values[role] = agg(values[role], v) if agg and role in values else values.get(role, 0.0) + v
        names.setdefault(role, set()).add(fam.name)
    if "cpu" not in values and "cpu_part" in values:
        values["cpu"] = values["cpu_part"]
        names["cpu"] = names.get("cpu_part", set())
    values.pop("cpu_part", None)
    names.pop("cpu_part", None)
    return values, names, count


# -- scraping -----------------------------------------------------------------------------------


class NotPrometheus(Exception):
    """The endpoint answered, but not with Prometheus text (HTML, JSON, an error page)."""


class BadAnswer(Exception):
    """The endpoint answered with an HTTP error; ``final`` when retrying will not help (404, 401)."""

    def __init__(self, message: str, final: bool) -> None:
        super().__init__(message)
        self.final = final


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; :class:`BadSource` otherwise."""
    text = (url or "").strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadSource(f"not an http(s) URL: {redact_url(text)!r}", hint="give the metrics endpoint, e.g. http://127.0.0.1:8000/metrics")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadSource(f"bad port in {redact_url(text)!r}") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def parse_text(body: bytes, content_type: str = "") -> list[Any]:
    """The metric families of a Prometheus text answer; :class:`NotPrometheus` when it is something else."""
    from prometheus_client.parser import text_string_to_metric_families

    ctype = content_type.split(";", maxsplit=1)[0].strip().lower()
    if ctype in ("text/html", "application/json", "application/xml", "text/xml", "image/png"):
        raise NotPrometheus(f"it answered {ctype}, not Prometheus text")
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith(("<", "{", "[")):
        raise NotPrometheus("it answered HTML or JSON, not Prometheus text")
    try:
        families = list(text_string_to_metric_families(text))
    except (ValueError, TypeError, IndexError, KeyError) as e:
        raise NotPrometheus(f"its answer does not parse as Prometheus text ({one_line(e)[:80]})") from None
    if not families:
        raise NotPrometheus("its answer holds no metric")
    return families


class MetricsSampler(Sampler):
    """Scrapes a Prometheus text endpoint; see :class:`~tracehound.agents.sampling.Sampler`."""

    source = "metrics endpoint"

    def __init__(self, url: str, interval_s: float = 0.5, timeout_s: float = 3.0) -> None:
        super().__init__(interval_s, heavy_every_s=3600.0)
        try:
            import prometheus_client  # noqa: F401
        except ImportError:  # pragma: no cover - a dependency of the instrument and lab extras
            raise BadSource("the metrics agent needs prometheus-client", hint="pip install 'prometheus-client>=0.20'") from None
        self.scheme, self.host, self.port, self.path = split_url(url)
        self.url = url.strip()
        self.address = self.url
        self.timeout_s = timeout_s
        self.driver_errors = (OSError, http.client.HTTPException, NotPrometheus, BadAnswer)

    def _fatal(self, error: BaseException) -> bool:
        return isinstance(error, NotPrometheus) or (isinstance(error, BadAnswer) and error.final)

    def check(self) -> None:
        """Scrape once: :class:`BadSource` or :class:`SourceUnreachable` when that fails."""
        try:
            conn = self._connect()
            try:
                self._read(conn, True)
            finally:
                self._close(conn)
        except self.driver_errors as e:
            raise connect_error(self.url, e) from None

    def _connect(self) -> Any:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout_s)
        conn.connect()
        if not self.info:
            self.info = {"where": redact_url(self.url), "roles": {}}
        return conn

    def _read(self, conn: Any, heavy: bool) -> dict[str, Any]:
        conn.request("GET", self.path, headers={"Accept": "text/plain;version=0.0.4", "User-Agent": "tracehound-metrics"})
        resp = conn.getresponse()
        body = resp.read(MAX_BYTES + 1)
        if resp.status != 200:
            raise BadAnswer(f"it answered HTTP {resp.status} {resp.reason}".strip(), final=resp.status in (401, 403, 404, 405, 410))
        if len(body) > MAX_BYTES:
            raise NotPrometheus(f"its answer is larger than {MAX_BYTES // 2**20} MiB")
        families = parse_text(body, resp.getheader("content-type") or "")
        values, names, count = read_families(families)
        roles = self.info.setdefault("roles", {})
        for role, ns in names.items():
            roles[role] = sorted(set(roles.get(role, [])) | ns)
        self.info["families"] = count
        return {"roles": values}


def connect_error(url: str, e: BaseException) -> BadSource | SourceUnreachable:
    """A scrape failure as the error a user can act on: the wrong endpoint (2), unreachable (3)."""
    where = redact_url(url)
    msg = one_line(e)
    low = msg.lower()
    if isinstance(e, NotPrometheus) or any(k in low for k in ("prometheus text", "holds no metric", "larger than")):
        return BadSource(f"{where} is not a Prometheus metrics endpoint: {msg}",
                         hint="give the URL that serves Prometheus text, usually …/metrics")
    if isinstance(e, BadAnswer) or msg.startswith("it answered HTTP"):
        return BadSource(f"{where} cannot be scraped: {msg}")
    return SourceUnreachable(f"cannot scrape {where}: {msg}", hint="is the service running and reachable?")


# -- the requests, on the same clock --------------------------------------------------------------


@dataclass
class Timeline:
    """When each probed request ran (wall clock, ns) and whether it failed."""

    start: np.ndarray
    end: np.ndarray
    failed: np.ndarray

    @classmethod
    def of(cls, runs: Sequence[Any]) -> Timeline:
        """The target's requests of ``runs`` (canary runs and unreadable runs left out)."""
        tables = []
        for run in runs:
            if ((getattr(run, "meta", None) or {}).get("experiment") or {}).get("role") == "canary":
                continue
            try:
                table = run.table
            except BadRun:
                continue
            if table.num_rows:
                tables.append(table)
        if not tables:
            z = np.zeros(0, np.int64)
            return cls(z, z, np.zeros(0, bool))
        f = Frame(concat(tables))
        keep = f.counted & (f.start_ns > 0)
        return cls(f.start_ns[keep], f.end_ns[keep], f.primary[keep])

    @property
    def window(self) -> tuple[int, int] | None:
        if self.start.size == 0:
            return None
        return int(self.start.min()), int(self.end.max())

    def overlapping(self, t0: np.ndarray, t1: np.ndarray, failed_only: bool = False) -> np.ndarray:
        """How many requests (or failed ones) were in flight at some point of each [t0, t1]."""
        sel = self.failed if failed_only else np.ones(self.start.size, bool)
        s = np.sort(self.start[sel])
        e = np.sort(self.end[sel])
        return np.searchsorted(s, t1, "right") - np.searchsorted(e, t0, "left")


# -- analysis -------------------------------------------------------------------------------------


@dataclass
class MetricsAnalysis:
    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def signals(self) -> list[Signal]:
        return [s for f in self.findings for s in f.signals]


class _Series:
    """The role values of the scrapes, as arrays over the samples (NaN where a scrape lacked one)."""

    def __init__(self, samples: list[Sample]) -> None:
        self.t = np.array([s.t_ns for s in samples], np.int64)
        self._samples = samples

    def has(self, role: str) -> bool:
        return any(role in s.data["roles"] for s in self._samples)

    def value(self, role: str) -> np.ndarray:
        return np.array([_scalar(s.data["roles"].get(role)) for s in self._samples], np.float64)

    def increase(self, role: str) -> np.ndarray:
        """A counter's increase over each interval (a counter that went down restarted from zero)."""
        v = self.value(role)
        d = np.diff(v)
        return np.where(d < 0, v[1:], d)

    def interval_mean(self, role: str) -> np.ndarray:
        """A histogram's mean observation over each interval (NaN for an interval without one)."""
        pairs = [s.data["roles"].get(role) for s in self._samples]
        sums = np.array([p[0] if p else np.nan for p in pairs], np.float64)
        counts = np.array([p[1] if p else np.nan for p in pairs], np.float64)
        ds, dc = np.diff(sums), np.diff(counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(dc > 0, ds / dc, np.nan)


def _scalar(v: Any) -> float:
    if v is None:
        return np.nan
    return float(v[0] / v[1]) if isinstance(v, list) and v[1] else float(v) if not isinstance(v, list) else np.nan


def analyze_metrics(rec: Recording, timeline: Timeline) -> MetricsAnalysis:
    """Findings and ``metrics:`` signals from a recording of scrapes and the probed requests."""
    out = MetricsAnalysis()
    ok = [s for s in rec.ok_samples if "roles" in (s.data or {})]
    if not ok:
        out.detail = f"no scrape could be read: {rec.first_error() or rec.crash or 'nothing sampled'}"
        return out
    ctx = _Context(rec, ok, timeline, out)
    ctx.run()
    return out


class _Context:
    def __init__(self, rec: Recording, ok: list[Sample], timeline: Timeline, out: MetricsAnalysis) -> None:
        self.rec, self.ok, self.tl, self.out = rec, ok, timeline, out
        self.s = _Series(ok)
        t = self.s.t
        self.t0, self.t1 = t[:-1], t[1:]
        self.window = timeline.window
        self.inflight = timeline.overlapping(self.t0, self.t1) if t.size > 1 else np.zeros(0, np.int64)
        self.failing_n = timeline.overlapping(self.t0, self.t1, failed_only=True) if t.size > 1 else np.zeros(0, np.int64)
        #: Intervals (between consecutive scrapes) that overlapped failing requests, and calm loaded ones.
        self.bad = self.failing_n > 0
        self.calm = (self.inflight > 0) & ~self.bad
        self.loaded = self.inflight > 0
        self.names: dict[str, list[str]] = rec.info.get("roles", {})

    def tested(self, *names: str) -> None:
        self.out.tested.extend(names)

    def finding(self, title: str, detail: str, sigs: list[Signal], exemplars: list[str] | None = None) -> None:
        ex = exemplars if exemplars is not None else [e for s in sigs for e in s.exemplars][:5]
        self.out.findings.append(Finding(title, detail, ex, sigs))

    def named(self, *roles: str) -> str:
        names = sorted({n for r in roles for n in self.names.get(r, [])})
        return ", ".join(names[:4]) + (" …" if len(names) > 4 else "")

    def when(self, i: int) -> str:
        """Interval ``i`` for an exemplar: its end, and the requests in flight and failing."""
        return f"{clock(int(self.t1[i]))} ({int(self.failing_n[i])} failing of {int(self.inflight[i])} requests in flight)"

    @property
    def enough_failures(self) -> bool:
        return int(self.bad.sum()) >= MIN_FAILING

    def run(self) -> None:
        self.pool()
        self.loop()
        self.process()
        roles = sorted(self.names)
        span = (self.ok[-1].t_ns - self.ok[0].t_ns) / 1e9
        inside = int(self.loaded.sum())
        self.out.detail = (f"{len(self.rec.samples)} scrapes of {self.rec.info.get('where', 'the endpoint')} over {span:.1f} s "
                           f"({aligned(inside, self.window)}; {int(self.bad.sum())} interval(s) with failing requests); "
                           f"read: {', '.join(roles) or 'no series tracehound knows'}; {len(self.out.signals)} signal(s)")
        if not roles:
            self.finding("No known series", f"the endpoint serves {self.rec.info.get('families', 0)} metric families, none of "
                         "them a database pool, event-loop lag, process CPU or memory that tracehound recognises", [])

    # -- the connection pool ------------------------------------------------------------------
    def pool(self) -> None:
        s = self.s
        if not any(s.has(r) for r in ("pool_in_use", "pool_wait", "pool_waiting", "pool_timeouts", "pool_wait_now")):
            return
        sigs: list[Signal] = []
        parts: list[str] = []
        in_use = s.value("pool_in_use")
        cap = s.value("pool_max") if s.has("pool_max") else s.value("pool_size")
        waiting = s.value("pool_waiting")
        timeouts = s.increase("pool_timeouts") if s.has("pool_timeouts") else np.zeros(self.t1.size)
        if s.has("pool_in_use"):
            peak = float(np.nanmax(in_use)) if np.isfinite(in_use).any() else 0.0
            limit = float(np.nanmax(cap)) if np.isfinite(cap).any() else None
            parts.append(f"checked out up to {peak:.0f}" + (f" of {limit:.0f}" if limit else "") + f" ({self.named('pool_in_use')})")
            self.saturation(in_use[1:], cap[1:], waiting[1:], timeouts, limit, sigs)
            self.after_load(in_use, sigs, parts)
        if s.has("pool_wait") or s.has("pool_wait_now") or s.has("pool_waiting"):
            self.waits(sigs, parts)
        if s.has("pool_timeouts") and self.loaded.any():
            self.tested("metrics:pool_checkout_timeouts")
            n = int(np.nansum(timeouts[self.loaded]))
            parts.append(f"{n} checkout timeout(s) while requests ran ({self.named('pool_timeouts')})")
            if n:
                ex = [f"+{int(timeouts[i])} checkout timeout(s) by {self.when(i)}" for i in np.flatnonzero(timeouts > 0)[:5]]
                sigs.append(signal("metrics:pool_checkout_timeouts", 0.5 + math.log10(1 + n) / 4,
                                   f"the pool counted {n} checkout(s) that gave up waiting for a connection", ex, value=n))
        if s.has("pool_invalidations") and self.loaded.any():
            self.tested("metrics:pool_invalidations")
            inv = s.increase("pool_invalidations")
            n = int(np.nansum(inv))
            if n:
                ex = [f"+{int(inv[i])} invalidated by {clock(int(self.t1[i]))}" for i in np.flatnonzero(inv > 0)[:5]]
                sigs.append(signal("metrics:pool_invalidations", 0.4 + math.log10(1 + n) / 3,
                                   f"the pool discarded {n} connection(s) as broken ({self.named('pool_invalidations')})", ex,
                                   value=n))
        self.finding("Database connection pool (metrics)", "; ".join(parts), sigs)

    def saturation(self, in_use: np.ndarray, cap: np.ndarray, waiting: np.ndarray, timeouts: np.ndarray,
                   limit: float | None, sigs: list[Signal]) -> None:
        """All connections out (or callers queued, or timeouts) in the intervals where requests failed."""
        if not self.enough_failures:
            return
        self.tested("metrics:pool_saturated_with_failures")
        if limit:
            full = in_use >= np.where(np.isfinite(cap), cap, limit) - 1e-9
        else:  # no stated limit: pinned at its peak, where it sits in many loaded intervals, is a cap
            peak = np.nanmax(in_use)
            full = (in_use >= peak - 1e-9) & (peak >= 1)
            if not np.nansum(full & self.loaded) >= max(2, 0.3 * self.loaded.sum()):
                full = np.zeros_like(full)
        sat = full | (np.nan_to_num(waiting) > 0) | (timeouts > 0)
        bad_share = float(sat[self.bad].mean())
        calm_share = float(sat[self.calm].mean()) if self.calm.any() else 0.0
        if bad_share < 0.5:
            return
        strength = max(0.3, bad_share - 0.5 * calm_share)
        rows = np.flatnonzero(sat & self.bad)
        d = (f"the pool was full, had callers waiting or timed out in {int(sat[self.bad].sum())} of {int(self.bad.sum())} "
             f"intervals with failing requests ({bad_share:.0%}; {calm_share:.0%} of the calm loaded ones)")
        ex = [f"{_fmt(in_use[i])}" + (f"/{_fmt(cap[i] if np.isfinite(cap[i]) else limit)}" if limit else "")
              + f" checked out, {_fmt(waiting[i])} waiting at {self.when(i)}" for i in rows[:5]]
        sigs.append(signal("metrics:pool_saturated_with_failures", strength, d, ex, value=bad_share))

    def waits(self, sigs: list[Signal], parts: list[str]) -> None:
        s = self.s
        if s.has("pool_wait"):
            wait = s.interval_mean("pool_wait")
            names = self.named("pool_wait")
        else:
            wait = s.value("pool_wait_now")[1:] if s.has("pool_wait_now") else np.full(self.t1.size, np.nan)
            names = self.named("pool_wait_now")
        waiting = s.value("pool_waiting")[1:]
        seen_bad = np.isfinite(wait) & self.bad
        if self.loaded.any() and np.isfinite(wait).any():
            parts.append(f"mean checkout wait up to {_secs(float(np.nanmax(wait)))} ({names})")
        if not self.enough_failures or not (seen_bad.any() or np.isfinite(waiting[self.bad]).any()):
            return
        self.tested("metrics:pool_wait_grows_with_failures")
        bad_wait = float(np.nanmedian(wait[seen_bad])) if seen_bad.any() else 0.0
        calm = wait[np.isfinite(wait) & ~self.bad]
        calm_wait = float(np.nanmedian(calm)) if calm.size else 0.0
        queued = float(np.nanmean(np.nan_to_num(waiting[self.bad]) > 0)) if np.isfinite(waiting[self.bad]).any() else 0.0
        grew = bad_wait >= MIN_WAIT_S and bad_wait >= 3 * calm_wait
        if not grew and queued < 0.5:
            return
        strength = max(min(1.0, max(0.3, math.log10(max(bad_wait, 1e-3) / 0.01) / 2)) if grew else 0.0, 0.6 * queued)
        d = (f"getting a pooled connection took {_secs(bad_wait)} (median of the intervals with failing requests) against "
             f"{_secs(calm_wait)} otherwise" + (f"; callers queued for a connection in {queued:.0%} of those intervals" if queued else ""))
        rows = np.flatnonzero(self.bad & (np.nan_to_num(wait) >= MIN_WAIT_S) | self.bad & (np.nan_to_num(waiting) > 0))
        ex = [f"mean wait {_secs(wait[i]) if np.isfinite(wait[i]) else '?'}, {_fmt(waiting[i])} waiting at {self.when(i)}"
              for i in rows[:5]]
        sigs.append(signal("metrics:pool_wait_grows_with_failures", strength, d, ex, value=bad_wait))

    def after_load(self, in_use: np.ndarray, sigs: list[Signal], parts: list[str]) -> None:
        """Connections still out a while after the last request ended: never given back."""
        if self.window is None:
            return
        t = self.s.t
        before = in_use[t < self.window[0]]
        after = np.flatnonzero(t > self.window[1] + 500_000_000)
        if after.size == 0 or not np.isfinite(in_use[after]).any():
            return
        self.tested("metrics:pool_checked_out_after_load")
        rest = float(np.nanmin(before)) if before.size and np.isfinite(before).any() else 0.0
        left = float(np.nanmin(in_use[after]))
        if left - rest >= 1:
            d = (f"{left:.0f} connection(s) stayed checked out {((t[after[-1]] - self.window[1]) / 1e9):.1f} s after the last "
                 f"request ended ({rest:.0f} before the load)")
            parts.append(d)
            sigs.append(signal("metrics:pool_checked_out_after_load", min(1.0, 0.4 + 0.2 * (left - rest)), d,
                               [f"{_fmt(in_use[i])} checked out at {clock(int(t[i]))}, after the load" for i in after[:5]],
                               value=left - rest))

    # -- the event loop --------------------------------------------------------------------------
    def loop(self) -> None:
        s = self.s
        if not (s.has("loop_lag") or s.has("loop_lag_hist")):
            return
        gauge = s.value("loop_lag")[1:] if s.has("loop_lag") else np.full(self.t1.size, np.nan)
        mean = s.interval_mean("loop_lag_hist") if s.has("loop_lag_hist") else np.full(self.t1.size, np.nan)
        lag = np.fmax(gauge, mean)
        names = self.named("loop_lag", "loop_lag_hist")
        sigs: list[Signal] = []
        shown = lag[self.loaded] if self.loaded.any() else lag
        worst = float(np.nanmax(shown)) if np.isfinite(shown).any() else 0.0
        parts = [f"event-loop lag up to {_secs(worst)} while requests ran ({names})"]
        if self.enough_failures and np.isfinite(lag[self.bad]).any():
            self.tested("metrics:loop_lag_with_failures")
            high = np.nan_to_num(lag) >= MIN_LAG_S
            share = float(high[self.bad].mean())
            calm = float(np.nanmedian(lag[self.calm])) if np.isfinite(lag[self.calm]).any() else 0.0
            bad_lag = float(np.nanmedian(lag[self.bad]))
            # A blocked loop delays every request, so calm loaded intervals lag too, and a scrape that
            # waited behind a stall reports it in whichever interval it lands: the failing intervals
            # must lag, and must not be a far quieter part of the load (a quarter of the calm median;
            # half was too close: 471 ms against 919 ms calm on a run where the loop was the cause).
            if share >= 0.4 and bad_lag >= max(MIN_LAG_S, LAG_QUIET_SHARE * calm):
                strength = min(1.0, share * max(0.5, min(1.0, math.log10(bad_lag / 0.01) / 1.5)))
                d = (f"the event loop lagged {_secs(bad_lag)} (median) in the intervals with failing requests, at least "
                     f"{_secs(MIN_LAG_S)} in {share:.0%} of them; {_secs(calm)} in calm loaded ones")
                ex = [f"lag {_secs(lag[i])} at {self.when(i)}" for i in np.flatnonzero(high & self.bad)[:5]]
                sigs.append(signal("metrics:loop_lag_with_failures", strength, d, ex, value=bad_lag))
                parts.append(d)
        self.finding("Event loop (metrics)", "; ".join(parts), sigs)

    # -- the process -------------------------------------------------------------------------------
    def process(self) -> None:
        s = self.s
        sigs: list[Signal] = []
        parts: list[str] = []
        if s.has("cpu"):
            dt = np.diff(s.t) / 1e9
            with np.errstate(invalid="ignore", divide="ignore"):
                cores = np.where(dt > 0, s.increase("cpu") / dt, np.nan)
            if self.loaded.any() and np.isfinite(cores[self.loaded]).any():
                parts.append(f"CPU up to {np.nanmax(cores[self.loaded]):.2f} core(s) while requests ran")
            if self.enough_failures and np.isfinite(cores[self.bad]).any():
                self.tested("metrics:cpu_saturated")
                busy = float(np.nanmedian(cores[self.bad]))
                if busy >= CPU_BUSY:
                    d = f"the process used {busy:.2f} core(s) (median) in the intervals with failing requests"
                    ex = [f"{cores[i]:.2f} cores at {self.when(i)}" for i in np.flatnonzero(self.bad & (cores >= CPU_BUSY))[:5]]
                    sigs.append(signal("metrics:cpu_saturated", min(1.0, 0.4 + (busy - CPU_BUSY) * 2), d, ex, value=busy))
        if s.has("rss"):
            self.memory(sigs, parts)
        if parts or sigs:
            self.finding("Process (metrics)", "; ".join(parts), sigs)

    def memory(self, sigs: list[Signal], parts: list[str]) -> None:
        rss = self.s.value("rss")
        t = self.s.t
        inside = np.isfinite(rss) & ((t >= self.window[0]) & (t <= self.window[1] + 1_000_000_000) if self.window else True)
        if inside.sum() < 6 or (t[inside][-1] - t[inside][0]) < 5e9:
            return
        self.tested("metrics:memory_grows")
        v, tt = rss[inside], t[inside]
        third = max(2, v.size // 3)
        first, last = float(np.median(v[:third])), float(np.median(v[-third:]))
        grow = last - first
        rho, p = spearman(tt.astype(np.float64), v)
        parts.append(f"resident memory {first / 2**20:.0f} → {last / 2**20:.0f} MiB over the load")
        if grow >= MEMORY_GROWTH_BYTES and grow >= MEMORY_GROWTH * first and rho >= 0.7 and p < 0.01:
            d = (f"resident memory grew from {first / 2**20:.0f} to {last / 2**20:.0f} MiB ({grow / first:.0%}) over "
                 f"{(tt[-1] - tt[0]) / 1e9:.0f} s, steadily (Spearman {rho:.2f})")
            sigs.append(signal("metrics:memory_grows", min(1.0, 0.3 + grow / first), d,
                               [f"{v[i] / 2**20:.0f} MiB at {clock(int(tt[i]))}" for i in np.linspace(0, v.size - 1, 5).astype(int)],
                               value=grow / first))


def _fmt(v: Any) -> str:
    return "?" if v is None or not np.isfinite(v) else f"{v:.0f}"


def _secs(s: float) -> str:
    if not np.isfinite(s):
        return "?"
    return f"{s:.2f} s" if s >= 1 else f"{s * 1000:.0f} ms" if s >= 0.001 else f"{s * 1000:.2f} ms"


# -- a Prometheus server's HTTP API -------------------------------------------------------------------


def query_prometheus(url: str, since_ns: int, until_ns: int, step_s: float = 1.0, timeout_s: float = 10.0) -> Recording:
    """The series :func:`analyze_metrics` reads, from a Prometheus server over [since, until], as a recording.

    It lists the server's metric names (``/api/v1/label/__name__/values``), keeps those a role
    matches, and fetches each with ``/api/v1/query_range`` (histograms through their ``_sum`` and
    ``_count``). Each step becomes one sample, as if scraped then. Errors raise :class:`BadSource`
    or :class:`SourceUnreachable`.
    """
    if until_ns <= since_ns:
        raise BadSource("--until must be after --since")
    if (until_ns - since_ns) / 1e9 / step_s > 11_000:
        step_s = (until_ns - since_ns) / 1e9 / 11_000  # Prometheus refuses more than 11,000 points per series
    scheme, host, port, base = split_url(url)
    base = base.rstrip("/")
    api = _PrometheusApi(scheme, host, port, base, timeout_s, url)
    names = api.get("/api/v1/label/__name__/values", {})
    if not isinstance(names, list):
        raise BadSource(f"{redact_url(url)} is not a Prometheus server: its label API gave no list of names")
    wanted: dict[str, tuple[str, str]] = {}  # query → (role, family name)
    for name in sorted(set(map(str, names))):
        for fam, kind, query in _candidate(name):
            role = metric_role(fam, kind)
            if role is not None:
                wanted[query] = (role, fam)
    steps: dict[int, dict[str, Any]] = {}
    roles: dict[str, set[str]] = {}
    params = {"start": f"{since_ns / 1e9:.3f}", "end": f"{until_ns / 1e9:.3f}", "step": f"{step_s:g}"}
    for query, (role, fam) in wanted.items():
        result = api.get("/api/v1/query_range", {"query": query, **params})
        scale = _unit(fam)
        for series in result.get("result", []) if isinstance(result, dict) else []:
            for ts, value in series.get("values", []):
                v = float(value)
                if not math.isfinite(v):
                    continue
                t = int(round(float(ts) * 1e9))
                roles_at = steps.setdefault(t, {})
                _accumulate(roles_at, role, query, v * scale if not query.endswith("_count") else v)
        roles.setdefault(role, set()).add(fam)
    samples = [Sample(t, "prometheus", {"roles": _finish(v)}) for t, v in sorted(steps.items())]
    info = {"where": redact_url(url), "roles": {r: sorted(n) for r, n in roles.items()}, "families": len(wanted),
            "step_s": step_s}
    return Recording("Prometheus", samples, [], info)


def _candidate(name: str) -> list[tuple[str, str, str]]:
    """(family, type, query) for a metric name as Prometheus stores it (histograms as _sum/_count)."""
    if name.endswith("_bucket") or name.endswith("_created"):
        return []
    if name.endswith(("_sum", "_count")):
        return [(name.rsplit("_", 1)[0], "histogram", name)]
    return [(name, "counter" if name.endswith("_total") else "gauge", name)]


def _accumulate(at: dict[str, Any], role: str, query: str, v: float) -> None:
    if role.endswith("_hist") or role == "pool_wait":
        pair = at.setdefault(role, [0.0, 0.0])
        pair[1 if query.endswith("_count") else 0] += v
        return
    agg = _ROLE_AGG.get(role)
    at[role] = agg(at[role], v) if agg and role in at else at.get(role, 0.0) + v


def _finish(roles: dict[str, Any]) -> dict[str, Any]:
    if "cpu" not in roles and "cpu_part" in roles:
        roles["cpu"] = roles["cpu_part"]
    roles.pop("cpu_part", None)
    return roles


class _PrometheusApi:
    def __init__(self, scheme: str, host: str, port: int, base: str, timeout_s: float, url: str) -> None:
        self.scheme, self.host, self.port, self.base, self.timeout_s, self.url = scheme, host, port, base, timeout_s, url

    def get(self, path: str, params: dict[str, str]) -> Any:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout_s)
        where = redact_url(self.url)
        try:
            conn.request("GET", self.base + path + ("?" + urllib.parse.urlencode(params) if params else ""),
                         headers={"Accept": "application/json", "User-Agent": "tracehound-metrics"})
            resp = conn.getresponse()
            body = resp.read(64 * 2**20)
        except (OSError, http.client.HTTPException) as e:
            raise SourceUnreachable(f"cannot query Prometheus at {where}: {one_line(e)}",
                                    hint="is the server running and reachable?") from None
        finally:
            conn.close()
        try:
            doc = json.loads(body)
        except ValueError:
            raise BadSource(f"{where} is not a Prometheus server: {path} answered HTTP {resp.status} without JSON") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            err = doc.get("error") if isinstance(doc, dict) else None
            raise BadSource(f"Prometheus at {where} refused {path}: {err or f'HTTP {resp.status}'}")
        return doc.get("data")


# -- the agent and the command -----------------------------------------------------------------------


async def metrics_agent(case: Any, runs: Sequence[Any], sampler: MetricsSampler | None = None) -> AgentResult:
    """The metrics agent: the sampler's scrapes (or, without one, two taken now) against the runs."""
    url = getattr(getattr(case, "sources", None), "metrics", None)
    if sampler is None:
        if not url:
            return AgentResult(NAME, "skipped", "no --metrics given")
        try:
            sampler = MetricsSampler(url)
        except BadSource as e:
            return AgentResult(NAME, "failed", e.line())
        await asyncio.to_thread(sampler.sample_once)
    return await asyncio.to_thread(_result, sampler.recording(), list(runs), sampler.address)


async def prometheus_agent(url: str, runs: Sequence[Any], since_ns: int | None = None, until_ns: int | None = None,
                           step_s: float = 1.0) -> AgentResult:
    """The metrics agent over a Prometheus server's stored series; the window defaults to the runs' span (±5 s)."""
    runs = list(runs)
    if since_ns is None or until_ns is None:
        window = (await asyncio.to_thread(Timeline.of, runs)).window
        if window is None and (since_ns is None or until_ns is None):
            return AgentResult(NAME, "skipped", "no --since/--until given and no requests to take the window from")
        since_ns = since_ns if since_ns is not None else window[0] - 5 * 10**9  # type: ignore[index]
        until_ns = until_ns if until_ns is not None else window[1] + 5 * 10**9  # type: ignore[index]
    try:
        rec = await asyncio.to_thread(query_prometheus, url, since_ns, until_ns, step_s)
    except (BadSource, SourceUnreachable) as e:
        return AgentResult(NAME, "failed", e.line())
    if not rec.samples:
        return AgentResult(NAME, "skipped", f"Prometheus at {redact_url(url)} holds none of the series tracehound reads "
                           "(pool, event-loop lag, process CPU or memory) in that window")
    return await asyncio.to_thread(_result, rec, runs, url)


def _result(rec: Recording, runs: list[Any], url: str) -> AgentResult:
    timeline = Timeline.of(runs)
    return recording_result(NAME, rec, timeline.start, url, lambda r, _t: analyze_metrics(r, timeline), connect_error)


def inspect_metrics(url: str, duration_s: float = 10.0, interval_s: float = 0.5) -> AgentResult:
    """Scrape an endpoint for ``duration_s`` and report what it shows (no requests to align with)."""
    sampler = MetricsSampler(url, interval_s=interval_s)
    return inspect_for(sampler, duration_s, lambda rec, _t, address: _result(rec, [], address))


__all__ = ["MetricsSampler", "NotPrometheus", "Timeline", "analyze_metrics", "connect_error", "inspect_metrics",
           "metric_role", "metrics_agent", "prometheus_agent", "query_prometheus", "read_families"]
