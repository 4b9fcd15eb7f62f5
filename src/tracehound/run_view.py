"""A run's summary as a person reads it, printed with rich: ``tracehound probe``, ``show``, ``import`` and the demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tracehound.probe.meta import ImportMeta, RunMeta

if TYPE_CHECKING:
    from tracehound.probe import Run, Summary

PERCENTILES = ("p50", "p90", "p95", "p99", "p99.9")


def ms(v: float | None) -> str:
    """Milliseconds with a precision that suits their size; ``-`` for none."""
    if v is None:
        return "-"
    return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"


def target_text(d: RunMeta) -> str:
    """What the run sent its requests to: method and URL, a flow, or an import's URLs."""
    t = d.target
    if d.shape.model == "imported":
        urls = t.url or f"{'?' if t.distinct_urls is None else t.distinct_urls} URLs"
        return ("" if t.method is None else t.method) + " " + urls
    if t.flow is not None:
        return f"flow {t.flow.source} on {t.url}"
    return ("FLOW" if t.method is None else t.method) + " " + ("" if t.url is None else t.url)


def load_text(d: RunMeta) -> str:
    """How the load was shaped: model, users or rate, stages, engine."""
    shape = d.shape
    if shape.model == "imported":
        imported = d.import_ or ImportMeta()
        load = f"imported from {imported.format} file {imported.file}"
    elif shape.model == "open":
        load = f"open model, {shape.rate or 'staged'} req/s"
    else:
        load = "closed model, staged VUs" if shape.stages else f"closed model, {shape.concurrency} VUs"
    if shape.stages:
        load += ", stages " + ",".join(
            f"{st.duration_s:g}s:{'' if st.ramp else '='}{st.target:g}" for st in shape.stages
        )
    if d.engine == "locust":
        workers = d.locust.workers if d.locust else None
        load += f", on Locust ({'?' if workers is None else workers} workers)"
    return load


def print_summary(run: Run, s: Summary, out: Console) -> None:
    """The run summary as a person reads it."""
    d = run.meta
    state = "[bold red]INTERRUPTED[/]" if run.interrupted else ("[bold red]PARTIAL[/]" if d.partial else "complete")
    # What a user gave (a path, a URL with "[redacted]" in it) is escaped: rich would read it as markup.
    out.print(f"[bold]Run[/] {escape(str(run.path))}  ({state})")
    out.print(f"[bold]Target[/] {escape(target_text(d))}  ·  {escape(load_text(d))}  ·  {s.duration_s:.2f}s")
    rate = f"{s.achieved_rps:,.1f} req/s achieved"
    if s.intended_rps:
        rate += f" (intended {s.intended_rps:,.1f}, {100 * s.achieved_rps / s.intended_rps:.1f}%)"
    fail_style = "red" if s.failed else "green"
    out.print(
        f"[bold]Requests[/] {s.requests:,}  ok {s.ok:,}  [{fail_style}]failed {s.failed:,} "
        f"({100 * s.failure_rate:.2f}%)[/]" + (f"  cancelled {s.cancelled:,}" if s.cancelled else "") + f"  ·  {rate}"
    )
    if d.import_ is not None and d.import_.time_base == "relative":
        out.print("[dim]Times are relative to the start of the imported run (the format has no clock time).[/]")
    if d.shape.model == "open":
        out.print(
            f"[bold]Schedule[/] late {s.late:,} (sent >10 ms after intended)  dropped {s.dropped:,}  "
            f"send lag p99 {ms(s.send_lag_p99_ms)} ms"
        )
    out.print(
        f"[bold]Connections[/] {s.connections:,} opened  ·  "
        f"{100 * s.reused_fraction:.1f}% of requests on a reused connection"
    )
    out.print(_latency_table(s))
    if s.status_counts:
        total = max(sum(s.status_counts.values()), 1)
        parts = ", ".join(f"{k}: {v:,} ({100 * v / total:.1f}%)" for k, v in sorted(s.status_counts.items()))
        out.print(f"[bold]Status[/] {parts}")
    if s.error_kinds:
        kinds = sorted(s.error_kinds.items(), key=lambda kv: -kv[1])
        out.print("[bold]Error kinds[/] " + ", ".join(f"{k}: {v:,}" for k, v in kinds))
    if s.errors:
        out.print("[bold]Errors[/]")
        for e in s.errors:
            out.print(f"  {e['count']:>8,}  {e['message']}", markup=False)


def _latency_table(s: Summary) -> Table:
    t = Table(title=None, box=None, pad_edge=False, show_edge=False)
    t.add_column("latency ms", style="bold")
    for c in ("count", "mean", *PERCENTILES, "max"):
        t.add_column(c, justify="right")
    for name, lat in (("ok", s.latency_ok), ("failed", s.latency_failed)):
        if lat is None:
            continue
        p = lat.percentiles_ms
        t.add_row(name, f"{lat.count:,}", ms(lat.mean_ms), *(ms(p.get(k)) for k in PERCENTILES), ms(lat.max_ms))
    return t


__all__ = ["load_text", "ms", "print_summary", "target_text"]
