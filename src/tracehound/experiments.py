"""Experiments: load shapes that tell causes apart, each run recorded with its purpose.

An :class:`Experiment` is one load shape applied to the case's target (or flow). Its run folder's
``run.json`` carries ``experiment: {kind, purpose, concurrency, rate, gap_s, gaps, delay_s, role,
during}`` so any analysis can tell a sweep level from an idle-gap probe without this module.

Kinds:

``baseline``   one request at a time: does it fail with no concurrency at all?
``sweep``      closed-model concurrency levels: does failure grow with load, where is the knee?
``canary``     a cheap request nobody loads (a path the service does not serve, and a cheap path it
               serves when one was found), sent on a fixed arrival schedule while idle and during
               each sweep level: does the whole service slow down or fail?
``low_rate``   a long probe at a low arrival rate with fresh virtual users: failures that begin
               after a time (expiring credentials) or that stay after load (leaks)
``idle_gap``   requests after growing pauses on the same connection: stale pooled connections,
               keep-alive races
``flow_delay`` a flow's dependent steps with a pause between them: a read that needs time to see
               a write
``confirm``    the condition that failed most, again: the failure reproduces

The variants that split causes the kinds above cannot (:mod:`tracehound.plan.shapes`):

``fresh_conn``      another experiment's load with a new connection per request
``timeout_varied``  the condition that failed, with another client timeout
``burst``           a steady run's mean arrival rate, sent in bursts
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tracehound.case import Case
from tracehound.flow import Flow
from tracehound.plan.cheap import cheap_endpoint
from tracehound.probe import LoadShape, ProbeConfig, Run, probe, summarize
from tracehound.probe.meta import ExperimentMeta, write_meta

#: Experiment kinds that run on the case's engine; the others always run on the native engine.
LOCUST_KINDS = frozenset({"sweep", "confirm", "flow_delay"})
#: What the canary asks for: a path no service serves, answered by routing alone (any status counts).
CANARY_NAME = "__tracehound__canary"
CANARY_RATE = 5.0
#: With the service idle the canary asks three times as often: the samples a slowdown under load is
#: judged against. Ten of them could not make a stall that holds half the canaries significant.
IDLE_CANARY_RATE = 15.0
#: The canary's own timeout: short, so a stall yields answers (timeouts, counted as slow) inside
#: the load's window instead of after it.
CANARY_TIMEOUT_S = 3.0
#: The most connections a canary opens: enough for every request due within one timeout, so a
#: stalled service cannot hold the canary's arrivals back on our side (an open model in fact).
CANARY_MAX_CONNECTIONS = 24


@dataclass
class Experiment:
    kind: str
    purpose: str
    shape: LoadShape
    concurrency: int | None = None
    rate: float | None = None
    gap_s: float | None = None
    #: The idle-gap probe's pauses, in order (``gap_s`` is the longest).
    gaps: list[float] | None = None
    #: Each pause of ``gaps`` is a range of this width above it, spread over users and tries.
    gap_spread_s: float | None = None
    delay_s: float | None = None
    flow: Flow | None = None
    #: Run a canary alongside (during this experiment's load).
    with_canary: bool = False
    #: False: a new connection per request (``Connection: close``).
    keepalive: bool = True
    #: The client timeout of its requests; None: the case's.
    timeout_s: float | None = None
    #: The kind of the experiment this one repeats under another condition (plan.shapes' variants).
    like: str | None = None
    #: A burst experiment's: each ``period_s`` the period's arrivals go out within its first ``burst_s``.
    burst_s: float | None = None
    period_s: float | None = None
    #: Why the plan chose it (the lead it follows, the causes it was meant to split), and what it found.
    why: str = ""
    splits: list[str] = field(default_factory=list)
    found: str = ""
    # Filled in when it has run
    run: Run | None = None
    #: The canary beside it that asks for a path nothing serves (the first of ``canaries``).
    canary: Run | None = None
    #: Every canary beside it: that one, and the one asking for a cheap path the service serves.
    canaries: list[Run] = field(default_factory=list)
    requests: int = 0
    failures: int = 0
    failure_rate: float = 0.0
    p50_ms: float | None = None
    #: Mean latency of the successes: with one slow request in a flow, what a user's turn costs.
    mean_ms: float | None = None
    seconds: float = 0.0
    outcome: str = ""
    skipped: str | None = None

    @property
    def name(self) -> str:
        extra = ""
        if self.like is not None and self.like != self.kind:
            extra = f" {self.like}"
        if self.concurrency is not None and self.kind in ("sweep", "confirm", "flow_delay", "fresh_conn",
                                                          "timeout_varied"):
            extra += f" c={self.concurrency}"
        if self.rate is not None:
            extra += f" {self.rate:g}/s"
        if self.delay_s:
            extra += f" pause {self.delay_s:g}s"
        if self.burst_s is not None:
            extra += f" in {self.burst_s:g}s of each {self.period_s or 1:g}s"
        if self.timeout_s is not None:
            extra += f" timeout {self.timeout_s:g}s"
        return self.kind + extra

    def annotation(self, role: str = "target", during: str | None = None, served: bool | None = None
                   ) -> ExperimentMeta:
        """The ``experiment`` block of its run's ``run.json`` (or of its canary's)."""
        if role == "target":
            purpose = self.purpose
        elif served:
            purpose = f"a cheap path the service serves, nobody loads, during {self.name}"
        else:
            purpose = f"a path nothing serves, nobody loads, during {self.name}"
        meta = ExperimentMeta(kind=self.kind if role == "target" else "canary", purpose=purpose,
                              concurrency=self.concurrency, rate=self.rate, gap_s=self.gap_s, gaps=self.gaps,
                              delay_s=self.delay_s, role=role, during=during,
                              served=served if role == "canary" else None)
        if role == "target":
            # Set only when they differ from an ordinary run's, so that older run.json files stay as they were.
            for key, value in (("keepalive", None if self.keepalive else False), ("timeout_s", self.timeout_s),
                               ("like", self.like), ("burst_s", self.burst_s), ("period_s", self.period_s),
                               ("gap_spread_s", self.gap_spread_s)):
                if value is not None:
                    setattr(meta, key, value)
        return meta

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "purpose": self.purpose, "shape": self.shape.describe(),
            "requests": self.requests, "failures": self.failures, "failure_rate": round(self.failure_rate, 4),
            "p50_ms": None if self.p50_ms is None else round(self.p50_ms, 1),
            "seconds": round(self.seconds, 2), "outcome": self.outcome,
            "engine": (self.run.meta.engine or "native") if self.run else None,
            "run": str(self.run.path) if self.run else None,
            "canary_run": str(self.canary.path) if self.canary else None,
            "why": self.why, "splits": list(self.splits), "found": self.found,
        }


@dataclass
class Runner:
    """Runs experiments for one case into ``out/runs``; keeps every run it made."""

    case: Case
    out: Path
    runs: list[Run] = field(default_factory=list)
    done: list[Experiment] = field(default_factory=list)
    #: A cheap path the service itself serves (``tracehound.plan.cheap``): the second canary's.
    cheap_path: str | None = None
    #: Whether the cheap path was looked for (by the first :meth:`canary_alone`).
    cheap_searched: bool = False
    _n: int = 0

    def config(self, exp: Experiment, label: str) -> ProbeConfig:
        c = self.case
        flow = exp.flow or c.flow
        # The load experiments may run on Locust; the baseline, the low-rate and the idle-gap probes
        # stay native: one or two users at a time, where Locust's startup (about 2 s) would cost more
        # than the load, and the idle gaps need each user's connection held by that user.
        locust = c.engine == "locust" and exp.kind in LOCUST_KINDS
        return ProbeConfig(
            engine="locust" if locust else "native",
            workers=c.workers if locust else 1,
            shape=exp.shape,
            target=None if flow is not None else c.target,
            flow=flow,
            base_url=c.base_url or (c.origin if flow is not None else None),
            timeout=exp.timeout_s if exp.timeout_s is not None else c.timeout_s,
            keepalive=exp.keepalive,
            out=self._dir(label),
            label=label,
            annotations={"experiment": exp.annotation()},
            expect=c.expect if flow is None else None,
        )

    def _dir(self, label: str) -> Path:
        self._n += 1
        return self.out / "runs" / f"{self._n:02d}-{label}"

    def run(self, exp: Experiment) -> Experiment:
        """Run one experiment (with its canary, if asked) and summarise its outcome."""
        label = exp.name.replace(" ", "-").replace("/", "per").replace("=", "")
        t0 = time.monotonic()
        started = self._start_canaries(exp, during="load") if exp.with_canary else []
        try:
            run = probe(self.config(exp, label))
        finally:
            for c in started:
                done = self._finish_canary(*c)
                if done is not None:
                    exp.canaries.append(done)
        exp.canary = next((c for c in exp.canaries if not (c.meta.experiment and c.meta.experiment.served)), None)
        exp.seconds = time.monotonic() - t0
        exp.run = run
        self.runs.append(run)
        self.runs.extend(exp.canaries)
        s = summarize(run.table, run.meta)
        exp.requests, exp.failures, exp.failure_rate = s.requests, s.failed, s.failure_rate
        exp.p50_ms = s.latency_ok.percentiles_ms.get("p50") if s.latency_ok else None
        exp.mean_ms = s.latency_ok.mean_ms if s.latency_ok else None
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(s.status_counts.items(), key=lambda kv: -kv[1])[:3])
        kinds = ", ".join(f"{k}×{v}" for k, v in s.error_kinds.items() if k != "cancelled")
        exp.outcome = (f"{s.failed}/{s.requests} failed ({s.failure_rate:.1%})"
                       + (f"; statuses {statuses}" if statuses else "") + (f"; errors {kinds}" if kinds else "")
                       + (f"; p50 ok {exp.p50_ms:.0f} ms" if exp.p50_ms is not None else ""))
        self.done.append(exp)
        return exp

    def canary_alone(self, seconds: float) -> list[Run]:
        """The canaries with nothing else running: their idle latency, to compare with under load.

        The first call looks for a cheap path the service serves (while it is still idle) and,
        when one answers, runs a second canary on it from then on.
        """
        if not self.cheap_searched:
            self.cheap_searched = True
            found = cheap_endpoint(self.case)
            self.cheap_path = found.path if found is not None else None
        exp = Experiment("canary", "the canary's latency with the service idle", LoadShape(rate=IDLE_CANARY_RATE,
                         duration=seconds, open_model=True, concurrency=1))
        runs = [r for r in (self._finish_canary(*c) for c in self._start_canaries(exp, "idle", seconds))
                if r is not None]
        self.runs.extend(runs)
        return runs

    @property
    def canary_timeout_s(self) -> float:
        return min(self.case.timeout_s, CANARY_TIMEOUT_S)

    def _start_canaries(self, exp: Experiment, during: str, seconds: float | None = None
                        ) -> list[tuple[subprocess.Popen[bytes], Path, Experiment, str, bool]]:
        """The canary on the path nothing serves and, when one was found, the one on the cheap served path."""
        paths = [(canary_path(self.case), False)]
        if self.cheap_path is not None:
            paths.append((self.cheap_path, True))
        started = [self._start_canary(exp, during, path, served, seconds) for path, served in paths]
        return [s for s in started if s is not None]

    def _start_canary(self, exp: Experiment, during: str, path: str, served: bool, seconds: float | None = None
                      ) -> tuple[subprocess.Popen[bytes], Path, Experiment, str, bool] | None:
        # A separate process: in this one it would share the interpreter with the load and
        # measure our own scheduling delays instead of the service's. The open model sends each
        # request when it is due, on as many connections as one timeout's arrivals need, and
        # records its latency from when it was due (``total_ms``), so a stall that holds every
        # connection still shows in each request due during it.
        seconds = seconds or exp.shape.duration or exp.shape.planned_duration or 3.0
        which = "served" if served else "canary"
        out = self._dir(f"{which}-{during}-{exp.name.replace(' ', '-')}".replace("=", "").replace("/", "per"))
        timeout = self.canary_timeout_s
        rate = IDLE_CANARY_RATE if during == "idle" else CANARY_RATE
        conns = min(CANARY_MAX_CONNECTIONS, math.ceil(rate * timeout) + 1)
        cmd = [sys.executable, "-m", "tracehound", "probe", self.case.origin + path,
               "--rate", f"{rate:g}", "-c", str(conns), "-d", f"{seconds:.2f}s", "--timeout",
               f"{timeout:g}s", "--quiet", "--out", str(out)]
        try:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError:
            return None
        return p, out, exp, during, served

    def _finish_canary(self, p: subprocess.Popen[bytes], out: Path, exp: Experiment, during: str,
                       served: bool) -> Run | None:
        try:
            p.wait(timeout=(exp.shape.duration or 5.0) + self.canary_timeout_s + 15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        with contextlib.suppress(Exception):
            if p.stderr:
                p.stderr.close()
        try:
            run = Run.load(out)
        except Exception:  # noqa: BLE001 - a canary that could not run is simply absent
            return None
        run.meta.experiment = exp.annotation(role="canary", during=during, served=served)
        with contextlib.suppress(OSError):
            write_meta(out, run.meta)
        return run


# The experiments, as shapes -------------------------------------------------------------------

def baseline(case: Case, seconds: float = 3.0, requests: int = 30) -> Experiment:
    return Experiment("baseline", "one request at a time: does it fail with no concurrency at all?",
                      LoadShape(concurrency=1, requests=requests, duration=seconds), concurrency=1)


def sweep_level(case: Case, concurrency: int, seconds: float) -> Experiment:
    return Experiment("sweep", f"{concurrency} concurrent users: does failure grow with load?",
                      LoadShape(concurrency=concurrency, duration=seconds), concurrency=concurrency,
                      with_canary=True)


def rate_level(case: Case, rate: float, seconds: float) -> Experiment:
    return Experiment("sweep", f"{rate:g} requests/s arriving: does failure grow with the arrival rate?",
                      LoadShape(rate=rate, duration=seconds, open_model=True, concurrency=case.max_concurrency,
                                max_connections=case.max_concurrency),
                      rate=rate, concurrency=case.max_concurrency, with_canary=True)


def low_rate(case: Case, seconds: float, rate: float, users: int) -> Experiment:
    return Experiment("low_rate", f"{rate:g} req/s for {seconds:.0f} s with fresh users: do failures begin "
                      "after a time, or stay after the load?",
                      LoadShape(rate=rate, duration=seconds, open_model=True, concurrency=users,
                                max_connections=users), rate=rate, concurrency=users)


def idle_gap(case: Case, gaps: list[float], users: int = 1, purpose: str | None = None,
             spread: float = 0.0) -> Experiment:
    """Requests after each pause in ``gaps``, each user on its own connection.

    With several ``users`` every pause is tried once per user, all at the same time: the service
    is as quiet as with one, and the tries multiply at no cost in time. With a ``spread``, each
    pause is a range from ``g`` to ``g + spread`` and the users wait points spread over it: a
    server that retires idle connections on a timer, not at the instant, fails only in a narrow
    window of pauses whose place in the range is set by the timer's phase.
    """
    flow = gap_flow(case, gaps, spread)
    per_iteration = len(flow.steps) + len(case.flow.setup if case.flow else [])
    users = max(1, min(users, case.max_concurrency))
    who = f" by {users} users at once" if users > 1 else ""
    said = ", ".join(_gap_words(g, spread) for g in gaps)
    purpose = purpose or f"requests after pauses of {said} s{who}: do requests after idle time fail?"
    seconds = sum(gaps) + spread * len(gaps) + 10
    return Experiment("idle_gap", purpose,
                      LoadShape(concurrency=users, requests=per_iteration * users, duration=seconds),
                      gap_s=max(gaps), gaps=list(gaps), gap_spread_s=spread or None, concurrency=users, flow=flow)


def _gap_words(g: float, spread: float) -> str:
    return f"{g:g}–{g + spread:g}" if spread else f"{g:g}"


def flow_delay(case: Case, concurrency: int, delay: float, seconds: float) -> Experiment:
    assert case.flow is not None
    paused = f"with a {delay:g} s pause before each dependent step" if delay else "with its own pauses only"
    return Experiment("flow_delay", f"the flow {paused}: does a read need time to see a write?",
                      LoadShape(concurrency=concurrency, duration=seconds), concurrency=concurrency,
                      delay_s=delay, flow=case.flow.with_pause(delay) if delay else case.flow)


def confirm(exp: Experiment, seconds: float) -> Experiment:
    return Experiment("confirm", f"the condition that failed most ({exp.name}), again: does it reproduce?",
                      replace(exp.shape, duration=seconds, requests=None),
                      concurrency=exp.concurrency, rate=exp.rate, delay_s=exp.delay_s, flow=exp.flow,
                      keepalive=exp.keepalive, timeout_s=exp.timeout_s, burst_s=exp.burst_s, period_s=exp.period_s)


def gap_flow(case: Case, gaps: list[float], spread: float = 0.0) -> Flow:
    """The case's requests repeated, each repetition after one pause of ``gaps`` (each a range ``spread`` wide)."""
    if case.flow is not None:
        base = case.flow
        steps = []
        for k, g in enumerate([0.0, *gaps]):
            label = f" {_idle_label(gaps, k, spread)}" if k else ""
            steps += [replace(s, pause=g if i == 0 else 0.0, pause_spread=spread if i == 0 and k else 0.0,
                              name=s.name + label)
                      for i, s in enumerate(base.steps)]
        return replace(base, steps=steps, iterations=1)
    t = case.target
    assert t is not None
    # One pass per user: a user done early must not take the last tries of a slower one (the
    # run's request bound is shared) and leave that one's last pause untried.
    doc: dict[str, Any] = {"steps": [], "iterations": 1}
    headers = {k: _literal(v) for k, v in t.headers}
    for k, g in enumerate([0.0, *gaps]):
        step: dict[str, Any] = {"name": f"target {_idle_label(gaps, k, spread)}" if k else "target", "method": t.method,
                                "url": _literal(t.url), "pause": [g, g + spread] if spread and k else g}
        if headers:
            step["headers"] = headers
        if t.body is not None:
            step["data"] = _literal(t.body.decode("utf-8", "replace"))
        if case.expect:
            step["expect"] = list(case.expect.texts)
        doc["steps"].append(step)
    return Flow.from_dict(doc, source="idle-gap probe")


def canary_path(case: Case) -> str:
    """A path beside the target's that nothing serves.

    It keeps the target's first path segment, so a gateway that routes by prefix (``/api/`` to
    the app, the rest elsewhere) sends it to the same service as the target.
    """
    if case.target is not None:
        path = case.target.path
    else:
        assert case.flow is not None
        step = case.flow.last_step
        path = "".join(p if isinstance(p, str) else "x" for p in step.target.parts)
        if step.absolute:
            path = "/" + path.split("://", 1)[-1].partition("/")[2]
    segments = [s for s in path.split("?", 1)[0].split("/") if s]
    prefix = "/" + segments[0] if len(segments) >= 2 and "{" not in segments[0] else ""
    return f"{prefix}/{CANARY_NAME}"


def _idle_label(gaps: list[float], k: int, spread: float = 0.0) -> str:
    """The name suffix of the ``k``-th repetition (1-based) of a gap flow: its pause, numbered when pauses repeat."""
    g = gaps[k - 1]
    said = _gap_words(g, spread)
    return f"(idle {said}s)" if gaps.count(g) == 1 else f"(idle {said}s, {gaps[:k].count(g)})"


def _literal(text: str) -> str:
    """``text`` as a flow template that renders to itself."""
    return text.replace("{", "{{").replace("}", "}}")


__all__ = ["CANARY_NAME", "canary_path", "Experiment", "Runner", "baseline", "confirm", "flow_delay", "gap_flow",
           "idle_gap", "low_rate", "rate_level", "sweep_level"]
