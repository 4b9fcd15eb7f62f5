"""tracehound's pytest plugin: load and database budgets as ordinary test assertions.

Installing tracehound registers it (the ``pytest11`` entry point ``tracehound``; ``-p no:tracehound``
turns it off). It offers what an investigation's "prevention" section asks CI to check:

* ``tracehound_probe`` — a fixture that runs a bounded probe inside a test and returns its
  :class:`ProbeResult` (error rate, percentiles, status counts), with ``assert_slo``::

      def test_orders_hold_under_24_users(tracehound_probe):
          result = tracehound_probe("/orders/42", concurrency=24, duration="4s")
          result.assert_slo("error_rate<1%,p95<500ms")

  The service's base URL comes from ``$TRACEHOUND_TARGET_URL`` (``env_var=`` names another;
  ``base_url=`` gives it outright); the test is skipped when it is unset. Only 127.0.0.1 and
  localhost are probed unless the call passes ``allow_remote=True`` or pytest runs with
  ``--th-allow-remote``; ``--th-max-duration`` (60 s) and ``--th-max-requests`` (50,000) cap
  every probe.
* ``--th-query-timeout SECONDS`` — a query-time budget: a test fails when any SQLAlchemy query it
  runs (on any engine in the test process) takes longer.
* ``max_queries`` — a query-count budget: ``with max_queries(5): client.get("/orders")`` fails
  with the statements when more ran, which is how an N+1 loop shows before production.

Importing this module is cheap: the prober and SQLAlchemy load only when a fixture or option
is used, since every pytest run in the environment loads the plugin.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tracehound.flow import Flow
    from tracehound.probe import ProbeConfig, Run, Summary
    from tracehound.verify import Slo

DEFAULT_ENV_VAR = "TRACEHOUND_TARGET_URL"
DEFAULT_MAX_DURATION_S = 60.0
DEFAULT_MAX_REQUESTS = 50_000
_SHOWN_STATEMENTS = 40


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tracehound", "tracehound: load and database budgets")
    group.addoption("--th-query-timeout", type=float, default=None, metavar="SECONDS",
                    help="fail a test when any SQLAlchemy query it runs takes longer than SECONDS")
    group.addoption("--th-allow-remote", action="store_true", default=False,
                    help="let tracehound_probe send load to hosts other than 127.0.0.1/localhost")
    group.addoption("--th-max-duration", type=float, default=DEFAULT_MAX_DURATION_S, metavar="SECONDS",
                    help=f"longest probe a test may run (default {DEFAULT_MAX_DURATION_S:g})")
    group.addoption("--th-max-requests", type=int, default=DEFAULT_MAX_REQUESTS, metavar="N",
                    help=f"most requests a probe may send (default {DEFAULT_MAX_REQUESTS:,})")


def pytest_configure(config: pytest.Config) -> None:
    budget = config.getoption("--th-query-timeout")
    if budget is None:
        return
    if not budget > 0:
        raise pytest.UsageError("--th-query-timeout must be a number of seconds above 0")
    clock = QueryClock(budget)
    clock.install()
    config.pluginmanager.register(clock, QueryClock.NAME)


def pytest_unconfigure(config: pytest.Config) -> None:
    clock = config.pluginmanager.get_plugin(QueryClock.NAME)
    if clock is not None:
        clock.remove()
        config.pluginmanager.unregister(clock)


def pytest_report_header(config: pytest.Config) -> str | None:
    budget = config.getoption("--th-query-timeout")
    return f"tracehound: query-time budget {budget:g} s per query" if budget else None


# -- SQLAlchemy: the query-time budget ------------------------------------------------------------


def _sqlalchemy() -> tuple[Any, Any]:
    try:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
    except ImportError:
        raise pytest.UsageError("tracehound's query budgets need SQLAlchemy: pip install sqlalchemy") from None
    return event, Engine


def _one_line(statement: str, limit: int = 160) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class QueryClock:
    """Times every cursor execution of every SQLAlchemy engine in the process; fails the test
    phase (setup, call or teardown) in which one ran past the budget.

    The events are on the ``Engine`` class, so engines created anywhere (an app's module, a
    fixture, an ``AsyncEngine``'s sync engine) are covered, in whatever thread they run. A query
    that raises is timed too: a statement cancelled by a server-side timeout was slow all the same.
    """

    NAME = "tracehound-query-clock"
    _KEY = "tracehound_query_started"

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self._slow: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        event, Engine = _sqlalchemy()
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        event.listen(Engine, "handle_error", self._error)

    def remove(self) -> None:
        event, Engine = _sqlalchemy()
        for name, fn in (("before_cursor_execute", self._before), ("after_cursor_execute", self._after),
                         ("handle_error", self._error)):
            if event.contains(Engine, name, fn):
                event.remove(Engine, name, fn)

    def _before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault(self._KEY, []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        self._finish(conn, statement)

    def _error(self, ctx: Any) -> None:
        if ctx.connection is not None and ctx.statement is not None:
            self._finish(ctx.connection, ctx.statement)

    def _finish(self, conn: Any, statement: str) -> None:
        started = conn.info.get(self._KEY)
        if not started:
            return
        elapsed = time.perf_counter() - started.pop()
        if elapsed > self.budget_s:
            with self._lock:
                self._slow.append((elapsed, statement))

    def take(self) -> list[tuple[float, str]]:
        with self._lock:
            slow, self._slow = self._slow, []
        return slow

    def _check(self, phase: str) -> None:
        slow = self.take()
        if slow:
            lines = [f"  {s:.2f} s  {_one_line(q)}" for s, q in sorted(slow, reverse=True)[:_SHOWN_STATEMENTS]]
            what = "query" if len(slow) == 1 else "queries"
            pytest.fail(f"{len(slow)} {what} ran longer than the {self.budget_s:g} s budget "
                        f"(--th-query-timeout) during {phase}:\n" + "\n".join(lines), pytrace=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._phase("setup"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._phase("the test"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        return (yield from self._phase("teardown"))

    def _phase(self, phase: str) -> Iterator[None]:
        self.take()  # what ran between tests (collection, another plugin) is nobody's fault here
        result = yield  # a phase that failed on its own re-raises here; its failure comes first
        self._check(phase)
        return result


# -- SQLAlchemy: the query-count budget ----------------------------------------------------------


@dataclass
class QueryLog:
    """The statements one ``max_queries`` block ran, in order."""

    limit: int
    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """The statements, numbered, then those that repeated: a repeat per row is an N+1 loop."""
        lines = [f"{len(self.statements)} queries ran where at most {self.limit} may (max_queries({self.limit})):"]
        for i, s in enumerate(self.statements[:_SHOWN_STATEMENTS], 1):
            lines.append(f"  {i:>3}. {_one_line(s)}")
        if len(self.statements) > _SHOWN_STATEMENTS:
            lines.append(f"  … and {len(self.statements) - _SHOWN_STATEMENTS} more")
        repeated = [(s, n) for s, n in Counter(self.statements).most_common() if n > 1]
        if repeated:
            lines.append("Repeated statements (one per row of an earlier result is an N+1 loop: load the "
                         "relationship eagerly, e.g. selectinload, or join):")
            lines += [f"  ×{n}  {_one_line(s)}" for s, n in repeated[:10]]
        return "\n".join(lines)


class _QueryCounter:
    """The context manager ``max_queries(n)`` returns: counts statements while it is open."""

    def __init__(self, limit: int, engine: Any = None) -> None:
        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"max_queries takes a whole number of queries >= 0, not {limit!r}")
        self.log = QueryLog(limit)
        self.engine = getattr(engine, "sync_engine", engine)  # an AsyncEngine runs on a sync one
        self._lock = threading.Lock()
        self._target: Any = None

    def _count(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        with self._lock:
            self.log.statements.append(statement)

    def __enter__(self) -> QueryLog:
        event, Engine = _sqlalchemy()
        self._target = self.engine if self.engine is not None else Engine
        event.listen(self._target, "before_cursor_execute", self._count)
        return self.log

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        __tracebackhide__ = True
        event, _ = _sqlalchemy()
        event.remove(self._target, "before_cursor_execute", self._count)
        if kind is None and len(self.log) > self.log.limit:  # the block's own error comes first
            pytest.fail(self.log.report())


@pytest.fixture
def max_queries() -> Callable[..., contextlib.AbstractContextManager[QueryLog]]:
    """``with max_queries(5): client.get("/orders")``: fail when the block runs more than 5 queries.

    Counts every statement any SQLAlchemy engine in the test process sends (``engine=`` limits it
    to one), from any thread, so requests served in-process (a TestClient) are counted. The
    failure lists the statements and those that repeated. The block's :class:`QueryLog` is
    yielded for tests that want to look at the statements themselves.
    """

    def budget(limit: int, engine: Any = None) -> contextlib.AbstractContextManager[QueryLog]:
        return _QueryCounter(limit, engine)

    return budget


# -- the bounded probe ----------------------------------------------------------------------------


def require_env(name: str, what: str = "") -> str:
    """The environment variable ``name``; the test is skipped, saying which to set, when it is unset."""
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"set {name}" + (f" ({what})" if what else "") + " to run this test")
    return value


@dataclass(frozen=True)
class ProbeResult:
    """What a probe inside a test measured, as ``tracehound verify`` counts it: latency
    percentiles cover every request that got an outcome, failures included."""

    url: str
    requests: int
    failures: int
    percentiles_ms: dict[str, float | None]
    status_counts: dict[str, int]
    #: The most frequent failure messages, ``{"message", "count"}`` each.
    errors: list[dict[str, Any]]
    #: The run folder (``tracehound show RUN`` prints it again).
    run: Path
    summary: Summary = field(repr=False)

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def value(self, key: str) -> float | None:
        """``error_rate`` as a fraction, or ``p50``/``p90``/``p95``/``p99`` in ms."""
        return self.error_rate if key == "error_rate" else self.percentiles_ms.get(key)

    def describe(self) -> str:
        """The figures, on a few lines, as a failure message shows them."""
        pct = ", ".join(f"{k} {_ms(v)}" for k, v in self.percentiles_ms.items())
        statuses = ", ".join(f"{k}×{n}" for k, n in sorted(self.status_counts.items(), key=lambda kv: -kv[1]))
        lines = [f"{self.failures} of {self.requests} requests failed ({self.error_rate:.2%}) against {self.url}",
                 f"latency (all requests): {pct}", f"statuses: {statuses or 'none'}"]
        if self.errors:
            lines.append(f"most frequent failure: {self.errors[0]['message'][:200]} (×{self.errors[0]['count']})")
        lines.append(f"run folder: {self.run}")
        return "\n".join(lines)

    def assert_slo(self, slo: str | Slo) -> None:
        """Fail the test, with every criterion and the measured figures, unless ``slo`` holds.

        ``slo`` is ``tracehound verify``'s syntax: ``error_rate<1%,p95<500ms,p99<1s``.
        """
        __tracebackhide__ = True
        from tracehound.errors import TracehoundError
        from tracehound.verify import Slo

        try:
            the_slo = Slo.parse(slo) if isinstance(slo, str) else slo
        except TracehoundError as e:
            pytest.fail(e.line(), pytrace=False)
        checks = []
        broken = False
        for c in the_slo.criteria:
            v = self.value(c.key)
            ok = v is not None and c.holds(v)
            broken |= not ok
            shown = "-" if v is None else (f"{v:.2%}" if c.key == "error_rate" else _ms(v))
            checks.append(f"  {'ok  ' if ok else 'FAIL'} {c.text()}: measured {shown}")
        if self.requests == 0:
            broken = True
            checks.append("  FAIL no request got an outcome")
        if broken:
            raise AssertionError(f"SLO {the_slo.text()} does not hold:\n" + "\n".join(checks) + "\n" + self.describe())


def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def _seconds(value: float | str | None) -> float | None:
    """A number of seconds, or a duration such as ``"4s"`` or ``"500ms"``."""
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    from tracehound.probe import parse_duration

    return parse_duration(value)


class _Prober:
    """The callable ``tracehound_probe`` returns: one bounded probe per call, each in its own run folder."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.request = request
        self.tmp_path = tmp_path
        self.calls = 0

    def __repr__(self) -> str:
        return f"<tracehound_probe of {self.request.node.name}>"

    def __call__(
        self,
        path: str = "/",
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: str | bytes | None = None,
        flow: Mapping[str, Any] | str | Path | None = None,
        variables: Mapping[str, Any] | None = None,
        concurrency: int = 1,
        duration: float | str | None = None,
        requests: int | None = None,
        rate: float | None = None,
        stages: str | None = None,
        open_model: bool = False,
        max_connections: int | None = None,
        timeout: float | str = 10.0,
        keepalive: bool = True,
        base_url: str | None = None,
        env_var: str = DEFAULT_ENV_VAR,
        allow_remote: bool = False,
    ) -> ProbeResult:
        """Send the load and return what it measured.

        ``path`` (joined to the base URL, or an absolute URL) with ``method``, ``headers`` and a
        ``json`` or ``data`` body; or ``flow``, a flow as a mapping or a YAML file (relative to
        the test file), with ``variables`` added to its ``vars``. The load: ``concurrency``
        virtual users, or an arrival ``rate`` (requests/s, open model, ``max_connections``
        open at most), or ``stages`` (``"10s:5,30s:=50"``); bounded by ``duration`` and/or
        ``requests``.
        """
        __tracebackhide__ = True
        from tracehound.errors import TracehoundError

        try:
            config = self._config(path, method, headers, json, data, flow, variables, concurrency, duration,
                                  requests, rate, stages, open_model, max_connections, timeout, keepalive,
                                  base_url, env_var, allow_remote)
            run = _run_probe(config)
        except TracehoundError as e:  # a bad argument, or a service that is not there
            pytest.fail(f"tracehound_probe: {e.line()}", pytrace=False)
        if run.meta.interrupted:
            raise KeyboardInterrupt("the probe was interrupted")
        return _result(run, config)

    def _config(self, path: str, method: str, headers: Mapping[str, str] | None, json: Any, data: str | bytes | None,
                flow: Mapping[str, Any] | str | Path | None, variables: Mapping[str, Any] | None, concurrency: int,
                duration: float | str | None, requests: int | None, rate: float | None, stages: str | None,
                open_model: bool, max_connections: int | None, timeout: float | str, keepalive: bool,
                base_url: str | None, env_var: str, allow_remote: bool) -> ProbeConfig:
        import json as jsonlib

        from tracehound.errors import BadShape, BadTarget
        from tracehound.probe import LoadShape, ProbeConfig, Target, parse_stages

        opt = self.request.config.getoption
        cap_s, cap_n = float(opt("--th-max-duration")), int(opt("--th-max-requests"))
        seconds = _seconds(duration)
        if seconds is None and requests is None and stages is None:
            raise BadShape("give the probe a bound: duration=, requests= or stages=")
        staged = parse_stages(stages) if stages else None
        planned = sum(s.duration for s in staged) if staged else seconds
        if planned is not None and planned > cap_s:
            raise BadShape(f"a {planned:g} s probe is over the {cap_s:g} s cap of a test",
                           hint="shorten it, or raise the cap with --th-max-duration")
        if requests is not None and requests > cap_n:
            raise BadShape(f"{requests:,} requests are over the {cap_n:,} cap of a test",
                           hint="send fewer, or raise the cap with --th-max-requests")
        is_open = open_model or rate is not None
        users = max_connections if is_open and max_connections else concurrency
        shape = LoadShape(concurrency=users, requests=requests, duration=seconds, rate=rate, stages=staged,
                          open_model=is_open, max_requests=cap_n, max_duration=cap_s,
                          max_connections=max_connections if is_open else None)

        absolute = flow is None and path.startswith(("http://", "https://"))
        base: str | None
        if absolute:
            base = path
        else:
            base = base_url or os.environ.get(env_var)
            if not base:
                pytest.skip(f"{env_var} is not set: set it to the base URL of the service to test, "
                            f"e.g. {env_var}=http://127.0.0.1:8000")
        timeout_s = _seconds(timeout) or 10.0
        out = self.tmp_path / f"tracehound-probe-{self._next()}"
        if flow is not None:
            the_flow = self._flow(flow, variables)
            config = ProbeConfig(shape, flow=the_flow, base_url=base.rstrip("/"), timeout=timeout_s,
                                 keepalive=keepalive, out=out)
        else:
            hdrs = [(str(k), str(v)) for k, v in (headers or {}).items()]
            body: bytes | None = None
            if json is not None and data is not None:
                raise BadTarget("give json= or data=, not both")
            if json is not None:
                body = jsonlib.dumps(json, separators=(",", ":")).encode()
                if not any(k.lower() == "content-type" for k, _ in hdrs):
                    hdrs.append(("Content-Type", "application/json"))
            elif data is not None:
                body = data.encode() if isinstance(data, str) else data
            url = path if absolute else _join(base, path)
            config = ProbeConfig(shape, target=Target(url, method, tuple(hdrs), body), timeout=timeout_s,
                                 keepalive=keepalive, out=out)
        if not (allow_remote or opt("--th-allow-remote")):
            for host in _hosts(config):
                if not _is_local(host):
                    raise BadTarget(f"{host} is not this machine: a test probes only 127.0.0.1 and localhost "
                                    "unless it opts in", hint="pass allow_remote=True or run pytest --th-allow-remote")
        return config

    def _flow(self, flow: Mapping[str, Any] | str | Path, variables: Mapping[str, Any] | None) -> Flow:
        from tracehound.errors import BadFlow
        from tracehound.flow import Flow

        if isinstance(flow, Mapping):
            doc, source = dict(flow), f"the flow of {self.request.node.nodeid}"
        else:
            import yaml

            from tracehound import yamlfile

            p = Path(flow)
            if not p.is_absolute() and not p.exists():
                p = self.request.path.parent / p
            try:
                doc = yamlfile.load(p.read_text())
            except OSError as e:
                raise BadFlow(f"cannot read flow {str(p)!r}: {e.strerror or e}") from None
            except yamlfile.YamlRefused as e:
                raise BadFlow(f"flow {str(p)!r} is refused: {e}") from None
            except yaml.YAMLError:
                raise BadFlow(f"flow {str(p)!r} is not valid YAML") from None
            source = str(p)
        if variables:
            if not isinstance(doc, dict):
                raise BadFlow(f"{source}: a flow is a mapping with 'steps:'")
            doc["vars"] = {**(doc.get("vars") or {}), **variables}
        return Flow.from_dict(doc, source=source)

    def _next(self) -> int:
        self.calls += 1
        return self.calls


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _hosts(config: ProbeConfig) -> set[str]:
    """Every host a probe may connect to: the target's, the base URL's, and any absolute step URL's
    (a host that is a variable is unknown, so it is reported as such)."""
    from tracehound.errors import BadTarget
    from tracehound.probe.target import split_url

    ep, _ = config.endpoint()
    hosts = {ep.host}
    if config.flow is not None:
        for step in [*config.flow.setup, *config.flow.steps]:
            if step.absolute:
                literal = "".join(p if isinstance(p, str) else "{var}" for p in step.target.parts)
                try:
                    hosts.add(split_url(literal)[0].host)
                except BadTarget:
                    hosts.add(f"the host of step {step.name!r}")
    return hosts


def _is_local(host: str) -> bool:
    from tracehound.probe.target import is_loopback

    return is_loopback(host)


def _run_probe(config: ProbeConfig) -> Run:
    """Run the probe here, or in a worker thread when this thread already runs an event loop
    (an async test): the prober drives its own loop."""
    from tracehound.probe import probe

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return probe(config)
    runs: list[Run] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            runs.append(probe(config))
        except BaseException as e:  # noqa: BLE001 - handed back to the test's thread
            errors.append(e)

    t = threading.Thread(target=work, name="tracehound-probe", daemon=True)
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return runs[0]


def _result(run: Run, config: ProbeConfig) -> ProbeResult:
    from tracehound.probe.summary import summarize_run
    from tracehound.verify import Stats

    stats = Stats.of([run])
    summary = summarize_run(run)
    url = config.target.url if config.target is not None else config.base_url or ""
    errors = [{"message": e["message"], "count": e["count"]} for e in summary.errors]
    return ProbeResult(url=url, requests=stats.requests, failures=stats.failures,
                       percentiles_ms=dict(stats.percentiles_ms), status_counts=dict(summary.status_counts),
                       errors=errors, run=run.path, summary=summary)


@pytest.fixture
def tracehound_probe(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., ProbeResult]:
    """Run a bounded probe inside the test: ``tracehound_probe("/orders/42", concurrency=24, duration="4s")``.

    Returns a :class:`ProbeResult`; ``result.assert_slo("error_rate<1%,p95<500ms")`` fails the
    test with the measured figures. Run folders go under the test's ``tmp_path``.
    """
    return _Prober(request, tmp_path)


__all__ = ["DEFAULT_ENV_VAR", "ProbeResult", "QueryClock", "QueryLog", "max_queries", "require_env",
           "tracehound_probe"]
