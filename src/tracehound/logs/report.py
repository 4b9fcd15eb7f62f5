"""What the log analyst found, as data (``to_dict``) and for a person (``render``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tracehound.logs.timestamps import iso_ns

LEVEL_NAMES = {0: "", 10: "debug", 20: "info", 30: "warning", 40: "error", 50: "critical"}


@dataclass
class FileReport:
    """One file: its format, what was read, and why it was skipped or cut short."""

    path: str
    kind: str = ""
    role: str = ""
    gzip: bool = False
    size: int = 0
    events: int = 0
    #: events inside the window (``--since``/``--until``), the ones analysed
    in_window: int = 0
    first_ns: int | None = None
    last_ns: int | None = None
    #: events whose timestamp had no zone (read in the zone the report names)
    naive: int = 0
    #: events with no time of their own (placed between timed neighbours when they were close)
    untimed: int = 0
    #: events at warning level or above, or carrying a traceback
    errors: int = 0
    skipped: str | None = None
    cut_short: str | None = None

    @property
    def ok(self) -> bool:
        return self.skipped is None


@dataclass
class Alignment:
    """How events sat against the runs' requests (per template or per signature)."""

    #: events that sat near some request (timed, within the runs)
    near: int = 0
    #: their weight around failures (1 per event beside a failure; a share for coarse times)
    near_failures: float = 0.0
    #: events joined to a recorded request by its request id, and how many of those failed
    by_id: int = 0
    by_id_failed: int = 0
    #: the share of failing requests among all requests
    base_rate: float = 0.0
    #: events whose time fell within the runs' span
    in_span: int = 0

    @property
    def lift(self) -> float | None:
        """How much more often than chance the events sat around failures (None: not measurable)."""
        n, k = (self.by_id, self.by_id_failed) if self.by_id >= 3 else (self.near, self.near_failures)
        if n == 0 or self.base_rate <= 0:
            return None
        return (k / n) / self.base_rate

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["near_failures"] = round(self.near_failures, 2)
        d["lift"] = None if self.lift is None else round(self.lift, 2)
        return d


@dataclass
class TemplateReport:
    id: int
    template: str
    count: int
    level: int = 0
    first_ns: int | None = None
    last_ns: int | None = None
    exemplars: list[str] = field(default_factory=list)
    #: exemplars that sat beside failing requests
    failure_exemplars: list[str] = field(default_factory=list)
    alignment: Alignment = field(default_factory=Alignment)
    kinds: list[str] = field(default_factory=list)
    access: bool = False
    signatures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "template": self.template, "count": self.count, "level": LEVEL_NAMES.get(self.level, ""),
                "first": _iso(self.first_ns), "last": _iso(self.last_ns), "exemplars": self.exemplars[:3],
                "failure_exemplars": self.failure_exemplars[:3], "alignment": self.alignment.to_dict(),
                "kinds": self.kinds, "access": self.access, "signatures": self.signatures}


@dataclass
class SignatureHit:
    id: str
    signal: str
    title: str
    count: int
    first_ns: int | None = None
    last_ns: int | None = None
    exemplars: list[str] = field(default_factory=list)
    alignment: Alignment = field(default_factory=Alignment)
    kinds: list[str] = field(default_factory=list)
    relates_to: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "signal": self.signal, "title": self.title, "count": self.count,
                "first": _iso(self.first_ns), "last": _iso(self.last_ns), "exemplars": self.exemplars[:3],
                "alignment": self.alignment.to_dict(), "kinds": self.kinds, "relates_to": self.relates_to}


@dataclass
class Observation:
    """A signal the logs support, with its strength: the agent turns it into a registered Signal."""

    name: str
    strength: float
    detail: str
    exemplars: list[str] = field(default_factory=list)
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "strength": round(self.strength, 3), "detail": self.detail,
                "exemplars": self.exemplars[:3], "value": self.value}


@dataclass
class UpstreamReport:
    address: str
    requests: int
    failed: int


@dataclass
class LogReport:
    """Everything :func:`tracehound.logs.analyze_logs` found."""

    files: list[FileReport] = field(default_factory=list)
    events: int = 0
    since_ns: int | None = None
    until_ns: int | None = None
    #: the zone naive timestamps were read in, for the note
    zone: str = ""
    templates: list[TemplateReport] = field(default_factory=list)
    over_represented: list[TemplateReport] = field(default_factory=list)
    rare: list[TemplateReport] = field(default_factory=list)
    new: list[TemplateReport] = field(default_factory=list)
    signatures: list[SignatureHit] = field(default_factory=list)
    upstreams: list[UpstreamReport] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    #: signal names these logs could have shown (see AgentResult.tested)
    tested: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    requests: int = 0
    failures: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bytes: int = 0
    template_count: int = 0

    @property
    def read(self) -> list[FileReport]:
        return [f for f in self.files if f.ok]

    @property
    def skipped(self) -> list[FileReport]:
        return [f for f in self.files if not f.ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "tracehound.logs/1",
            "files": [{**asdict(f), "first": _iso(f.first_ns), "last": _iso(f.last_ns)} for f in self.files],
            "events": self.events, "since": _iso(self.since_ns), "until": _iso(self.until_ns), "zone": self.zone,
            "runs": self.runs, "requests": self.requests, "failures": self.failures,
            "observations": [o.to_dict() for o in self.observations],
            "signatures": [s.to_dict() for s in self.signatures],
            "over_represented": [t.to_dict() for t in self.over_represented],
            "new": [t.to_dict() for t in self.new], "rare": [t.to_dict() for t in self.rare],
            "templates": [t.to_dict() for t in self.templates],
            "upstreams": [asdict(u) for u in self.upstreams],
            "tested": self.tested, "notes": self.notes, "templates_total": self.template_count,
            "seconds": round(self.seconds, 3), "bytes": self.bytes,
        }

    def render(self, console: Console, top: int = 10) -> None:
        """Print the report for a person."""
        p = console.print
        t = Table(box=None, pad_edge=False, show_edge=False, title=None)
        for col in ("file", "kind", "events", "errors", "from", "to"):
            t.add_column(col, overflow="fold")
        for f in self.read:
            t.add_row(Path(f.path).name + (" (gzip)" if f.gzip else ""), f.kind, f"{f.in_window}", f"{f.errors}",
                      _short(f.first_ns), _short(f.last_ns))
        p(t)
        for f in self.files:
            if f.cut_short:
                p(f"  {f.path}: {f.cut_short}", style="yellow", markup=False)
        p(f"{self.events} events, {self.template_count} templates, {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s"
          + (f"; runs: {len(self.runs)} ({self.requests} requests, {self.failures} failed)" if self.runs else ""),
          markup=False)
        for note in self.notes:
            p(f"note: {note}", style="dim", markup=False)
        if self.observations:
            p("\nSignals", style="bold")
            for o in sorted(self.observations, key=lambda o: -o.strength):
                p(f"  {o.name:<36} {o.strength:.2f}  {o.detail}", markup=False)
        if self.signatures:
            p("\nSignatures", style="bold")
            for s in self.signatures:
                p(f"  {s.title} ×{s.count} [{s.signal}]{_lift(s.alignment)}", markup=False)
                for ex in s.exemplars[:2]:
                    p(f"      {ex}", style="dim", markup=False)
        if self.over_represented:
            p("\nOver-represented around failures", style="bold")
            for tr in self.over_represented[:top]:
                p(f"  ×{tr.count}{_lift(tr.alignment)}  {tr.template}", markup=False)
                for ex in (tr.failure_exemplars or tr.exemplars)[:1]:
                    p(f"      {ex}", style="dim", markup=False)
        if self.new:
            p("\nNew during the runs", style="bold")
            for tr in self.new[:top]:
                p(f"  ×{tr.count}  {tr.template}", markup=False)
        if self.rare:
            p("\nRare", style="bold")
            for tr in self.rare[:top]:
                p(f"  ×{tr.count}  {tr.template}", markup=False)
        if self.templates:
            p("\nMost frequent", style="bold")
            for tr in self.templates[:top]:
                p(f"  ×{tr.count}  {tr.template}", markup=False)


def _lift(a: Alignment) -> str:
    lift = a.lift
    if lift is None:
        return ""
    how = (f"{a.by_id_failed}/{a.by_id} by request id" if a.by_id >= 3
           else f"{a.near_failures:.0f}/{a.near} beside failures")
    return f"  lift {lift:.1f} ({how})"


def _iso(ns: int | None) -> str | None:
    return iso_ns(ns) if ns is not None else None


def _short(ns: int | None) -> str:
    return iso_ns(ns).replace("T", " ").rstrip("Z") if ns is not None else "-"


__all__ = ["Alignment", "FileReport", "LogReport", "Observation", "SignatureHit", "TemplateReport", "UpstreamReport"]
