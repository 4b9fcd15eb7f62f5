"""The report's charts, drawn from the runs' records as inline SVG.

Every chart is a pure function of :class:`Records` (the target runs' columns as NumPy arrays,
read once) that returns a :class:`Chart`, or a reason it has nothing to show. Matplotlib's
object API is used without pyplot, so no GUI backend and no global figure state is involved;
scatter plots are thinned to a fixed number of points so a run of millions of requests draws
as fast, and weighs as little, as one of thousands.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tracehound.analysis.outcome import error_codes, failed_mask, status_codes
from tracehound.analysis.plateau import plateaus
from tracehound.probe.meta import ExperimentMeta
from tracehound.probe.records import ERROR_KINDS
from tracehound.probe.run import Run

#: At most this many points per outcome in a scatter plot.
MAX_POINTS = 2500
#: Experiment kinds whose runs are load levels of the sweep (one concurrency or rate each).
LEVEL_KINDS = ("baseline", "sweep", "confirm")

_CANCELLED = ERROR_KINDS.index("cancelled")
_COLUMNS = ("start_ns", "total_ms", "status", "error_kind", "conn_idle_ms", "conn_reused")
#: Outcome classes, in drawing order: label, colour.
_OUTCOMES = (("2xx/3xx", "#4c78a8"), ("4xx", "#f58518"), ("5xx", "#d62728"), ("no response", "#6b2c91"))
# Typed Any: matplotlib's stubs want literal keys; matplotlib checks them when the dict is used.
_RC: Any = {"svg.fonttype": "none", "font.size": 9, "axes.titlesize": 10, "axes.spines.top": False,
            "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 8,
            "legend.frameon": False}


@dataclass
class Chart:
    """One drawn chart: its SVG (without the XML prologue), or why it was left out."""

    name: str
    title: str
    caption: str = ""
    svg: str = ""
    skipped: str = ""

    @property
    def drawn(self) -> bool:
        return bool(self.svg)

    def svg_file(self) -> str:
        """The SVG as a standalone file."""
        return '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + self.svg


@dataclass
class RunInfo:
    """What a chart needs to know about one run: its name and its place in the experiments."""

    name: str
    kind: str | None
    role: str
    concurrency: int | None
    rate: float | None
    during: str | None


@dataclass
class Records:
    """The requests of every run, as columns, with the run each came from."""

    runs: list[RunInfo]
    run: np.ndarray
    #: Seconds since the first request of the first target run.
    t_s: np.ndarray
    total_ms: np.ndarray
    status: np.ndarray
    error: np.ndarray
    idle_ms: np.ndarray
    failed: np.ndarray
    cancelled: np.ndarray
    problems: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.run.size)

    def mask(self, keep: Callable[[RunInfo], bool]) -> np.ndarray:
        """Rows of the runs that ``keep`` accepts."""
        ok = np.array([keep(r) for r in self.runs] or [False], dtype=bool)
        return ok[self.run] if self.n else np.zeros(0, bool)

    @property
    def target(self) -> np.ndarray:
        """Rows of the runs that load the target (not canaries)."""
        return self.mask(lambda r: r.role == "target")


def load_records(run_dirs: list[Path]) -> Records:
    """The columns the charts need from every run folder; unreadable runs are noted and left out."""
    runs: list[RunInfo] = []
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("run", "start", "total", "status", "error", "idle")}
    problems: list[str] = []
    for d in run_dirs:
        try:
            run = Run.load(d)
            table = run.read([c for c in _COLUMNS if c in _schema_names(run)])
        except Exception as e:  # noqa: BLE001 - a damaged run loses its charts, not the report
            problems.append(f"{d.name}: {e}")
            continue
        exp = run.meta.experiment or ExperimentMeta()
        runs.append(RunInfo(d.name, exp.kind, exp.role, exp.concurrency, exp.rate, exp.during))
        n = table.num_rows
        parts["run"].append(np.full(n, len(runs) - 1, np.int32))
        parts["start"].append(_col(table, "start_ns", np.int64, 0))
        parts["total"].append(_col(table, "total_ms", np.float64, np.nan))
        parts["status"].append(status_codes(table) if "status" in table.column_names else np.zeros(n, np.int32))
        parts["error"].append(error_codes(table.column("error_kind")) if "error_kind" in table.column_names
                              else np.full(n, -1, np.int8))
        idle = _col(table, "conn_idle_ms", np.float64, np.nan)
        if "conn_reused" in table.column_names:
            idle = np.where(_col(table, "conn_reused", np.float64, 0.0) > 0, idle, 0.0)
        parts["idle"].append(idle)
    cat = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in parts.items()}
    run_ix = cat["run"].astype(np.int32)
    status = cat["status"].astype(np.int32)
    error = cat["error"].astype(np.int8)
    start = cat["start"].astype(np.int64)
    is_target = np.array([r.role == "target" for r in runs] or [False])[run_ix] if run_ix.size else np.zeros(0, bool)
    valid = start > 0
    ref = start[valid & is_target] if (valid & is_target).any() else start[valid]
    t0 = int(ref.min()) if ref.size else 0
    t_s = np.where(valid, (start - t0) / 1e9, np.nan)
    return Records(runs, run_ix, t_s, cat["total"].astype(np.float64), status, error, cat["idle"].astype(np.float64),
                   failed_mask(status, error), error == _CANCELLED, problems)


def _schema_names(run: Run) -> set[str]:
    import pyarrow.parquet as pq

    return set(pq.read_schema(run.path / "requests.parquet").names)


def _col(table: pa.Table, name: str, dtype: Any, fill: float) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, fill, dtype)
    col = table.column(name)
    if col.null_count:
        col = col.cast(pa.float64()).fill_null(fill)
    return col.to_numpy().astype(dtype, copy=False) if table.num_rows else np.zeros(0, dtype)


# -- the charts -------------------------------------------------------------------------------


def draw_all(rec: Records) -> list[Chart]:
    """Every chart, in the report's order; a chart without data comes back with ``skipped`` set."""
    import matplotlib

    out = []
    for fn in (latency_over_time, load_curve, failure_latency_histogram, idle_gap_curve, status_distribution):
        with matplotlib.rc_context(_RC):
            out.append(fn(rec))
    return out


def _outcome_class(rec: Records) -> np.ndarray:
    """0 ok, 1 4xx, 2 5xx, 3 no response; -1 cancelled."""
    cls = np.zeros(rec.n, np.int8)
    cls[(rec.status >= 400) & (rec.status < 500)] = 1
    cls[rec.status >= 500] = 2
    cls[(rec.status == 0) | (rec.error >= 0)] = 3
    cls[rec.cancelled] = -1
    return cls


def latency_over_time(rec: Records) -> Chart:
    chart = Chart("latency_over_time", "Latency over time, by outcome")
    rows = np.flatnonzero(rec.target & np.isfinite(rec.t_s) & np.isfinite(rec.total_ms) & (rec.total_ms > 0))
    if rows.size == 0:
        chart.skipped = "no request with a start time and a latency"
        return chart
    fig, ax = _figure(9.0, 3.6)
    _shade_runs(ax, rec, rows)
    cls = _outcome_class(rec)
    shown = 0
    rng = np.random.default_rng(0)
    for k, (label, colour) in enumerate(_OUTCOMES):
        r = rows[cls[rows] == k]
        if r.size == 0:
            continue
        if r.size > MAX_POINTS:
            r = np.sort(rng.choice(r, MAX_POINTS, replace=False))
        shown += r.size
        ax.scatter(rec.t_s[r], rec.total_ms[r], s=6, c=colour, alpha=0.6, linewidths=0,
                   label=f"{label} ({int((cls[rows] == k).sum()):,})")
    ax.set_yscale("log")
    _ms_axis(ax.yaxis)
    ax.set_xlabel("time since the first request (s)")
    ax.set_ylabel("latency (ms)")
    ax.legend(loc="upper left", ncols=4, bbox_to_anchor=(0, -0.18))
    chart.caption = "Every request of the target's runs (shaded bands are the experiments, in order)"
    if shown < rows.size:
        chart.caption += f"; {shown:,} of {rows.size:,} requests drawn, sampled evenly within each outcome"
    chart.caption += "."
    chart.svg = _svg(fig, chart.name)
    return chart


def _shade_runs(ax: Any, rec: Records, rows: np.ndarray) -> None:
    run_ids = np.unique(rec.run[rows])
    for i, ix in enumerate(run_ids):
        t = rec.t_s[rows[rec.run[rows] == ix]]
        lo, hi = float(t.min()), float(t.max())
        if i % 2 == 0:
            ax.axvspan(lo, hi, color="#000000", alpha=0.05, linewidth=0)
        info = rec.runs[int(ix)]
        label = info.kind or info.name
        if info.concurrency and info.kind in LEVEL_KINDS and info.kind != "baseline" and info.rate is None:
            label += f" c={info.concurrency}"
        elif info.rate:
            label += f" {info.rate:g}/s"
        ax.text((lo + hi) / 2, 1.0, label, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=6.5, rotation=30, color="#555555")


def _levels(rec: Records) -> tuple[str, list[tuple[float, np.ndarray]], dict[float, np.ndarray]]:
    """The load levels: ('rate'|'concurrency', [(level, target rows)], {level: canary rows})."""
    level_runs = [r for r in rec.runs if r.role == "target" and r.kind in LEVEL_KINDS]
    by_rate = any(r.kind == "sweep" and r.rate for r in level_runs)
    key = "rate" if by_rate else "concurrency"
    levels: dict[float, list[int]] = {}
    canaries: dict[float, list[int]] = {}
    for i, r in enumerate(rec.runs):
        v = r.rate if by_rate else r.concurrency
        if v is None or (by_rate and r.kind == "baseline"):
            continue
        if r.role == "target" and r.kind in LEVEL_KINDS:
            levels.setdefault(float(v), []).append(i)
        elif r.role == "canary" and r.during == "load":
            canaries.setdefault(float(v), []).append(i)
    out = [(lv, np.flatnonzero(np.isin(rec.run, ix))) for lv, ix in sorted(levels.items())]
    return key, out, {lv: np.flatnonzero(np.isin(rec.run, ix)) for lv, ix in canaries.items()}


def load_curve(rec: Records) -> Chart:
    chart = Chart("load_curve", "Failure rate and latency against load")
    key, levels, canaries = _levels(rec)
    levels = [(lv, rows) for lv, rows in levels if (~rec.cancelled[rows]).any()]
    if len(levels) < 2:
        chart.skipped = "fewer than two load levels were run"
        return chart
    x = np.array([lv for lv, _ in levels])
    rate = np.array([rec.failed[r].sum() / max(1, (~rec.cancelled[r]).sum()) for _, r in levels])
    p50, p95 = (np.array([_pct_ok(rec, r, q) for _, r in levels]) for q in (50, 95))
    fig, ax = _figure(9.0, 3.4)
    pos = np.arange(x.size)
    ax.bar(pos, 100 * rate, width=0.55, color="#d62728", alpha=0.75, label="failure rate")
    for p, v in zip(pos, rate, strict=True):
        ax.text(p, 100 * v, f"{100 * v:.1f} %", ha="center", va="bottom", fontsize=7.5)
    ax.set_ylim(0, max(5.0, 100 * float(rate.max()) * 1.2))
    ax.set_ylabel("failed requests (%)")
    ax.set_xticks(pos, [f"{v:g}" for v in x])
    ax.set_xlabel("arrival rate (requests/s)" if key == "rate" else "concurrent users")
    ax2 = ax.twinx()
    ax2.grid(False)
    ax2.spines["right"].set_visible(True)
    ax2.plot(pos, p50, "o-", color="#4c78a8", label="p50 latency of successes")
    ax2.plot(pos, p95, "s--", color="#4c78a8", alpha=0.6, label="p95 latency of successes")
    can = np.array([_pct_any(rec, canaries[lv], 50) if lv in canaries else np.nan for lv in x])
    if np.isfinite(can).any():
        ax2.plot(pos, can, "^:", color="#54a24b", label="p50 of the canary (a cheap request) meanwhile")
    ax2.set_ylabel("latency (ms)")
    top = np.nanmax(np.concatenate([p95, can])) if np.isfinite(np.concatenate([p95, can])).any() else 1.0
    ax2.set_ylim(0, top * 1.15)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(0, -0.2), ncols=2)
    n = [int((~rec.cancelled[r]).sum()) for _, r in levels]
    chart.caption = ("Each bar is one load level of the sweep (the baseline and the confirmation run included): "
                     + ", ".join(f"{v:g}: {k:,} requests" for v, k in zip(x, n, strict=True)) + ".")
    chart.svg = _svg(fig, chart.name)
    return chart


def _pct_ok(rec: Records, rows: np.ndarray, q: float) -> float:
    lat = rec.total_ms[rows][~rec.failed[rows] & ~rec.cancelled[rows]]
    lat = lat[np.isfinite(lat)]
    return float(np.percentile(lat, q)) if lat.size else np.nan


def _pct_any(rec: Records, rows: np.ndarray, q: float) -> float:
    lat = rec.total_ms[rows][~rec.cancelled[rows]]
    lat = lat[np.isfinite(lat)]
    return float(np.percentile(lat, q)) if lat.size else np.nan


def failure_latency_histogram(rec: Records) -> Chart:
    chart = Chart("failure_latency", "How long requests took, failures against successes")
    rows = rec.target & ~rec.cancelled & np.isfinite(rec.total_ms) & (rec.total_ms > 0)
    failed = rows & rec.failed
    if not failed.any():
        chart.skipped = "no failed request has a latency"
        return chart
    ok = rows & ~rec.failed
    lat = rec.total_ms
    lo, hi = float(lat[rows].min()), float(lat[rows].max())
    bins = np.geomspace(max(lo * 0.9, 0.1), max(hi * 1.1, lo * 1.2, 1.0), 61)
    fig, ax = _figure(9.0, 3.2)
    ax.hist(lat[ok], bins=bins, color="#4c78a8", alpha=0.55, label=f"succeeded ({int(ok.sum()):,})")
    ax.hist(lat[failed], bins=bins, color="#d62728", alpha=0.75, label=f"failed ({int(failed.sum()):,})")
    ax.set_xscale("log")
    _ms_axis(ax.xaxis)
    ax.set_xlabel("latency")
    ax.set_ylabel("requests")
    found = plateaus(lat[rows], rec.failed[rows], ok[rows])
    for p in found:
        ax.axvline(p.ms, color="#222222", linestyle="--", linewidth=1)
        ax.text(p.ms, 0.97, f" plateau {_dur(p.ms)}\n {p.share:.0%} of failures", transform=ax.get_xaxis_transform(),
                ha="left", va="top", fontsize=7.5, bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.2), ncols=2)
    chart.caption = ("Failures piling up at one duration (a plateau) are a timeout firing somewhere: "
                     + ("; ".join(f"{p.count:,} failures ({p.share:.0%}) end at {_dur(p.ms)}" for p in found)
                        if found else "no plateau was found") + ".")
    chart.svg = _svg(fig, chart.name)
    return chart


def idle_gap_curve(rec: Records) -> Chart:
    chart = Chart("idle_gap", "Failures after idle time on a connection")
    rows = np.flatnonzero(rec.mask(lambda r: r.role == "target" and r.kind == "idle_gap") & ~rec.cancelled)
    if rows.size == 0:
        chart.skipped = "the idle-gap experiment did not run"
        return chart
    idle_s = np.nan_to_num(rec.idle_ms[rows], nan=0.0) / 1000.0
    gap = np.where(idle_s < 0.05, 0.0, np.round(idle_s, 1))
    levels = np.unique(gap)
    n = np.array([(gap == g).sum() for g in levels])
    bad = np.array([rec.failed[rows][gap == g].sum() for g in levels])
    rate = bad / n
    fig, ax = _figure(9.0, 2.6)
    ax.plot(levels, 100 * rate, "o-", color="#6b2c91")
    for g, v, f, k in zip(levels, rate, bad, n, strict=True):
        ax.annotate(f"{f}/{k}", (g, 100 * v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7.5)
    ax.set_ylim(-5, 110)
    ax.set_xlabel("idle time of the connection before the request (s; 0 = new connection)")
    ax.set_ylabel("failed (%)")
    chart.caption = ("Requests sent after pauses on the same connection: failures that grow with the pause point "
                     "to connections closed by the other side while idle.")
    chart.svg = _svg(fig, chart.name)
    return chart


def status_distribution(rec: Records) -> Chart:
    chart = Chart("status_distribution", "Outcomes of every request")
    rows = rec.target & ~rec.cancelled
    if not rows.any():
        chart.skipped = "no request was recorded"
        return chart
    labels = np.where(rec.error[rows] >= 0, -1 - rec.error[rows].astype(np.int32), rec.status[rows])
    values, counts = np.unique(labels, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:12]
    names, colours = [], []
    for raw in values[order]:
        v = int(raw)
        if v < 0:
            names.append(ERROR_KINDS[-1 - v].replace("_", " "))
            colours.append(_OUTCOMES[3][1])
        else:
            names.append(str(v) if v else "no status")
            colours.append(_OUTCOMES[0 if 0 < v < 400 else 1 if v < 500 else 2][1] if v else _OUTCOMES[3][1])
    c = counts[order]
    fig, ax = _figure(9.0, 0.9 + 0.3 * len(c))
    y = np.arange(len(c))[::-1]
    ax.barh(y, c, color=colours)
    ax.set_yticks(y, names)
    ax.grid(axis="y", visible=False)
    total = int(rows.sum())
    for yy, k in zip(y, c, strict=True):
        ax.text(k, yy, f" {int(k):,} ({k / total:.1%})", va="center", fontsize=7.5)
    ax.set_xlim(0, float(c.max()) * 1.3)
    ax.set_xlabel("requests")
    chart.caption = f"{total:,} requests across the target's runs, by HTTP status or, without one, by error."
    chart.svg = _svg(fig, chart.name)
    return chart


# -- helpers ---------------------------------------------------------------------------------


def _figure(w: float, h: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    return fig, fig.add_subplot()


def _ms_axis(axis: Any) -> None:
    """Plain durations on a log axis (``200 ms``, ``1.5 s``) instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(
        lambda v, _pos: "" if v <= 0 else f"{v:g} ms" if v < 1000 else f"{v / 1000:g} s"))
    axis.set_minor_formatter(FuncFormatter(lambda _v, _pos: ""))


def _dur(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')


def _svg(fig: Any, name: str) -> str:
    """The figure as SVG text, ids prefixed with the chart's name so many charts share one page."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": name}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = _ID.sub(lambda m: f'id="{name}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", text)
    return text.replace("<svg ", f'<svg role="img" aria-label="{name.replace("_", " ")}" ', 1)


__all__ = ["Chart", "Records", "draw_all", "failure_latency_histogram", "idle_gap_curve", "latency_over_time",
           "load_curve", "load_records", "status_distribution"]
