"""``tracehound mcp``: the specialists as tools for an AI assistant, over stdio (Model Context Protocol).

An assistant's orchestrator plays the part the seed cases' orchestrator played: it reads the
symptom, calls ``investigate`` (or ``probe`` and ``analyze_run`` by hand), reads the service's
``logs``, ``review``s its code, ``inspect_db``s its stores, ``explain``s a failure mode and
``verify``s the fix. Every tool answers with structured data and a short text summary.

The load an assistant can send is bounded by :class:`Limits`, fixed by whoever starts the
server and out of the assistant's reach: a cap on each probe's duration, requests,
concurrency and arrival rate, on an investigation's budget, and on the hosts load may go to
(this machine unless ``--allow-host`` widens it). Load-sending calls run one at a time, so
parallel calls cannot add up past the caps. Work runs in worker threads: the event loop keeps
answering while a probe runs.
"""

from __future__ import annotations

import contextlib
import inspect
import ipaddress
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from tracehound import __version__
from tracehound.errors import BadShape, TracehoundError
from tracehound.probe.run import RUNS_DIR, slugify, utc_now
from tracehound.probe.shapes import DEFAULT_MAX_DURATION, DEFAULT_MAX_REQUESTS
from tracehound.redact import redact_text

T = TypeVar("T")
#: Hosts load may always go to: this machine.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
#: Ceilings of the caps themselves: the CLI's own hard bounds.
CEILING_CONCURRENCY = 1000
CEILING_RATE = 100_000.0
CEILING_BUDGET_S = 3600.0
CEILING_SAMPLE_S = 3600.0

INSTRUCTIONS = """\
tracehound reproduces and diagnoses intermittent failures of web APIs.
Start with `investigate` on the failing request: it runs bounded experiments, analyses every
request, reads any logs/db/redis/code given, and ranks failure modes with evidence for and
against. `probe` sends one bounded load and records every request; `analyze_run` reads a run's
records; `logs`, `review` and `inspect_db` read the service's logs, code and PostgreSQL/Redis;
`explain` describes a failure mode (its fixes and checks); `verify` reruns what failed (or
compares two runs) against an SLO once a fix is in. Load is capped by the server's limits.
"""


# -- the bounds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What an assistant may ask of the load engine through this server; set only by the person starting it."""

    max_duration_s: float = 120.0
    max_requests: int = 100_000
    max_concurrency: int = 256
    max_rate: float = 2_000.0
    max_budget_s: float = 300.0
    max_sample_s: float = 120.0
    #: Extra hosts load may go to besides this machine's loopback; ``"*"`` is any host.
    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bounds = (("--max-duration", self.max_duration_s, 1.0, DEFAULT_MAX_DURATION),
                  ("--max-requests", self.max_requests, 1, DEFAULT_MAX_REQUESTS),
                  ("--max-concurrency", self.max_concurrency, 1, CEILING_CONCURRENCY),
                  ("--max-rate", self.max_rate, 0.1, CEILING_RATE),
                  ("--max-budget", self.max_budget_s, 10.0, CEILING_BUDGET_S),
                  ("--max-sample", self.max_sample_s, 1.0, CEILING_SAMPLE_S))
        for flag, value, lo, hi in bounds:
            if not lo <= value <= hi:
                raise BadShape(f"{flag} must be between {lo:g} and {hi:g}")

    def to_dict(self) -> dict[str, Any]:
        return {"max_duration_s": self.max_duration_s, "max_requests": self.max_requests,
                "max_concurrency": self.max_concurrency, "max_rate": self.max_rate,
                "max_budget_s": self.max_budget_s, "max_sample_s": self.max_sample_s,
                "hosts": ["loopback", *self.hosts]}

    def allows_host(self, host: str) -> bool:
        h = host.strip().strip("[]").rstrip(".").lower()
        if "*" in self.hosts or h in {x.lower() for x in self.hosts} or h in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(h).is_loopback
        except ValueError:
            return False

    def check_url(self, url: str) -> None:
        from tracehound.probe.target import split_url

        ep, _ = split_url(url)
        if not self.allows_host(ep.host):
            raise BadShape(f"this server sends load only to this machine and its allowed hosts, not {ep.host!r}",
                           hint=f"start it with `tracehound mcp --allow-host {ep.host}` to allow it")

    def check_flow(self, flow: Any) -> None:
        """Every step that names its own URL must name an allowed host, literally (not from a variable)."""
        for step in [*flow.setup, *flow.steps]:
            if not step.absolute:
                continue
            literal = ""
            for part in step.target.parts:
                if isinstance(part, tuple):
                    break
                literal += part
            if not step.target.names:
                literal += "/"  # a literal URL without a path still ends its host
            m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+[/?#]", literal)
            if m is None:
                raise BadShape(f"flow step {step.name!r} takes its host from a variable; this server sends load "
                               "only to hosts it can check beforehand")
            self.check_url(m.group(0))

    def check_shape(self, *, duration_s: float | None, requests: int | None, concurrency: int,
                    rate: float | None, what: str = "the run") -> None:
        """Refuse a load beyond the caps, with the cap named and the way to raise it."""
        if duration_s is not None and duration_s > self.max_duration_s:
            raise BadShape(f"{what} would last {duration_s:g} s, beyond this server's cap of {self.max_duration_s:g} s",
                           hint="the person running `tracehound mcp` can raise --max-duration")
        if requests is not None and requests > self.max_requests:
            raise BadShape(f"{what} would send {requests:,} requests, beyond this server's cap of {self.max_requests:,}",
                           hint="the person running `tracehound mcp` can raise --max-requests")
        if concurrency > self.max_concurrency:
            raise BadShape(f"{what} would use {concurrency:,} concurrent users or connections, beyond this server's "
                           f"cap of {self.max_concurrency:,}",
                           hint="the person running `tracehound mcp` can raise --max-concurrency")
        if rate is not None and rate > self.max_rate:
            raise BadShape(f"{what} would send {rate:g} requests/s, beyond this server's cap of {self.max_rate:g}",
                           hint="the person running `tracehound mcp` can raise --max-rate")


def _shape_bounds(d: Mapping[str, Any]) -> dict[str, Any]:
    """Duration, requests, peak concurrency and peak rate of a shape as ``run.json`` describes it."""
    stages = d.get("stages") or []
    is_open = d.get("model") == "open"
    duration = sum(float(s["duration_s"]) for s in stages) if stages else d.get("duration_s")
    peak_stage = max((float(s["target"]) for s in stages), default=0.0)
    concurrency = int(max(d.get("concurrency") or 1, d.get("max_connections") or 1,
                          0 if is_open else peak_stage))
    rate = max(float(d.get("rate") or 0.0), peak_stage if is_open else 0.0) or None
    return {"duration_s": duration, "requests": d.get("requests"), "concurrency": concurrency, "rate": rate}


# -- results ------------------------------------------------------------------------------------


def _jsonable(data: Any) -> Any:
    """Plain JSON values only (NumPy scalars, paths and times as numbers and strings)."""
    def default(o: Any) -> Any:
        if hasattr(o, "item"):
            return o.item()
        return str(o)

    return json.loads(json.dumps(data, default=default))


def _result(text: str, data: Mapping[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=_jsonable(dict(data)))


def _ms(v: float | None) -> str:
    return "-" if v is None else (f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _one_line(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


class _Server(MCPServer):
    """MCPServer whose argument errors read as one line, like every other error a caller can cause."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as e:
            if isinstance(e, UnexpectedToolError) or not isinstance(e.__cause__, ValidationError):
                raise
            raise ToolError(f"Error executing tool {name}: bad arguments: {_one_line(e.__cause__)}") from None


# -- the work, off the event loop ---------------------------------------------------------------


class _Worker:
    """Runs blocking work in a thread; load-sending work one call at a time; user errors as one line."""

    def __init__(self) -> None:
        self.load_lock = anyio.Lock()

    async def run(self, fn: Callable[[], T], sends_load: bool = False) -> T:
        try:
            if sends_load:
                async with self.load_lock:
                    return await anyio.to_thread.run_sync(fn)
            return await anyio.to_thread.run_sync(fn)
        except TracehoundError as e:
            raise ToolError(redact_text(e.line())) from None
        except ImportError as e:
            raise ToolError(f"a library this tool needs is missing: {e.name or e}") from None


def _say(ctx: Context | None) -> Callable[[str], None]:
    """An ``on_event`` callback for a worker thread: each line goes to the client as a log message."""
    def say(msg: str) -> None:
        if ctx is None:
            return
        with contextlib.suppress(Exception):  # a client gone or not listening costs the message, not the work
            anyio.from_thread.run(ctx.info, redact_text(msg))

    return say


def _new_folder(root: Path, slug: str) -> Path:
    """A fresh folder under ``root`` named like the CLI's run folders: UTC time, then what it holds."""
    now = utc_now()
    base = root / f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{slugify(slug)}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _target(url: str, method: str | None, headers: Mapping[str, str] | None, body: str | None,
            json_body: Any) -> Any:
    """The request to send, from JSON arguments (a body is the text given, never a file to read)."""
    from tracehound.errors import BadTarget
    from tracehound.probe import Target
    from tracehound.probe.target import parse_header

    hdrs = [parse_header(f"{k}: {v}") for k, v in (headers or {}).items()]
    raw: bytes | None = None
    if body is not None and json_body is not None:
        raise BadTarget("give body or json_body, not both")
    if json_body is not None:
        raw = json.dumps(json_body, separators=(",", ":")).encode()
        if not any(k.lower() == "content-type" for k, _ in hdrs):
            hdrs.append(("Content-Type", "application/json"))
    elif body is not None:
        raw = body.encode()
    try:
        for k, v in hdrs:
            f"{k}: {v}".encode("latin-1")
    except UnicodeEncodeError:
        raise BadTarget("header values must be latin-1 text") from None
    return Target(url, method or ("POST" if raw is not None else "GET"), tuple(hdrs), raw)


def _run_digest(run: Any) -> dict[str, Any]:
    from tracehound.probe.summary import summarize_run

    s = summarize_run(run)
    d = s.to_dict()
    for key in ("latency_ok", "latency_failed"):
        if d.get(key):
            d[key].pop("histogram", None)
    return {"run": str(run.path), "interrupted": run.interrupted, "target": run.meta.get("target"),
            "shape": run.meta.get("shape"), **d}


def _run_line(d: Mapping[str, Any]) -> str:
    lat = d.get("latency_ok") or {}
    p = lat.get("percentiles_ms") or {}
    kinds = {**{f"HTTP {k}": v for k, v in (d.get("status_counts") or {}).items() if k == "none" or int(k) >= 400},
             **(d.get("error_kinds") or {})}
    kinds.pop("HTTP none", None)
    why = ", ".join(f"{k}×{v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:3])
    return (f"{d['requests']:,} requests in {d['duration_s']:.1f} s, {d['failed']:,} failed ({_pct(d['failure_rate'])}"
            + (f": {why}" if why and d["failed"] else "") + f"); ok p50 {_ms(p.get('p50'))}, p99 {_ms(p.get('p99'))}")


def _load_runs(paths: Iterable[str]) -> list[Any]:
    """Run folders, or investigation and verify folders (their runs, in order)."""
    from tracehound.errors import BadRun
    from tracehound.probe import Run

    out: list[Any] = []
    for p in map(Path, paths):
        if (p / "run.json").exists() and (p / "requests.parquet").exists():
            out.append(Run.load(p))
        elif (p / "runs").is_dir():
            found = sorted(q for q in (p / "runs").iterdir() if (q / "run.json").exists())
            if not found:
                raise BadRun(f"{str(p)!r} holds no runs")
            out += [Run.load(q) for q in found]
        else:
            raise BadRun(f"{str(p)!r} is not a run folder (no run.json and requests.parquet), nor an investigation")
    if not out:
        raise BadRun("give at least one run folder")
    return out


# -- the server ---------------------------------------------------------------------------------

Url = Annotated[str, Field(description="Absolute http(s) URL of the request that fails (with flow: the base URL).")]
Method = Annotated[str | None, Field(description="HTTP method; default GET, or POST when a body is given.")]
Headers = Annotated[dict[str, str] | None, Field(description="Request headers, name to value.")]
Body = Annotated[str | None, Field(description="Raw request body (text).")]
JsonBody = Annotated[Any, Field(description="A JSON request body (sets Content-Type: application/json).")]
FlowFile = Annotated[str | None, Field(description="Path of a flow file (YAML: setup and steps with captures); "
                                                   "url is then its base URL.")]
Timeout = Annotated[float, Field(gt=0, le=300, description="Per-request timeout in seconds.")]

_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_LOAD = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


def build_server(limits: Limits | None = None, runs_dir: str | Path | None = None) -> MCPServer:
    """The MCP server with tracehound's eight tools, bounded by ``limits``; runs go under ``runs_dir``."""
    limits = limits or Limits()
    root = (Path(runs_dir) if runs_dir is not None else RUNS_DIR).resolve()
    worker = _Worker()
    where = (f"Relative paths are read from {Path.cwd()}; new runs and investigations go under {root}. "
             f"Limits: {json.dumps(limits.to_dict())}.")
    server = _Server("tracehound", instructions=INSTRUCTIONS + where, version=__version__, log_level="WARNING")

    def tool(annotations: ToolAnnotations) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a tool; its docstring, dedented, is the description the assistant reads."""
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            server.add_tool(fn, description=inspect.cleandoc(fn.__doc__ or ""), annotations=annotations)
            return fn

        return register

    def case_target(url: str, method: str | None, headers: Mapping[str, str] | None, body: str | None,
                    json_body: Any, flow: str | None) -> tuple[Any, Any]:
        from tracehound.errors import BadTarget
        from tracehound.flow import Flow

        if flow is None:
            limits.check_url(url)
            return _target(url, method, headers, body, json_body), None
        if method or headers or body is not None or json_body is not None:
            raise BadTarget("with a flow, put methods, headers and bodies in the flow's steps")
        flow_obj = Flow.load(flow)
        limits.check_url(url or flow_obj.base_url or "")
        limits.check_flow(flow_obj)
        return None, flow_obj

    @tool(_LOAD)
    async def probe(
        url: Url,
        method: Method = None,
        headers: Headers = None,
        body: Body = None,
        json_body: JsonBody = None,
        flow: FlowFile = None,
        concurrency: Annotated[int, Field(ge=1, description="Virtual users (closed model), or the cap on open "
                                                            "connections with rate (default there: the server's "
                                                            "cap).")] = 1,
        requests: Annotated[int | None, Field(ge=1, description="Total requests to send.")] = None,
        duration_s: Annotated[float | None, Field(gt=0, description="Seconds to send for.")] = None,
        rate: Annotated[float | None, Field(gt=0, description="Open model: requests per second at a constant "
                                                               "arrival rate, whatever the service does.")] = None,
        stages: Annotated[str | None, Field(description="Ramps, e.g. '10s:5,30s:50' (VUs; arrival rates with "
                                                        "open_model); '10s:=5' jumps to 5 and holds.")] = None,
        open_model: Annotated[bool, Field(description="With stages: ramp the arrival rate, not the users.")] = False,
        timeout_s: Timeout = 10.0,
        keepalive: Annotated[bool, Field(description="Reuse connections (false: a new one per request).")] = True,
        label: Annotated[str | None, Field(description="A name for the run folder.")] = None,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Send one bounded load at a request and record every request, failures included.

        Give requests, duration_s or stages (the server's caps apply). Returns the run folder and
        its summary: outcomes, status and error counts, latency percentiles, connection reuse.
        """
        from tracehound.probe import LoadShape, ProbeConfig, parse_stages
        from tracehound.probe import probe as run_probe

        def work() -> CallToolResult:
            if requests is None and duration_s is None and not stages:
                raise BadShape("give requests, duration_s or stages: a probe must stop by itself")
            target, flow_obj = case_target(url, method, headers, body, json_body, flow)
            st = parse_stages(stages) if stages else None
            is_open = open_model or rate is not None
            # An open model's connections are capped too: by the server's cap unless the caller gives a lower one.
            conns = (concurrency if concurrency > 1 else limits.max_concurrency) if is_open else None
            shape = LoadShape(concurrency=concurrency, requests=requests, duration=duration_s, rate=rate, stages=st,
                              open_model=is_open, max_requests=limits.max_requests,
                              max_duration=limits.max_duration_s, max_connections=conns)
            b = _shape_bounds(shape.describe())
            limits.check_shape(what="the probe", **b)
            shape.validate()
            config = ProbeConfig(shape=shape, target=target, flow=flow_obj, base_url=url if flow_obj else None,
                                 timeout=timeout_s, keepalive=keepalive, label=label)
            config.out = _new_folder(root, config.slug())
            run = run_probe(config, on_progress=_progress(ctx, shape.planned_duration))
            d = _run_digest(run)
            return _result(f"probe: {_run_line(d)}. Run: {run.path}", d)

        return await worker.run(work, sends_load=True)

    @tool(_READ)
    async def analyze_run(
        runs: Annotated[list[str], Field(min_length=1, description="Run folders (or an investigation's folder: "
                                                                   "all its runs) to analyse together.")],
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Analyse recorded requests: how failures depend on load, time, connections, content; ranked causes.

        Returns the traffic analyst's findings (each with its signals and exemplar requests), the
        signals the data could have shown, and the failure modes ranked from the traffic alone.
        """
        from tracehound.agents.traffic import analyze
        from tracehound.diagnosis.rank import rank

        def work() -> CallToolResult:
            loaded = _load_runs(runs)
            res = analyze(loaded)
            hyps = rank(res.signals, res.tested, res.failures)
            data = {"runs": [str(r.path) for r in loaded], "requests": res.requests, "failures": res.failures,
                    "detail": res.detail, "findings": [f.to_dict() for f in res.findings],
                    "tested": sorted(set(res.tested)),
                    "ranking": [{"id": h.id, "title": h.title, "confidence": round(h.confidence, 4),
                                 "explain": h.explain()} for h in hyps[:5]]}
            lines = [f"analyze_run: {res.detail or 'no requests'}."]
            seen = sorted(((s, f.title) for f in res.findings for s in f.signals), key=lambda st: -st[0].strength)
            lines += [f"- {s.name} ({s.strength:.2f}), in {title.lower()}" for s, title in seen[:8]]
            if hyps:
                lines.append(f"Leading from the traffic alone: {hyps[0].id} ({hyps[0].confidence:.0%}).")
            return _result("\n".join(lines), data)

        return await worker.run(work)

    @tool(_LOAD)
    async def investigate(
        url: Url,
        method: Method = None,
        headers: Headers = None,
        body: Body = None,
        json_body: JsonBody = None,
        flow: FlowFile = None,
        symptom: Annotated[str | None, Field(description="The symptom as reported, for the report.")] = None,
        logs: Annotated[list[str] | None, Field(description="Log files of the service to read.")] = None,
        db: Annotated[str | None, Field(description="PostgreSQL DSN to sample (read-only).")] = None,
        redis: Annotated[str | None, Field(description="Redis URL to sample (read-only).")] = None,
        code: Annotated[str | None, Field(description="The service's source folder, to review.")] = None,
        budget_s: Annotated[float, Field(ge=10, description="Seconds for the whole investigation (the server's "
                                                            "cap applies).")] = 90.0,
        max_concurrency: Annotated[int, Field(ge=1, description="Peak concurrent users the service should take; "
                                                                "no experiment goes beyond.")] = 32,
        max_rate: Annotated[float | None, Field(gt=0, description="Peak requests/s clients send, when known: the "
                                                                  "sweep steps arrival rates up to it.")] = None,
        timeout_s: Timeout = 10.0,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Find why a request fails intermittently: experiments, every agent, ranked causes with evidence.

        Writes report.json, report.md and report.html; returns the verdict, the ranked failure
        modes with evidence for and against, each experiment's outcome, each agent's status and
        the report's paths. Takes about budget_s seconds.
        """
        from tracehound.case import Case, Sources
        from tracehound.errors import BadTarget
        from tracehound.orchestrator import investigate as run_investigation

        def work() -> CallToolResult:
            if budget_s > limits.max_budget_s:
                raise BadShape(f"a budget of {budget_s:g} s is beyond this server's cap of {limits.max_budget_s:g} s",
                               hint="the person running `tracehound mcp` can raise --max-budget")
            limits.check_shape(what="the investigation", duration_s=None, requests=None, concurrency=max_concurrency,
                               rate=max_rate)
            target, flow_obj = case_target(url, method, headers, body, json_body, flow)
            for f in logs or []:
                if not Path(f).is_file():
                    raise BadTarget(f"cannot read log file {f!r}: no such file")
            if code is not None and not Path(code).is_dir():
                raise BadTarget(f"code {code!r} is not a folder")
            case = Case(target=target, flow=flow_obj, base_url=url if flow_obj else None,
                        sources=Sources(logs=[Path(f) for f in logs or []], db=db, redis=redis,
                                        code=Path(code) if code else None),
                        budget_s=budget_s, max_concurrency=max_concurrency, max_rate=max_rate, timeout_s=timeout_s,
                        symptom=symptom)
            inv = run_investigation(case, _new_folder(root, "investigation"), on_event=_say(ctx))
            return _result(_investigation_text(inv), _investigation_digest(inv))

        return await worker.run(work, sends_load=True)

    @tool(_READ)
    async def logs(
        files: Annotated[list[str], Field(min_length=1, description="Log files or folders of them (text, JSON "
                                                                    "lines, logfmt; gzip too).")],
        since: Annotated[str | None, Field(description="Only events from then on: ISO time, epoch seconds, or "
                                                       "30m (ago).")] = None,
        until: Annotated[str | None, Field(description="Only events up to then (same forms as since).")] = None,
        runs: Annotated[list[str] | None, Field(description="Run folders to align the events with.")] = None,
        tz: Annotated[str | None, Field(description="Zone of timestamps written without one (default: this "
                                                    "machine's), e.g. UTC, Europe/Paris, +02:00.")] = None,
        top: Annotated[int, Field(ge=1, le=100, description="Templates to return per section.")] = 10,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Read service logs: templates, known failure signatures, and what sits around failing requests.

        Returns the signals the logs show (log:…), the signature hits, the templates over-represented
        around a run's failures, new and rare ones, and the files read or skipped.
        """
        from tracehound.errors import BadLogOption
        from tracehound.logs import analyze_logs, parse_bound, parse_zone

        def work() -> CallToolResult:
            try:
                zone = parse_zone(tz)
                lo = parse_bound(since, zone) if since else None
                hi = parse_bound(until, zone) if until else None
            except ValueError as e:
                raise BadLogOption(str(e)) from None
            report = analyze_logs(files, lo, hi, _load_runs(runs) if runs else [], zone)
            if not report.read:
                why = "; ".join(f"{f.path}: {f.skipped}" for f in report.skipped) or "no files"
                raise BadLogOption(f"no log could be read ({why})")
            d = report.to_dict()
            for key in ("templates", "over_represented", "new", "rare"):
                d[key] = d[key][:top]
            obs = sorted(report.observations, key=lambda o: -o.strength)
            lines = [f"logs: {len(report.read)} file(s), {report.events:,} events, {report.template_count} templates"
                     + (f"; {len(report.skipped)} skipped" if report.skipped else "") + "."]
            lines += [f"- {o.name} ({o.strength:.2f}): {o.detail}" for o in obs[:8]]
            if not obs:
                lines.append("No failure signal in these logs.")
            return _result("\n".join(lines), d)

        return await worker.run(work)

    @tool(_READ)
    async def review(
        path: Annotated[str, Field(description="The service's code: a folder or one Python file.")],
        select: Annotated[list[str] | None, Field(description="Only these rule codes, e.g. ['TH101'].")] = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Review a Python web backend's code for what fails under load (pools, blocking calls, N+1 …).

        Returns every finding with its rule, place, message, the routes it is on and its signal.
        """
        from tracehound.review import review as run_review

        def work() -> CallToolResult:
            res = run_review(path, select or None)
            d = res.to_dict()
            counts: dict[str, int] = {}
            for v in res.violations:
                counts[v.code] = counts.get(v.code, 0) + 1
            head = (f"review: {len(res.violations)} finding(s) in {res.files} file(s)"
                    + (": " + ", ".join(f"{c}×{n}" for c, n in sorted(counts.items())) if counts else "") + ".")
            lines = [head] + [f"- {v.location()} {v.code} {v.message}" for v in res.violations[:10]]
            return _result("\n".join(lines), d)

        return await worker.run(work)

    @tool(ToolAnnotations(read_only_hint=True, open_world_hint=True))
    async def inspect_db(
        dsn: Annotated[str, Field(description="postgresql://user:password@host:port/db or "
                                              "redis://[:password@]host:port/db.")],
        duration_s: Annotated[float, Field(gt=0, description="Seconds to sample for (the server's cap "
                                                             "applies).")] = 10.0,
        interval_s: Annotated[float, Field(ge=0.05, le=60, description="Seconds between samples.")] = 0.5,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Sample a PostgreSQL or Redis server for a while (read-only) and report what it shows.

        Pools, waits, locks, long queries, idle-in-transaction sessions (PostgreSQL); memory,
        evictions, blocked clients, latency (Redis); as findings with their signals.
        """
        def work() -> CallToolResult:
            if duration_s > limits.max_sample_s:
                raise BadShape(f"sampling {duration_s:g} s is beyond this server's cap of {limits.max_sample_s:g} s",
                               hint="the person running `tracehound mcp` can raise --max-sample")
            if dsn.strip().lower().startswith(("redis://", "rediss://", "unix://")):
                from tracehound.agents.redis import inspect_redis as inspect
            else:
                from tracehound.agents.postgres import inspect_postgres as inspect
            res = inspect(dsn, duration_s, interval_s)
            lines = [f"inspect_db: {res.name}: {res.status}: {res.detail}"]
            lines += [f"- {f.title}" for f in res.findings[:8]]
            return _result(redact_text("\n".join(lines)), res.to_dict())

        return await worker.run(work)

    @tool(_READ)
    async def explain(
        failure_mode: Annotated[str | None, Field(description="A failure-mode id, e.g. db_pool_exhaustion; "
                                                              "omit to list them all.")] = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Explain a failure mode: what it is, the evidence for and against it, fixes, checks, references.

        Without an id: every failure mode the catalog knows, with its title.
        """
        from tracehound.diagnosis.catalog import get, load_catalog

        def work() -> CallToolResult:
            catalog = load_catalog()
            if failure_mode is None:
                modes = [{"id": m.id, "title": m.title, "prior": m.prior} for m in catalog.values()]
                text = "\n".join(f"{m['id']}: {m['title']}" for m in modes)
                return _result(text, {"failure_modes": modes})
            mode = get(failure_mode, catalog)
            return _result(mode.to_markdown(), mode.to_dict())

        return await worker.run(work)

    @tool(_LOAD)
    async def verify(
        source: Annotated[str, Field(description="An investigation (its folder or report.json), or a run "
                                                 "folder: what failed before.")],
        candidate: Annotated[str | None, Field(description="A run made after the fix, to compare with; no load is "
                                                           "sent then.")] = None,
        slo: Annotated[str | None, Field(description="Criteria, e.g. 'error_rate<1%,p95<500ms,p99<1s' (default: "
                                                     "the catalog's for the top cause).")] = None,
        url: Annotated[str | None, Field(description="Rerun against this URL instead of the recorded one (with "
                                                     "flow: the base URL).")] = None,
        method: Method = None,
        headers: Headers = None,
        body: Body = None,
        json_body: JsonBody = None,
        flow: FlowFile = None,
        timeout_s: Annotated[float | None, Field(gt=0, le=300, description="Per-request timeout (default: the "
                                                                           "original's).")] = None,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Did the fix work? Rerun what failed (same shapes, same target) or compare two runs, against an SLO.

        Returns passed (true when every criterion holds), the before/after figures per experiment
        and each criterion's value.
        """
        from tracehound.errors import BadTarget
        from tracehound.flow import Flow
        from tracehound.verify import TargetOverride, load_source
        from tracehound.verify import verify as run_verify

        def overrides() -> Any:
            if flow is not None:
                if method or headers or body is not None or json_body is not None:
                    raise BadTarget("with a flow, put methods, headers and bodies in the flow's steps")
                return TargetOverride(flow=Flow.load(flow), url=url)
            if method or headers or body is not None or json_body is not None:
                if not url:
                    raise BadTarget("give the url the headers and body go with")
                return TargetOverride(target=_target(url, method, headers, body, json_body))
            return TargetOverride(url=url)

        def work() -> CallToolResult:
            override = overrides()
            out = None
            if candidate is None:
                _check_rerun(limits, load_source(source), override)
                out = _new_folder(root, "verify")
            v = run_verify(source, candidate, slo, override, out, timeout_s, on_event=_say(ctx))
            return _result(_verification_text(v), v.to_dict())

        return await worker.run(work, sends_load=candidate is None)

    return server


def _progress(ctx: Context | None, planned_s: float | None) -> Callable[[Any], None] | None:
    """Progress notifications every two seconds or so, for a client that asked for them."""
    if ctx is None:
        return None
    last = [0.0]

    def report(p: Any) -> None:
        now = time.monotonic()
        if now - last[0] < 2.0:
            return
        last[0] = now
        msg = f"{p.completed:,} requests, {p.failed:,} failed, {p.rps:,.0f} req/s"
        with contextlib.suppress(Exception):  # progress is a courtesy; the probe goes on without it
            anyio.from_thread.run(ctx.report_progress, p.elapsed_s, planned_s, msg)

    return report


def _check_rerun(limits: Limits, src: Any, override: Any) -> None:
    """Refuse a rerun that would send load past the caps or to a host this server may not reach."""
    from tracehound.flow import Flow

    if override.target is not None:
        limits.check_url(override.target.url)
    if override.url:
        limits.check_url(override.url)
    if override.flow is not None:
        limits.check_flow(override.flow)
    if override.target is None and not override.url:
        case = (src.report or {}).get("case") or {}
        recorded = [case.get("url"), case.get("base_url")] + [(r.meta.get("target") or {}).get("url")
                                                              for _, r in src.runs]
        for u in filter(None, recorded):
            limits.check_url(str(u))
    if override.flow is None:
        flow_src = ((src.report or {}).get("case") or {}).get("flow")
        if flow_src and Path(flow_src).is_file():
            limits.check_flow(Flow.load(flow_src))
    total = 0.0
    for name, run in src.runs:
        b = _shape_bounds(run.meta.get("shape") or {})
        limits.check_shape(what=f"rerunning {name}", **b)
        total += b["duration_s"] or 0.0
    if total > limits.max_budget_s:
        raise BadShape(f"rerunning {len(src.runs)} experiments would take {total:g} s, beyond this server's cap of "
                       f"{limits.max_budget_s:g} s", hint="the person running `tracehound mcp` can raise --max-budget")


def _investigation_digest(inv: Any) -> dict[str, Any]:
    report = {k: str(inv.out / f"report.{k}") for k in ("json", "md", "html")}
    if inv.report_error:
        report.pop("md")
        report.pop("html")
    return {
        "verdict": inv.verdict, "requests": inv.requests, "failures": inv.failures,
        "failure_rate": round(inv.failure_rate, 5), "seconds": round(inv.seconds, 1),
        "stopped_early": inv.stopped_early,
        "hypotheses": [{**h.to_dict(), "explain": h.explain()} for h in inv.hypotheses[:5]],
        "experiments": [{k: e.to_dict()[k] for k in ("name", "kind", "purpose", "outcome", "requests", "failures",
                                                     "failure_rate", "run")} for e in inv.experiments],
        "agents": [{"name": a.name, "status": a.status, "detail": a.detail,
                    "signals": sorted({s.name for s in a.signals})} for a in inv.agents],
        "next_steps": inv.next_steps, "folder": str(inv.out), "report": report, "report_error": inv.report_error,
    }


def _investigation_text(inv: Any) -> str:
    if inv.verdict == "not_reproduced":
        lines = [(f"investigate: not reproduced: {inv.failures} of {inv.requests} requests failed over "
                  f"{len(inv.experiments)} experiments. No cause is named.")]
        lines += [f"- {s}" for s in inv.next_steps]
    else:
        lines = [(f"investigate: reproduced: {inv.failures} of {inv.requests} requests failed "
                  f"({inv.failure_rate:.1%}) over {len(inv.experiments)} experiments in {inv.seconds:.0f} s.")]
        lines += [f"{i}. {h.id} {h.confidence:.0%}: {h.title}" for i, h in enumerate(inv.hypotheses[:3], 1)]
    where = inv.out / ("report.json" if inv.report_error else "report.md")
    lines.append(f"Report: {where}")
    return "\n".join(lines)


def _verification_text(v: Any) -> str:
    verdict = "PASS: the SLO holds" if v.passed else "FAIL: the SLO does not hold"
    lines = [f"verify ({v.mode}): {verdict}; SLO {v.slo.text()} (from {v.slo_from})."]
    for c in v.checks:
        value = "-" if c.value is None else (_pct(c.value) if c.criterion.key == "error_rate" else _ms(c.value))
        before = "" if c.before is None else (
            f" (before {_pct(c.before) if c.criterion.key == 'error_rate' else _ms(c.before)})")
        lines.append(f"- {'ok' if c.ok else 'FAILED'} {c.criterion.text()}: {value}{before}")
    if v.out:
        lines.append(f"Runs: {v.out}")
    return "\n".join(lines)


def serve(limits: Limits | None = None, runs_dir: str | Path | None = None,
          transport: Literal["stdio"] = "stdio") -> None:
    """Serve until the client closes stdin."""
    build_server(limits, runs_dir).run(transport)


__all__ = ["Limits", "build_server", "serve"]
