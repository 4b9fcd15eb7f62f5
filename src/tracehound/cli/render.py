"""What the commands print: progress lines, findings, investigations, verifications, tables.

Every printer takes the library's result and prints it through :mod:`tracehound.cli.console`; none
computes. A run's summary is :func:`tracehound.run_view.print_summary` (the demo prints it too).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tracehound.cli import console

if TYPE_CHECKING:
    from tracehound.access import ImportFolder
    from tracehound.agents.base import AgentResult, Finding
    from tracehound.browser import PageLoad
    from tracehound.diagnosis.scoring import Hypothesis
    from tracehound.history import PastWork
    from tracehound.lab import CheckResult, Family, Instance, Scenario
    from tracehound.orchestrator import Investigation
    from tracehound.probe import Progress, Run, Summary
    from tracehound.query import Result
    from tracehound.verify import Stats, Verification

Justify = Literal["left", "right"]


# -- probe -------------------------------------------------------------------------------------

def progress_view(p: Progress) -> Text:
    """One live line of a probe on a terminal."""
    planned = f"/{p.planned_s:.0f}s" if p.planned_s else "s"
    t = Text()
    t.append(f"{p.elapsed_s:6.1f}{planned}  ", style="dim")
    t.append(f"{p.completed:,} requests  ")
    t.append(f"{p.rps:,.0f} req/s  ", style="bold")
    t.append(f"{p.inflight} in flight  ")
    if p.p50_ms is not None:
        t.append(f"p50 {p.p50_ms:.1f} ms  p99 {p.p99_ms:.1f} ms  ")
    if p.failed:
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(p.failures.items(), key=lambda kv: -kv[1]))
        t.append(f"failed {p.failed:,} ({kinds})", style="red")
    else:
        t.append("no failures", style="green")
    return t


def jsonl_progress(p: Progress) -> None:
    """A probe's progress as one JSON line on stdout."""
    d = {k: v for k, v in vars(p).items() if k != "window_ms"}
    print(json.dumps({"type": "progress", **d}), flush=True)


def jsonl_summary(run: Run, summary: Summary) -> None:
    """A probe's summary as one JSON line on stdout (without the latency histograms)."""
    d = summary.to_dict()
    for key in ("latency_ok", "latency_failed"):
        if d.get(key):
            d[key].pop("histogram", None)
    print(json.dumps({"type": "summary", "run": str(run.path), "interrupted": run.interrupted, **d}), flush=True)


def partial_line(run: Run) -> str | None:
    """Why a run is partial (it lost a Locust worker), or None for a whole one."""
    return f"tracehound: partial run: {run.meta.partial_reason}" if run.meta.partial else None


# -- import ------------------------------------------------------------------------------------

def import_progress() -> Callable[[float], None]:
    """Progress of an access-log import on stderr: one updating line on a terminal, every 10 % otherwise."""
    tty = console.err.is_terminal
    last = [-1]

    def show(done: float) -> None:
        pct = int(done * 100)
        if tty:
            sys.stderr.write(f"\rimporting… {pct:3d}%" + ("\n" if pct >= 100 else ""))
            sys.stderr.flush()
        elif pct // 10 > last[0]:
            last[0] = pct // 10
            console.err.print(f"importing… {pct}%", style="dim", markup=False)

    return show


def print_access_import(imp: ImportFolder) -> None:
    """What an access-log import read, and where it went."""
    out = console.out
    m = imp.imported
    out.print(f"[bold]Imported[/] {m.rows or 0:,} requests from {escape(str(m.file))} ({m.format}"
              + (", gzip" if m.compression == "gzip" else "") + f"), {(m.bytes or 0) / 1e6:,.1f} MB in "
              f"{m.seconds or 0:.1f} s ({m.mb_per_s or 0:.0f} MB/s)", highlight=False, soft_wrap=True)
    if m.first:
        out.print(f"[bold]Time[/] {m.first} → {m.last}", highlight=False)
    if m.bad_lines:
        out.print(f"[bold]Bad lines[/] {m.bad_lines:,} left out; the first:", highlight=False)
        for line in m.bad_examples:
            out.print(f"  {line[:160]!r}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"[bold]Folder[/] {escape(str(imp.path))}", highlight=False)
    out.print(f"next: tracehound analyze {imp.path}", style="dim", markup=False, highlight=False)


# -- findings ----------------------------------------------------------------------------------

def print_agent_findings(headline: str, findings: Sequence[Finding]) -> None:
    """An agent's findings for a person: title, detail, signals and exemplars."""
    out = console.out
    out.print(headline, markup=False, highlight=False, soft_wrap=True)
    for f in findings:
        out.print(f"\n{f.title}", style="bold", markup=False, highlight=False, soft_wrap=True)
        if f.detail:
            out.print(f"  {f.detail}", markup=False, highlight=False, soft_wrap=True)
        for s in f.signals:
            out.print(f"  signal {s.name} ({s.strength:.2f})", style="cyan", markup=False)
        for e in f.exemplars[:5]:
            out.print(f"    · {e}", markup=False, highlight=False, soft_wrap=True)


def print_agent_result(res: AgentResult) -> None:
    """A sampling agent's status line, then each finding (``tracehound db`` and ``metrics``)."""
    out = console.out
    out.print(f"{res.name}: {res.status}: {res.detail}", markup=False, highlight=False, soft_wrap=True)
    for f in res.findings:
        out.print(f"\n{f.title}", style="bold", markup=False)
        out.print(f"  {f.detail}", markup=False, highlight=False, soft_wrap=True)
        for s in f.signals:
            out.print(f"  signal {s.name} ({s.strength:.2f})", style="cyan", markup=False)
        for e in f.exemplars[:5]:
            out.print(f"    · {e}", markup=False, highlight=False, soft_wrap=True)


def print_likely_causes(hyps: Sequence[Hypothesis]) -> None:
    """The three leading failure modes from one source's evidence (``tracehound analyze``)."""
    if not hyps:
        return
    console.out.print("\nLikely causes, from this evidence alone (tracehound explain ID)", style="bold", markup=False)
    for i, h in enumerate(hyps[:3], 1):
        why = ", ".join(e.signal for e in h.evidence_for[:3])
        console.out.print(f"  {i}. {h.id} ({h.confidence:.0%}) {h.title}" + (f": {why}" if why else ""),
                          markup=False, highlight=False, soft_wrap=True)


def browse_progress(load: PageLoad) -> None:
    """One line on stderr per page load of ``tracehound browse``."""
    reasons = load.reasons
    fresh_note = " (empty storage)" if load.fresh else ""
    line = f"load {load.index + 1}{fresh_note}: " + ("; ".join(reasons) if reasons else "ok")
    console.err.print(line, style="dim" if not reasons else None, markup=False, highlight=False, soft_wrap=True)


# -- investigations and verifications ------------------------------------------------------------

def print_investigation(inv: Investigation) -> None:
    """The ranked hypotheses, as a person reads them."""
    out = console.out
    if inv.verdict == "not_reproduced":
        out.print(Text.assemble(("not reproduced", "bold yellow"),
                                f": {inv.requests} requests over {len(inv.experiments)} experiments, "
                                f"{inv.failures} failed. No cause is named."))
        for step in inv.next_steps:
            out.print(f"  • {step}", markup=False)
    else:
        out.print(Text.assemble(("reproduced", "bold red"),
                                f": {inv.failures} of {inv.requests} requests failed ({inv.failure_rate:.1%}) "
                                f"over {len(inv.experiments)} experiments in {inv.seconds:.0f} s"))
        t = Table(box=None, pad_edge=False)
        t.add_column("#", justify="right")
        t.add_column("failure mode", style="bold", no_wrap=True)
        t.add_column("confidence", justify="right")
        t.add_column("strongest evidence", overflow="fold")
        for i, h in enumerate(inv.hypotheses[:5], 1):
            ev = "; ".join(f"{e.signal} {e.points:+.1f}" for e in (h.evidence_for[:2] + h.evidence_against[:1]))
            t.add_row(str(i), h.id, f"{h.confidence:.0%}", ev)
        out.print(t)
        if inv.hypotheses:
            out.print(f"Why {inv.hypotheses[0].id}:", style="bold")
            for line in inv.hypotheses[0].explain():
                out.print(f"  {line}", markup=False)
        if inv.cannot_tell is not None:
            line = inv.cannot_tell.line()
            out.print(Text.assemble((line[:11], "bold yellow"), line[11:]))
    skipped = [a for a in inv.agents if a.status != "ok"]
    for a in skipped:
        out.print(f"  {a.name}: {a.status}: {a.detail}", style="dim", markup=False)
    if inv.report_error:
        out.print(f"Report: {inv.out / 'report.json'} (report.html not written: {inv.report_error})", markup=False)
    else:
        out.print(f"Report: {inv.out / 'report.html'}", markup=False)
        out.print(f"        {inv.out / 'report.md'}, {inv.out / 'report.json'}", markup=False, style="dim")


def fmt_ms(ms: float | None) -> str:
    """A latency in ms or s, whichever reads better; ``-`` for none."""
    if ms is None:
        return "-"
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def _stats_cells(s: Stats | None) -> list[str]:
    if s is None:
        return ["-"] * 4
    p95, p99 = s.percentiles_ms.get("p95"), s.percentiles_ms.get("p99")
    return [f"{s.requests:,}", f"{s.error_rate:.1%}", fmt_ms(p95), fmt_ms(p99)]


def print_verification(v: Verification) -> None:
    """Before and after, per experiment, then each criterion with its verdict."""
    out = console.out
    t = Table(box=None, pad_edge=False)
    t.add_column("experiment", overflow="fold")
    for side in ("before", "after"):
        t.add_column(f"{side}: n", justify="right", no_wrap=True)
        for col in ("errors", "p95", "p99"):
            t.add_column(col, justify="right", no_wrap=True)
    for r in v.rows:
        t.add_row(r.name, *_stats_cells(r.before), *_stats_cells(r.after))
    if len(v.rows) > 1:
        t.add_row("[bold]all[/]", *_stats_cells(v.before), *_stats_cells(v.after))
    out.print(t)
    out.print(f"SLO {v.slo.text()} (from {v.slo_from}):", markup=False, highlight=False)
    for c in v.checks:
        value = "-" if c.value is None else (f"{c.value:.2%}" if c.criterion.key == "error_rate" else fmt_ms(c.value))
        mark = "[green]✓[/]" if c.ok else "[red]✗[/]"
        out.print(f"  {mark} {c.criterion.text()}: {value}", highlight=False)
    verdict = "[bold green]PASS[/]: the SLO holds" if v.passed else "[bold red]FAIL[/]: the SLO does not hold"
    out.print(verdict + (f"  ({v.out})" if v.out else ""), highlight=False)


# -- past work and SQL -------------------------------------------------------------------------

def print_past_work(work: Sequence[PastWork]) -> None:
    """``tracehound runs``: one row per piece of past work, newest first."""
    columns: tuple[tuple[str, Justify], ...] = (
        ("time (UTC)", "left"), ("kind", "left"), ("target", "left"), ("requests", "right"), ("failed", "right"),
        ("verdict", "left"), ("path", "left"))
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col, j in columns:
        t.add_column(col, justify=j, overflow="fold", no_wrap=col in ("time (UTC)", "kind"))
    for w in work:
        rate = w.failure_rate
        verdict = w.verdict or "-"
        if w.kind == "investigation" and w.detail:
            verdict += f": {w.detail}" + (f" {w.confidence:.0%}" if w.confidence is not None else "")
        elif w.kind == "verify" and w.detail:
            verdict += f" ({w.detail})"
        t.add_row((w.started_at or "")[:19].replace("T", " "), w.kind, w.target,
                  "-" if w.requests is None else f"{w.requests:,}", "-" if rate is None else f"{rate:.1%}",
                  Text(verdict, style="red" if w.verdict in ("reproduced", "fail", "interrupted") else ""),
                  str(w.path))
    console.wide().print(t)


def print_query_result(res: Result, shown: int = 1000) -> None:
    """``tracehound sql``'s table: the first ``shown`` rows, and how many more there are."""
    t = Table(box=None, pad_edge=False, show_edge=False)
    for c in res.columns:
        t.add_column(c, overflow="fold")
    for row in res.rows[:shown]:
        t.add_row(*("NULL" if v is None else str(v) for v in row))
    console.wide().print(t)
    if len(res.rows) > shown:
        console.err.print(f"{len(res.rows) - shown:,} more rows not shown: add LIMIT, or use --csv",
                          style="dim", markup=False)


# -- the lab -----------------------------------------------------------------------------------

def print_scenarios(scenarios: Sequence[Scenario]) -> None:
    """``tracehound lab list``."""
    t = Table(box=None, pad_edge=False, show_edge=False)
    t.add_column("scenario", style="bold", no_wrap=True)
    t.add_column("failure mode", no_wrap=True)
    t.add_column("symptom", overflow="fold")
    t.add_column("needs", no_wrap=True)
    for sc in scenarios:
        t.add_row(sc.name, sc.failure_mode, sc.symptom, ", ".join(sc.needs) or "-")
    console.wide().print(t)


def print_families(families: Sequence[Family]) -> None:
    """``tracehound lab list``, after the scenarios: every family's variants, by ``family/variant``."""
    t = Table(box=None, pad_edge=False, show_edge=False)
    t.add_column("variant", style="bold", no_wrap=True)
    t.add_column("split", no_wrap=True)
    t.add_column("failure mode", no_wrap=True)
    t.add_column("stack", no_wrap=True)
    t.add_column("symptom", overflow="fold")
    for f in families:
        for v in f.variants:
            t.add_row(v.full_name, v.split, f.failure_mode, v.stack, v.scenario.symptom)
    console.out.print()
    console.wide().print(t)


def print_instance(inst: Instance) -> None:
    """A scenario up on 127.0.0.1: its URLs, logs, database and code, to point other tools at."""
    sc = inst.scenario
    version = "fixed twin" if inst.fixed else ("healthy control" if sc.healthy else "faulty version")
    console.out.print(Text.assemble((sc.name, "bold"), f" ({version}) — {sc.symptom}"))
    rows = [("URL", inst.url)]
    if len(inst.app_urls) > 1 or inst.app_urls[0] != inst.url:
        rows.append(("App", ", ".join(inst.app_urls)))
    rows += [(f"{k} log", str(v)) for k, v in inst.logs.items()]
    if inst.db_dsn:
        rows.append(("DB DSN", inst.db_dsn))
    elif inst.database_url:
        rows.append(("DB URL", inst.database_url))
    if inst.redis_url:
        rows.append(("Redis URL", inst.redis_url))
    rows += [(f"{k} URL", v) for k, v in inst.service_urls.items()]
    rows.append(("Code", str(inst.code_dir)))
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(k, v)
    console.out.print(t)


def check_starting(sc: Scenario) -> None:
    """On stderr, as ``tracehound lab check`` starts a scenario."""
    what = "the control" if sc.healthy else "the faulty version, then the fixed twin"
    console.err.print(f"checking {sc.name}: {what}, {sc.load.text()}…", style="dim", markup=False)


def check_line(r: CheckResult) -> None:
    """One scenario's verdict, as soon as it is known."""
    verdict = ("ok", "green") if r.ok else ("INCONCLUSIVE", "yellow") if r.inconclusive else ("FAILED", "red")
    line = Text.assemble(verdict, f" {r.scenario}")
    if not r.ok:
        line.append(f": {r.error or '; '.join(r.problems)}")
    if r.inconclusive:
        line.append(f" ({r.inconclusive})")
    console.out.print(line)
    for note in r.notes:
        console.err.print(f"  {note}", style="dim", markup=False)


def print_check_table(results: Sequence[CheckResult]) -> None:
    """Every scenario checked: the faulty version's failure rate against its range, the twin's failures."""
    columns: tuple[tuple[str, Justify], ...] = (
        ("scenario", "left"), ("truth", "left"), ("faulty failure rate", "right"), ("expected", "right"),
        ("twin failures", "right"), ("ok", "left"))
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col, j in columns:
        t.add_column(col, justify=j)
    for r in results:
        f = r.faulty
        rate = f"{100 * f.failure_rate:.1f}% of {f.requests:,}" if f else "-"
        lo, hi = r.expected
        twin = "-" if r.healthy else (f"{r.twin.failed:,} of {r.twin.requests:,}" if r.twin else "?")
        t.add_row(r.scenario, r.failure_mode, rate, f"{100 * lo:.0f}–{100 * hi:.0f}%", twin,
                  "[green]yes[/]" if r.ok else "[red]no[/]")
    console.out.print()
    console.out.print(t)


__all__ = [
    "browse_progress",
    "check_line",
    "check_starting",
    "fmt_ms",
    "import_progress",
    "jsonl_progress",
    "jsonl_summary",
    "partial_line",
    "print_access_import",
    "print_agent_findings",
    "print_agent_result",
    "print_check_table",
    "print_instance",
    "print_investigation",
    "print_likely_causes",
    "print_past_work",
    "print_query_result",
    "print_scenarios",
    "print_verification",
    "progress_view",
]
