"""``tracehound verify``: did the fix work? Rerun what failed, or compare two runs, against an SLO.

Two ways in, as a user has them after a deploy:

* **rerun** — ``verify REPORT_OR_RUN``: every experiment of an investigation that saw a failure
  (or the one run given) is run again, same shape, against the same target (or the one given,
  for a fix deployed elsewhere first), and the new runs are held to the SLO;
* **compare** — ``verify BEFORE --candidate AFTER``: two runs already made, no load sent.

The SLO is a k6-style threshold list, ``error_rate<1%,p95<500ms,p99<1s``. By default it is the
verification criteria of the catalog entry the investigation ranked first (``error_rate<1%``
for a plain run). It holds when every criterion holds over the *after* requests pooled;
latency percentiles count every request that got an outcome, failures included, since a
504 after one second is one second the user waited.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from tracehound.case import Case
from tracehound.errors import BadReport, BadRun, BadTarget, TracehoundError
from tracehound.expect import Expectation, expectation
from tracehound.experiments import Experiment, Runner, gap_flow
from tracehound.flow import Flow
from tracehound.probe import LoadShape, Stage, Target
from tracehound.probe.meta import META_FILE, ExperimentMeta, write_json
from tracehound.probe.records import is_cancelled
from tracehound.probe.run import Run, iso, prepare_run_dir, utc_now
from tracehound.redact import MASK
from tracehound.report.model import REPORT_FILE, Report, ReportCase, load_report
from tracehound.verification import VERIFY_FILE, VERIFY_SCHEMA
from tracehound.wrong_body import mark_wrong_bodies

DEFAULT_SLO = "error_rate<1%"
#: Gaps of the idle-gap probe when an older report did not record them.
DEFAULT_GAPS = (0.5, 1.5, 3.0)


class BadSlo(TracehoundError):
    """An --slo string that does not parse."""


class VerifyFolderMeta(BaseModel):
    """The ``run.json`` of a rerun's folder: it marks the folder as a verification of ``source``, not a
    run (its runs are in ``runs/``, its result in ``verify.json``)."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    schema_: str = Field(default=VERIFY_SCHEMA, alias="schema")
    kind: str = "verify"
    source: str
    slo: str


# -- the SLO ------------------------------------------------------------------------------------

_CRITERION = re.compile(r"^\s*(?P<key>error_rate|p50|p90|p95|p99)\s*(?P<op><=|<)\s*"
                        r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>%|ms|s)?\s*$")


@dataclass(frozen=True)
class Criterion:
    key: str
    op: str
    #: error_rate as a fraction; latencies in ms.
    limit: float

    def holds(self, value: float) -> bool:
        return value < self.limit if self.op == "<" else value <= self.limit

    def text(self) -> str:
        if self.key == "error_rate":
            return f"error_rate{self.op}{_pct(self.limit)}"
        return f"{self.key}{self.op}{_ms(self.limit)}"


@dataclass(frozen=True)
class Slo:
    criteria: tuple[Criterion, ...]

    @classmethod
    def parse(cls, text: str) -> Slo:
        """``error_rate<1%,p95<500ms,p99<1s`` (error_rate also as 0.01; latencies in ms or s)."""
        out: list[Criterion] = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            m = _CRITERION.match(part)
            if m is None:
                raise BadSlo(f"cannot read SLO criterion {part!r}",
                             hint="write e.g. error_rate<1%,p95<500ms,p99<1s")
            key, unit, num = m.group("key"), m.group("unit"), float(m.group("num"))
            if key == "error_rate":
                if unit in ("ms", "s"):
                    raise BadSlo(f"{part!r}: an error rate is a percentage or a fraction, not a time")
                limit = num / 100 if unit == "%" else num
                if not 0 <= limit <= 1:
                    raise BadSlo(f"{part!r}: an error rate is between 0 and 100%")
            else:
                if unit == "%":
                    raise BadSlo(f"{part!r}: a latency is in ms or s, not a percentage")
                limit = num * 1000 if unit == "s" else num
            out.append(Criterion(key, m.group("op"), limit))
        if not out:
            raise BadSlo("the SLO is empty", hint="write e.g. error_rate<1%,p95<500ms")
        keys = [c.key for c in out]
        if len(set(keys)) != len(keys):
            raise BadSlo(f"the SLO names {next(k for k in keys if keys.count(k) > 1)} twice")
        return cls(tuple(out))

    @classmethod
    def from_catalog(cls, mode_id: str | None) -> Slo:
        """The verification criteria of a catalog entry (``error_rate<1%`` without one)."""
        if mode_id:
            from tracehound.diagnosis.catalog import load_catalog

            entry = load_catalog().get(mode_id)
            if entry is not None:
                return cls.parse(entry.verification.slo_text())
        return cls.parse(DEFAULT_SLO)

    def text(self) -> str:
        return ",".join(c.text() for c in self.criteria)


# -- what a set of requests measured ------------------------------------------------------------


@dataclass
class Stats:
    requests: int
    failures: int
    percentiles_ms: dict[str, float | None]

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def value(self, key: str) -> float | None:
        return self.error_rate if key == "error_rate" else self.percentiles_ms.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "failures": self.failures, "error_rate": round(self.error_rate, 5),
                **{f"{k}_ms": None if v is None else round(v, 1) for k, v in self.percentiles_ms.items()}}

    @classmethod
    def of(cls, runs: Sequence[Run]) -> Stats:
        """Pooled over ``runs``: every request with an outcome (cancelled ones left out)."""
        totals: list[np.ndarray] = []
        n = fails = 0
        for run in runs:
            t = run.read(["status", "error_kind", "total_ms"])
            if t.num_rows == 0:
                continue
            keep = ~is_cancelled(t)
            status = t.column("status").to_numpy(zero_copy_only=False).astype(np.int32)[keep]
            err = t.column("error_kind").is_valid().to_numpy(zero_copy_only=False)[keep]
            fails += int(((status == 0) | (status >= 400) | err).sum())
            n += int(keep.sum())
            total = pc.fill_null(t.column("total_ms"), np.nan).to_numpy(zero_copy_only=False)[keep]
            totals.append(total.astype(np.float64))
        lat = np.concatenate(totals) if totals else np.zeros(0)
        lat = lat[np.isfinite(lat)]
        pct = {f"p{q}": (float(np.percentile(lat, q)) if lat.size else None) for q in (50, 90, 95, 99)}
        return cls(n, fails, pct)


# -- the outcome --------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    before: Stats | None
    after: Stats
    run: str | None = None


@dataclass
class Check:
    criterion: Criterion
    value: float | None
    before: float | None

    @property
    def ok(self) -> bool:
        return self.value is not None and self.criterion.holds(self.value)


@dataclass
class Verification:
    mode: str  # rerun | compare
    source: Path
    slo: Slo
    slo_from: str
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    before: Stats | None = None
    after: Stats | None = None
    out: Path | None = None

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": VERIFY_SCHEMA,
            "mode": self.mode,
            "source": str(self.source),
            "slo": self.slo.text(),
            "slo_from": self.slo_from,
            "passed": self.passed,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "checks": [{"criterion": c.criterion.text(), "value": c.value, "before": c.before, "ok": c.ok}
                       for c in self.checks],
            "experiments": [{"name": r.name, "run": r.run, "before": r.before.to_dict() if r.before else None,
                             "after": r.after.to_dict()} for r in self.rows],
        }


# -- reading what came before -------------------------------------------------------------------


@dataclass
class Source:
    """A report (an investigation folder or its report.json) or a run folder."""

    path: Path
    report: Report | None
    #: The runs that saw failures (a report) or the one run given, with their experiment names.
    runs: list[tuple[str, Run]]

    @property
    def top_mode(self) -> str | None:
        top = self.report.top if self.report is not None else None
        return top.id if top is not None else None


def load_source(path: str | Path) -> Source:
    p = Path(path)
    if p.is_dir() and (p / "run.json").exists():
        return Source(p, None, [(p.name, Run.load(p))])
    report_file = p / REPORT_FILE if p.is_dir() else p
    if not report_file.is_file():
        raise BadReport(f"{str(p)!r} is neither an investigation (no {REPORT_FILE}) nor a run folder (no run.json)")
    report = load_report(report_file)
    folder = report_file.parent
    runs: list[tuple[str, Run]] = []
    for exp in report.experiments:
        if not exp.failures or not exp.run:
            continue
        run_path = Path(exp.run)
        if not run_path.is_absolute() or not run_path.exists():
            run_path = folder / "runs" / run_path.name
        try:
            runs.append((exp.name or run_path.name, Run.load(run_path)))
        except BadRun as e:
            raise BadReport(f"the report's run {exp.run!r} is gone: {e.line()}") from None
    return Source(folder, report, runs)


# -- verify ---------------------------------------------------------------------------------------


@dataclass
class TargetOverride:
    """The target given on the command line, for a rerun: it replaces the recorded one."""

    target: Target | None = None
    flow: Flow | None = None
    #: The URL alone: the new target URL, or with a flow its base URL.
    url: str | None = None
    #: What a right answer looks like (``--expect``), replacing the original's.
    expect: Expectation | None = None

    @property
    def given(self) -> bool:
        return self.target is not None or self.flow is not None or self.url is not None


def verify(source: str | Path, candidate: str | Path | None = None, slo: str | None = None,
           override: TargetOverride | None = None, out: str | Path | None = None,
           timeout_s: float | None = None, on_event: Callable[[str], None] | None = None) -> Verification:
    """Rerun or compare, and hold the after requests to the SLO; writes ``verify.json`` when rerunning."""
    src = load_source(source)
    say = on_event or (lambda _m: None)
    if slo:
        the_slo, slo_from = Slo.parse(slo), "--slo"
    elif src.top_mode and src.top_mode != "none":
        the_slo, slo_from = Slo.from_catalog(src.top_mode), f"the catalog's criteria for {src.top_mode}"
    else:
        the_slo, slo_from = Slo.parse(DEFAULT_SLO), "the default"
    if candidate is not None:
        if override is not None and override.given:
            raise BadTarget("--candidate compares two runs already made: give no target with it")
        after_run = Run.load(candidate)
        v = Verification("compare", src.path, the_slo, slo_from)
        v.before = Stats.of([r for _, r in src.runs]) if src.runs else None
        v.after = Stats.of([after_run])
        v.rows = [Row(f"{src.path.name} → {after_run.path.name}", v.before, v.after, str(after_run.path))]
    else:
        if not src.runs:
            raise BadReport(f"nothing to rerun: no experiment of {str(src.path)!r} saw a failure",
                            hint="verify a report whose verdict is reproduced, or give --candidate RUN")
        v = _rerun(src, the_slo, slo_from, override or TargetOverride(), out, timeout_s, say)
    v.checks = [Check(c, v.after.value(c.key) if v.after else None, v.before.value(c.key) if v.before else None)
                for c in the_slo.criteria]
    if v.out is not None:
        meta = {**v.to_dict(), "finished_at": iso(utc_now())}
        (v.out / VERIFY_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    return v


def _rerun(src: Source, slo: Slo, slo_from: str, override: TargetOverride, out: str | Path | None,
           timeout_s: float | None, say: Callable[[str], None]) -> Verification:
    case = _case(src, override, timeout_s)
    folder = prepare_run_dir(out, "verify") if out is None else Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    runner = Runner(case, folder)
    v = Verification("rerun", src.path, slo, slo_from, out=folder)
    after_runs: list[Run] = []
    names: list[str] = []
    for name, before_run in src.runs:
        exp = _experiment(case, before_run)
        say(f"{exp.name}: again, as before ({name})")
        runner.run(exp)
        assert exp.run is not None
        say(f"  {exp.outcome}")
        after_runs.append(exp.run)
        names.append(exp.name)
    # 2xx answers with a minority body are failures after as they were before (with no --expect).
    wrong = mark_wrong_bodies(after_runs)
    if wrong.count:
        say(f"{wrong.count} 2xx answers with a minority body count as failures (wrong_body)")
    for name, (_, before_run), run in zip(names, src.runs, after_runs, strict=True):
        v.rows.append(Row(name, Stats.of([before_run]), Stats.of([run]), str(run.path)))
    v.before = Stats.of([r for _, r in src.runs])
    v.after = Stats.of(after_runs)
    write_json(folder / META_FILE, VerifyFolderMeta(source=str(src.path), slo=slo.text()).model_dump(by_alias=True))
    return v


def _case(src: Source, override: TargetOverride, timeout_s: float | None) -> Case:
    """The case to rerun: the target given now, or the recorded one when it can be replayed."""
    c = src.report.case if src.report is not None else ReportCase()
    meta = src.runs[0][1].meta
    recorded = meta.target
    max_concurrency, max_rate = int(c.max_concurrency or 32), c.max_rate
    timeout = timeout_s or float(meta.options.timeout_s or 10.0)
    expect = override.expect or expectation(c.expect or meta.expect, "the original --expect")
    if override.flow is not None or override.target is not None:
        return Case(target=override.target, flow=override.flow, base_url=override.url, timeout_s=timeout,
                    max_concurrency=max_concurrency, max_rate=max_rate,
                    expect=expect if override.target is not None else None)
    flow_src = c.flow or (recorded.flow.source if recorded.flow else None)
    if flow_src:
        if not Path(flow_src).is_file():
            raise BadTarget(f"the flow {flow_src!r} of the original run is gone", hint="give it again with --flow FILE")
        base = override.url or c.base_url or recorded.url
        return Case(flow=Flow.load(flow_src), base_url=base, timeout_s=timeout,
                    max_concurrency=max_concurrency, max_rate=max_rate)
    if (c.headers or c.body_bytes or recorded.headers or recorded.body_bytes
            or MASK in str(c.url or recorded.url or "")):
        raise BadTarget("the original request had headers, a body or a secret that tracehound does not keep",
                        hint="give the target again: tracehound verify REPORT URL -H ... --data ...")
    url = override.url or c.url or recorded.url
    if not url:
        raise BadReport(f"{str(src.path)!r} does not say which URL it probed", hint="give the URL")
    return Case(target=Target(url, recorded.method or c.method or "GET"), timeout_s=timeout,
                max_concurrency=max_concurrency, max_rate=max_rate, expect=expect)


def _experiment(case: Case, run: Run) -> Experiment:
    """The experiment that made ``run``, rebuilt for ``case``: same kind, same load shape."""
    exp_meta = run.meta.experiment or ExperimentMeta()
    d = run.meta.shape
    stages = [Stage(s.duration_s, s.target, s.ramp) for s in d.stages] or None
    shape = LoadShape(
        concurrency=int(d.concurrency or d.max_connections or 1),
        requests=d.requests,
        duration=d.duration_s,
        rate=d.rate,
        stages=stages,
        open_model=d.model == "open",
        max_connections=d.max_connections,
    )
    kind = exp_meta.kind or "probe"
    flow = None
    if kind == "idle_gap":
        flow = gap_flow(case, [float(g) for g in exp_meta.gaps or DEFAULT_GAPS], float(exp_meta.gap_spread_s or 0.0))
    elif exp_meta.delay_s and case.flow is not None:
        flow = case.flow.with_pause(float(exp_meta.delay_s))
    return Experiment(kind, exp_meta.purpose or "the run given, again", shape,
                      concurrency=exp_meta.concurrency, rate=exp_meta.rate,
                      gap_s=exp_meta.gap_s, delay_s=exp_meta.delay_s, flow=flow)


def _num(x: float) -> str:
    """The shortest text that reads back as ``x`` (500, 1.48851587), so a printed SLO is the SLO."""
    s = format(Decimal(repr(float(x))), "f")  # no exponent: the SLO's grammar has none
    return s[:-2] if s.endswith(".0") else s


def _pct(x: float) -> str:
    p = _num(100 * x)
    return f"{p}%" if float(p) / 100 == x else _num(x)  # a fraction when the percentage would not read back


def _ms(x: float) -> str:
    return f"{_num(x / 1000)}s" if x >= 1000 and x % 1000 == 0 else f"{_num(x)}ms"


__all__ = ["BadSlo", "Slo", "Stats", "TargetOverride", "Verification", "load_source", "verify"]
