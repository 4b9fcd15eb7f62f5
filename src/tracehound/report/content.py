"""What the report says, gathered once for both renderings: an investigation folder read back.

The investigation's ``report.json`` gives the case, the experiments, the agents' findings and the
ranked hypotheses; the catalog entry of the leading hypothesis gives the fix, its verification,
rollback and prevention; the run folders give the charts. Everything that came from the
investigation (the user's words, URLs, agents' details, exemplars) is redacted here, before any
template sees it. The catalog's own text is tracehound's and is shown as written.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.diagnosis.catalog import FailureMode, load_catalog
from tracehound.errors import BadCatalog, BadReport
from tracehound.failure_modes import NONE
from tracehound.probe.run import iso, utc_now
from tracehound.redact import redact_text, redact_url
from tracehound.report.charts import Chart, Records, draw_all, load_records
from tracehound.report.model import REPORT_FILE, REPORT_SCHEMA, load_report

#: A runner-up with at least this confidence is named as not ruled out.
ALTERNATIVE_CONFIDENCE = 0.10
#: Below this confidence the leading hypothesis is called tentative.
TENTATIVE_CONFIDENCE = 0.5
#: Hypotheses listed in the ranking (at least the first three, then those above 1 %).
MAX_RANKED = 8
#: Hypotheses whose every point is shown.
DETAILED = 3


@dataclass
class Factor:
    """An observation from the service's own evidence (logs, database, code …) behind the cause."""

    agent: str
    title: str
    detail: str
    signals: list[str]


@dataclass
class RunRow:
    name: str
    kind: str
    role: str
    requests: int
    #: None for a canary: any answer to its unserved path counts, so it has no failures.
    failed: int | None


@dataclass
class Content:
    """Everything the templates render, redacted."""

    folder: Path
    report_path: Path
    data: dict[str, Any]
    generated_at: str
    case: dict[str, Any]
    agents: list[dict[str, Any]]
    experiments: list[dict[str, Any]]
    ranked: list[dict[str, Any]]
    detailed: list[dict[str, Any]]
    top: dict[str, Any] | None
    mode: FailureMode | None
    mode_missing: str = ""
    factors: list[Factor] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    verify_command: str = ""
    follow_ups: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    runs: list[RunRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return bool(self.data["verdict"] == "reproduced")

    @property
    def tentative(self) -> bool:
        return self.top is not None and self.top.get("confidence", 0.0) < TENTATIVE_CONFIDENCE

    @property
    def target(self) -> str:
        c = self.case
        if c.get("url"):
            return f"{c.get('method') or 'GET'} {c['url']}"
        return f"flow {c.get('flow') or '?'} (target step {c.get('target_step') or '?'}) at {c.get('base_url') or '?'}"

    @property
    def headline(self) -> str:
        if not self.reproduced:
            return "Not reproduced"
        if self.top is None:
            return "Reproduced; no failure mode stands out"
        return f"{self.top['title']} ({percent(self.top['confidence'])})"


def percent(v: float) -> str:
    """A share for people: ``66 %``, ``3.2 %``, ``0 %``."""
    return f"{100 * v:.0f} %" if v >= 0.1 or v == 0 else f"{100 * v:.1f} %"


def redact(value: Any, key: str = "") -> Any:
    """A copy of JSON data with every string redacted; URLs also lose userinfo and secret parameters."""
    if isinstance(value, str):
        if key in ("url", "base_url") or value.startswith(("http://", "https://")):
            value = redact_url(value)
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    return value


def gather(folder: Path, catalog: Mapping[str, FailureMode] | None = None) -> Content:
    """Read an investigation folder into the report's content, charts drawn."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadReport(f"{str(folder)!r} is not a folder", hint="give the folder `tracehound investigate` wrote")
    data: dict[str, Any] = redact(load_report(folder).model_dump(mode="json"))
    problems: list[str] = []
    if catalog is None:
        try:
            catalog = load_catalog()
        except BadCatalog as e:
            catalog, problems = {}, [f"the catalog could not be read, so fixes are missing: {e}"]
    hyps = [h for h in data["hypotheses"] if h["id"]]
    reproduced = data["verdict"] == "reproduced"
    top = hyps[0] if reproduced and hyps and hyps[0]["id"] != NONE else None
    mode = catalog.get(top["id"]) if top is not None else None
    content = Content(
        folder=folder,
        report_path=(folder / REPORT_FILE).resolve(),
        data=data,
        generated_at=iso(utc_now()),
        case=data["case"],
        agents=data["agents"],
        experiments=[{**e, "shape_text": shape_text(e["shape"])} for e in data["experiments"]],
        ranked=[h for i, h in enumerate(hyps) if i < DETAILED or (i < MAX_RANKED and h["confidence"] >= 0.01)],
        detailed=hyps[:DETAILED] if reproduced else [],
        top=top,
        mode=mode,
        mode_missing=f"the catalog has no entry for {top['id']!r}" if top is not None and mode is None else "",
        next_steps=data["next_steps"],
        problems=problems,
    )
    if top is not None:
        content.alternatives = [h for h in hyps[1:]
                                if h["id"] != NONE and h["confidence"] >= ALTERNATIVE_CONFIDENCE]
        content.factors = _factors(content.agents, mode)
    if mode is not None:
        content.verify_command = (f"tracehound verify {shlex.quote(str(content.report_path))} "
                                  f'--slo "{mode.verification.slo_text()}"')
    content.follow_ups = _follow_ups(content, catalog)
    rec = load_records(_run_dirs(folder, data))
    content.problems += [f"run {p}" for p in rec.problems]
    content.charts = draw_all(rec)
    content.runs = _run_rows(rec)
    return content


def shape_text(shape: Mapping[str, Any]) -> str:
    """A load shape in a few words: ``closed, 32 users, 4 s``."""
    parts = [str(shape.get("model") or "closed")]
    if shape.get("stages"):
        parts.append("stages " + ", ".join(
            f"{s.get('duration_s', 0):g}s:{'' if s.get('ramp') else '='}{s.get('target', 0):g}"
            for s in shape["stages"]))
    elif shape.get("model") == "open":
        parts.append(f"{shape.get('rate') or 0:g} requests/s")
    elif shape.get("concurrency") is not None:
        n = shape["concurrency"]
        parts.append(f"{n} user{'s' if n != 1 else ''}")
    if shape.get("model") == "open" and shape.get("max_connections"):
        parts.append(f"at most {shape['max_connections']} connections")
    if shape.get("requests"):
        parts.append(f"at most {shape['requests']:,} requests")
    if shape.get("duration_s"):
        parts.append(f"{round(float(shape['duration_s']), 1):g} s")
    return ", ".join(parts)


def _factors(agents: list[dict[str, Any]], mode: FailureMode | None) -> list[Factor]:
    """Findings from the service's own evidence (namespaced signals) that support the leading cause."""
    if mode is None:
        return []
    supports = {n for n, w in mode.signals.items() if w > 0 and ":" in n}
    out = []
    for a in agents:
        if a.get("status") != "ok":
            continue
        for f in a.get("findings") or []:
            names = [s.get("name", "") for s in f.get("signals") or [] if s.get("name") in supports
                     and (s.get("strength") or 0) > 0]
            if names:
                out.append(Factor(a.get("name", "?"), f.get("title", ""), f.get("detail", ""), names))
    return out


def _follow_ups(c: Content, catalog: Mapping[str, FailureMode]) -> list[str]:
    """Tasks that close the investigation: verify, test, watch, and collect what was missing."""
    out: list[str] = []
    m = c.mode
    if m is not None and c.top is not None:
        out.append(f"Apply the immediate fix, deploy it to staging and run `{c.verify_command}`.")
        out.append(f"Keep a regression test: `tracehound gen-test {shlex.quote(str(c.report_path))} "
                   f"-o tests/test_regression_{m.id}.py`, run in CI against staging.")
        out += [f"Add the alert {a.name} ({a.threshold})." for a in m.prevention.alerts]
        out += [f"CI: {s}" for s in m.prevention.ci]
        for h in c.alternatives:
            alt = catalog.get(h["id"])
            how = (f" with the experiment “{alt.experiments[0].name}”; expect: {alt.experiments[0].expect}"
                   if alt and alt.experiments else ".")
            out.append(f"Rule out {h['title']} ({percent(h['confidence'])}){how}")
    skipped = [a for a in c.agents if a.get("status") != "ok"]
    if skipped and (c.reproduced or not c.next_steps):
        out.append("Collect the evidence that was not read: "
                   + "; ".join(f"{a.get('name')} ({a.get('detail') or a.get('status')})" for a in skipped) + ".")
    return out


def _run_dirs(folder: Path, data: Mapping[str, Any]) -> list[Path]:
    """The run folders: those under ``runs/``, then any the report lists elsewhere that still exist."""
    found = sorted(p for p in (folder / "runs").glob("*") if (p / "run.json").is_file())
    names = {p.resolve() for p in found}
    for r in data["runs"]:
        p = Path(r)
        if not p.is_absolute():
            p = folder / "runs" / p.name
        if (p / "run.json").is_file() and p.resolve() not in names:
            found.append(p)
            names.add(p.resolve())
    return found


def _run_rows(rec: Records) -> list[RunRow]:
    rows = []
    for i, r in enumerate(rec.runs):
        m = rec.run == i
        rows.append(RunRow(r.name, r.kind or "probe", r.role, int((m & ~rec.cancelled).sum()),
                           int((m & rec.failed).sum()) if r.role == "target" else None))
    return rows


__all__ = [
    "REPORT_FILE",
    "REPORT_SCHEMA",
    "Content",
    "Factor",
    "RunRow",
    "gather",
    "percent",
    "redact",
    "shape_text",
]
