"""Lab scenarios: one folder each, described by its ``scenario.yaml`` and validated on load.

A scenario folder ``lab/scenarios/<name>/`` holds the service's code (``app.py``, its fixed twin
``app_fixed.py``, optional ``nginx.conf``, ``schema.sql`` …) and ``scenario.yaml``::

    name: tasks_session_leak                 # the folder's name
    failure_mode: connection_leak            # ground truth: a stable id, or `none` for a control
    symptom: /tasks returns random 500s under load      # as a user reports it; never the cause
    description: |                           # optional: what the service is, why this is the truth
      …
    needs: [postgres]                        # any of postgres, redis, nginx
    app:
      module: app:app                        # module:attribute, importable from this folder
      server: uvicorn                        # uvicorn | gunicorn | python (module:function serves PORT itself)
      workers: 1
      worker_class: uvicorn                  # gunicorn only: sync (default), gthread, uvicorn (ASGI)
      args: []                               # extra server arguments
      env: {POOL_SIZE: "5"}                  # extra environment
      instances: 1                           # copies of the app (nginx balances over them)
      instance_env: {2: {CACHE_DIR: /nope}}  # extra environment of one copy (0-based)
      ready: /health                         # readiness path (any HTTP answer counts)
    services:                                # optional: other processes the app calls
      rates: {module: rates:app, env_var: UPSTREAM_URL}
    postgres: {schema: [schema.sql], settings: {max_connections: 40}}
    redis: {args: [--maxclients, "50"]}
    nginx: {config: nginx.conf}              # the http {} body; {{listen}}, {{upstream}}, {{upstream_servers}}
    target: {method: GET, path: /tasks, headers: {}, json: null}   # or:
    flow: {setup: […], steps: […]}           # tracehound's flow format, without base_url
    expect: [status=200, "$.items"]          # optional, with target: what a right answer looks like,
                                             # for `lab check` only (an investigation is not told)
    page: /profile                           # optional: the HTML page a person opens (for --browser)
    load: {concurrency: 24, duration: 8}     # or {rate: 50, duration: 10}, or {stages: "2s:4,6s:=24"}
    timeout: 10                              # client timeout per request, seconds
    metrics: /metrics                        # optional: the app's Prometheus endpoint (tracehound.instrument)
    expected_failure_rate: [0.05, 0.6]       # the faulty version's range; [0, 0] for a control
    fixed:                                   # the twin: only the fix, merged onto the sections above
      module: app_fixed:app                  # app keys may stand at the top…
      nginx: {config: nginx_fixed.conf}      # …sections are merged key by key
      change: one line saying what the fix is

The service reads its wiring from the environment: ``DATABASE_URL`` (PostgreSQL, or SQLite in
``DATA_DIR`` when postgres is not needed), ``REDIS_URL``, ``PORT``, ``LOG_FILE`` (its log,
which also receives its stdout and stderr), ``DATA_DIR``, ``APP_INSTANCE`` and each service's
``env_var``.
"""

from __future__ import annotations

import copy
import dataclasses
import json as jsonlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tracehound import yamlfile
from tracehound.errors import BadExpectation, BadFlow, BadScenario, BadShape
from tracehound.expect import Expectation, expectation
from tracehound.failure_modes import FAILURE_MODES, NONE
from tracehound.flow import Flow
from tracehound.lab.deployment import AppSpec, Deployment, NginxSpec, PostgresSpec, RedisSpec, module_file
from tracehound.lab.load import Load
from tracehound.probe import LoadShape, ProbeConfig, Target
from tracehound.probe.shapes import Stage, parse_duration, parse_stages

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
SCENARIO_FILE = "scenario.yaml"
NEEDS = ("postgres", "redis", "nginx")
SERVERS = ("uvicorn", "gunicorn", "python")
MAX_LOAD_SECONDS = 20.0

_TOP_KEYS = {
    "name", "failure_mode", "symptom", "description", "needs", "app", "services", "postgres", "redis",
    "nginx", "target", "flow", "load", "timeout", "keepalive", "expected_failure_rate", "fixed", "metrics",
    "page", "expect",
}
_APP_KEYS = {"module", "server", "workers", "worker_class", "args", "env", "instances", "instance_env", "ready"}
_SERVICE_KEYS = (_APP_KEYS - {"instances", "instance_env"}) | {"env_var"}
_SECTIONS = {"app", "services", "postgres", "redis", "nginx"}
_TARGET_KEYS = {"method", "path", "headers", "json", "data"}
_LOAD_KEYS = {"concurrency", "duration", "requests", "rate", "stages", "open", "max_connections"}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class TargetSpec:
    """The one request a scenario sends (``target:``), as a path: :meth:`at` puts it where the service runs."""

    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    #: A JSON body (sent compact, with ``Content-Type: application/json`` unless a header says otherwise).
    json: Any = None
    #: A text body, when there is no JSON one.
    data: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The target as ``scenario.yaml`` writes it."""
        d: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.headers:
            d["headers"] = dict(self.headers)
        if self.json is not None:
            d["json"] = self.json
        if self.data is not None:
            d["data"] = self.data
        return d

    def body(self) -> bytes | None:
        """The body's bytes, None without one."""
        if self.json is not None:
            return jsonlib.dumps(self.json, separators=(",", ":")).encode()
        if self.data is not None:
            return self.data.encode()
        return None

    def at(self, base_url: str) -> Target:
        """The request against a service running at ``base_url``."""
        headers = list(self.headers)
        if self.json is not None and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return Target(base_url.rstrip("/") + self.path, self.method, tuple(headers), self.body())


@dataclass(frozen=True)
class Scenario:
    """A service with one known cause of intermittent failure (or none), and its fixed twin."""

    name: str
    failure_mode: str
    symptom: str
    description: str
    needs: tuple[str, ...]
    load: Load
    expected_failure_rate: tuple[float, float]
    faulty: Deployment
    fixed: Deployment | None
    folder: Path
    target: TargetSpec | None = None
    flow: Flow | None = None
    timeout: float = 10.0
    keepalive: bool = True
    fix: str = ""
    #: The app's Prometheus endpoint, a path on each app instance (not the gateway), when it has one.
    metrics: str | None = None
    #: The HTML page a person opens, whose code calls the target (``--browser``); None without a front end.
    page: str | None = None
    #: What a right answer to the target looks like, for ``lab check`` (a wrong 200 is the failure).
    expect: Expectation | None = None

    @property
    def shape(self) -> LoadShape:
        """A new shape of the declared load."""
        return self.load.shape()

    @property
    def slug(self) -> str:
        """The name as one path segment (a family's variant is named ``family/variant``)."""
        return self.name.replace("/", "--")

    @property
    def healthy(self) -> bool:
        """A control: nothing in it should ever fail."""
        return self.failure_mode == NONE

    def deployment(self, fixed: bool = False) -> Deployment:
        if not fixed:
            return self.faulty
        if self.fixed is None:
            raise BadScenario(f"scenario {self.name!r} is a healthy control and has no fixed twin")
        return self.fixed

    def code_files(self, fixed: bool = False) -> list[Path]:
        """The files of one version's code base: the folder without ``scenario.yaml`` and without
        the files only the other version uses (so the faulty code never shows its fix)."""
        dep = self.deployment(fixed)
        other = self.deployment(not fixed) if self.fixed is not None else dep
        hidden = other.files() - dep.files()
        out = []
        for p in sorted(self.folder.rglob("*")):
            rel = p.relative_to(self.folder)
            name = rel.as_posix()
            if p.is_file() and name != SCENARIO_FILE and name not in hidden and "__pycache__" not in rel.parts:
                out.append(p)
        return out

    def probe_config(self, base_url: str, out: Path | None = None, label: str | None = None) -> ProbeConfig:
        """The probe that reproduces this scenario against a running instance at ``base_url``."""
        shape = self.load.shape()
        base_url = base_url.rstrip("/")
        if self.flow is not None:
            # A copy: a config's flow is its own, as if read afresh.
            return ProbeConfig(shape, flow=copy.deepcopy(self.flow), base_url=base_url, timeout=self.timeout,
                               keepalive=self.keepalive, out=out, label=label)
        assert self.target is not None  # the parser gives exactly one of target and flow
        return ProbeConfig(shape, target=self.target.at(base_url), timeout=self.timeout, keepalive=self.keepalive,
                           out=out, label=label, expect=self.expect)


# -- loading ----------------------------------------------------------------------------------


def scenarios(root: Path = SCENARIOS_DIR) -> list[Scenario]:
    """Every scenario under ``root``, by name; :class:`BadScenario` for the first invalid one."""
    if not root.is_dir():
        return []
    return [
        load_scenario(d)
        for d in sorted(root.iterdir())
        if d.is_dir() and not d.name.startswith(("_", ".")) and (d / SCENARIO_FILE).is_file()
    ]


def get_scenario(name: str, root: Path = SCENARIOS_DIR) -> Scenario:
    """The scenario called ``name``; :class:`BadScenario` naming the known ones otherwise."""
    folder = root / name
    if not _NAME.match(name) or not (folder / SCENARIO_FILE).is_file():
        known = ", ".join(s.name for s in scenarios(root)) or "none"
        raise BadScenario(f"no lab scenario called {name!r}", hint=f"known: {known}")
    return load_scenario(folder)


def load_scenario(folder: Path) -> Scenario:
    """Read and validate ``folder/scenario.yaml``; :class:`BadScenario` with one clear reason otherwise."""
    folder = Path(folder).resolve()
    path = folder / SCENARIO_FILE
    return _Parser(path, folder).scenario(read_yaml(path))


def read_yaml(path: Path) -> Any:
    """A lab file's YAML document; :class:`BadScenario` with one clear reason when it cannot be read."""
    try:
        return yamlfile.load(path.read_text())
    except OSError as e:
        raise BadScenario(f"cannot read {path}: {e.strerror or e}") from None
    except yamlfile.YamlRefused as e:
        raise BadScenario(f"{path} is refused: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadScenario(f"{path} is not valid YAML{where}") from None


def scenario_from_dict(doc: dict[str, Any], folder: Path, source: Path, name: str) -> Scenario:
    """A scenario from a mapping of ``scenario.yaml``'s keys that no file holds as such (a family's
    variant), validated the same way; its code is ``folder``, its errors name ``source``."""
    return _Parser(source, Path(folder).resolve(), name).scenario(doc)


class _Parser:
    def __init__(self, path: Path, folder: Path, name: str | None = None) -> None:
        self.path = path
        self.folder = folder
        self.name = name or folder.name

    def fail(self, message: str) -> BadScenario:
        return BadScenario(f"{self.path}: {message}")

    def scenario(self, doc: Any) -> Scenario:
        if not isinstance(doc, dict):
            raise self.fail("a scenario is a mapping (name, failure_mode, symptom, app, load, …)")
        self.keys(doc, _TOP_KEYS, "")
        for key in ("name", "failure_mode", "symptom", "app", "load"):
            if key not in doc:
                raise self.fail(f"missing {key!r}")
        name = self.text(doc, "name", "")
        if name != self.name:
            raise self.fail(f"name {name!r} must be the folder's name {self.name!r}")
        if not all(_NAME.match(part) for part in name.split("/")):
            raise self.fail(f"name {name!r} must be lower_snake_case")
        mode = self.text(doc, "failure_mode", "")
        if mode != NONE and mode not in FAILURE_MODES:
            raise self.fail(f"unknown failure_mode {mode!r} (expected one of {', '.join(FAILURE_MODES)} or none)")
        symptom = self.text(doc, "symptom", "")
        if "\n" in symptom.strip():
            raise self.fail("'symptom' is one line, as a user would report it")
        description = doc.get("description") or ""
        if not isinstance(description, str):
            raise self.fail("'description' must be text")
        needs = doc.get("needs") or []
        if not isinstance(needs, list) or any(n not in NEEDS for n in needs):
            raise self.fail(f"'needs' must be a list of {', '.join(NEEDS)}")
        if ("target" in doc) == ("flow" in doc):
            raise self.fail("give exactly one of 'target' or 'flow'")
        target = self.target(doc["target"]) if "target" in doc else None
        flow = self.flow(doc["flow"], name) if "flow" in doc else None
        load = self.load(doc["load"])
        timeout = self.number(doc.get("timeout", 10.0), "timeout", positive=True)
        keepalive = doc.get("keepalive", True)
        if not isinstance(keepalive, bool):
            raise self.fail("'keepalive' must be true or false")
        rate = self.rate_range(doc.get("expected_failure_rate", [0, 0] if mode == NONE else None), mode)
        metrics = doc.get("metrics")
        if metrics is not None and (not isinstance(metrics, str) or not metrics.startswith("/")):
            raise self.fail("'metrics' must be the path of the app's metrics endpoint, e.g. /metrics")
        page = doc.get("page")
        if page is not None and (not isinstance(page, str) or not page.startswith("/")):
            raise self.fail("'page' must be a path starting with '/', e.g. /profile")
        expect_raw = doc.get("expect")
        if expect_raw is not None and (target is None or not isinstance(expect_raw, list)):
            raise self.fail("'expect' is a list of expectations of the target (a flow's steps carry their own)")
        try:
            expect = expectation(expect_raw, "expect")
        except BadExpectation as e:
            raise self.fail(str(e)) from None

        faulty = self.deployment(doc, needs, "")
        fixed_raw = doc.get("fixed")
        fixed: Deployment | None = None
        fix = ""
        if mode == NONE:
            if fixed_raw is not None:
                raise self.fail("a healthy control (failure_mode: none) has no 'fixed' twin")
        else:
            if not isinstance(fixed_raw, dict) or not fixed_raw:
                raise self.fail("a faulty scenario needs a 'fixed' twin, e.g. fixed: {module: app_fixed:app}")
            overrides = dict(fixed_raw)
            fix = overrides.pop("change", "") or ""
            if not isinstance(fix, str):
                raise self.fail("fixed.change must be text")
            self.keys(overrides, _APP_KEYS | _SECTIONS, "fixed.")
            app_over = {k: overrides.pop(k) for k in list(overrides) if k in _APP_KEYS}
            if app_over:
                overrides["app"] = merge(overrides.get("app") or {}, app_over)
            merged = merge({k: doc[k] for k in _SECTIONS if k in doc}, overrides)
            fixed = self.deployment(merged, needs, "fixed.")
            if fixed == faulty:
                raise self.fail("'fixed' changes nothing: the twin must differ by the fix")
        return Scenario(
            name=name,
            failure_mode=mode,
            symptom=symptom.strip(),
            description=description.strip(),
            needs=tuple(needs),
            load=load,
            expected_failure_rate=rate,
            faulty=faulty,
            fixed=fixed,
            folder=self.folder,
            target=target,
            flow=flow,
            timeout=timeout,
            keepalive=keepalive,
            fix=fix.strip(),
            metrics=metrics,
            page=page,
            expect=expect,
        )

    # -- pieces -----------------------------------------------------------------------------

    def keys(self, d: dict[Any, Any], allowed: set[str], prefix: str) -> None:
        unknown = sorted(set(map(str, d)) - allowed)
        if unknown:
            raise self.fail(f"unknown key {prefix}{unknown[0]!r} (expected one of {', '.join(sorted(allowed))})")

    def text(self, d: dict[Any, Any], key: str, prefix: str) -> str:
        v = d.get(key)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(f"{prefix}{key!r} must be non-empty text")
        return v.strip()

    def number(self, v: Any, what: str, positive: bool = False) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (positive and v <= 0):
            raise self.fail(f"{what!r} must be a {'positive ' if positive else ''}number")
        return float(v)

    def file(self, rel: Any, what: str) -> str:
        if not isinstance(rel, str) or not rel or rel.startswith("/") or ".." in Path(rel).parts:
            raise self.fail(f"{what} must be a file name inside the scenario folder")
        if not (self.folder / rel).is_file():
            raise self.fail(f"{what} {rel!r} does not exist in {self.folder}")
        return rel

    def rate_range(self, v: Any, mode: str) -> tuple[float, float]:
        if v is None:
            raise self.fail("missing 'expected_failure_rate' [lo, hi] for the faulty version")
        if not isinstance(v, list) or len(v) != 2:
            raise self.fail("'expected_failure_rate' must be [lo, hi], fractions between 0 and 1")
        lo, hi = (self.number(x, "expected_failure_rate") for x in v)
        if not 0 <= lo <= hi <= 1:
            raise self.fail("'expected_failure_rate' must be [lo, hi] with 0 <= lo <= hi <= 1")
        if mode == NONE and hi != 0:
            raise self.fail("a healthy control's expected_failure_rate is [0, 0]")
        if mode != NONE and lo <= 0:
            raise self.fail("a faulty scenario's expected_failure_rate must start above 0")
        return lo, hi

    def target(self, t: Any) -> TargetSpec:
        if not isinstance(t, dict):
            raise self.fail("'target' must be a mapping with path (and method, headers, json or data)")
        self.keys(t, _TARGET_KEYS, "target.")
        path = t.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise self.fail("target.path must start with '/'")
        if "json" in t and "data" in t:
            raise self.fail("give target.json or target.data, not both")
        if not isinstance(t.get("headers") or {}, dict):
            raise self.fail("target.headers must be a mapping")
        try:
            Target("http://127.0.0.1" + path, str(t.get("method") or "GET"))
        except Exception as e:  # noqa: BLE001 - BadTarget and friends, reported as the scenario's
            raise self.fail(f"target: {e}") from None
        data = t.get("data")
        has_body = t.get("json") is not None or data is not None
        return TargetSpec(
            path=path,
            method=str(t.get("method") or ("POST" if has_body else "GET")).upper(),
            headers=tuple((str(k), str(v)) for k, v in (t.get("headers") or {}).items()),
            json=t.get("json"),
            data=None if data is None else str(data),
        )

    def flow(self, f: Any, name: str) -> Flow:
        if isinstance(f, dict) and "base_url" in f:
            raise self.fail("flow.base_url is set by the lab; leave it out")
        try:
            flow = Flow.from_dict(f, source=f"{self.path}: flow")
        except BadFlow as e:
            raise BadScenario(e.line()) from None
        # Runs record where their flow came from: the scenario, not this machine's path to it.
        return dataclasses.replace(flow, source=f"{name}/{SCENARIO_FILE}")

    def load(self, load: Any) -> Load:
        if not isinstance(load, dict):
            raise self.fail("'load' must be a mapping, e.g. {concurrency: 24, duration: 8}")
        self.keys(load, _LOAD_KEYS, "load.")
        try:
            stages = load.get("stages")
            if isinstance(stages, str):
                parsed = parse_stages(stages)
            elif isinstance(stages, list):
                parsed = [
                    Stage(parse_duration(s["duration"]), float(s["target"]), bool(s.get("ramp", True)))
                    for s in stages
                ]
            elif stages is None:
                parsed = None
            else:
                raise self.fail("load.stages must be '10s:5,30s:50' or a list of {duration, target, ramp}")
            duration = parse_duration(load["duration"]) if load.get("duration") is not None else None
            rate = load.get("rate")
            conc = load.get("concurrency", 1)
            if isinstance(conc, bool) or not isinstance(conc, int):
                raise self.fail("load.concurrency must be an integer")
            declared = Load(
                concurrency=conc if "concurrency" in load else None,
                duration=duration,
                requests=load.get("requests"),
                rate=float(rate) if rate is not None else None,
                stages=tuple(parsed) if parsed is not None else None,
                open_model=bool(load.get("open", False)),
                max_connections=load.get("max_connections"),
            )
            shape = declared.shape()
            planned = shape.planned_duration
            if planned is None:
                raise self.fail("load needs a time bound: 'duration' or 'stages'")
            if planned > MAX_LOAD_SECONDS:
                raise self.fail(f"load lasts {planned:g}s; keep a scenario's check under {MAX_LOAD_SECONDS:g}s")
            shape.validate()
        except (BadShape, KeyError, TypeError, ValueError) as e:
            msg = e.line() if isinstance(e, BadShape) else f"bad value ({e})"
            raise self.fail(f"load: {msg}") from None
        return declared

    def deployment(self, doc: dict[str, Any], needs: list[str], prefix: str) -> Deployment:
        app = self.app(doc.get("app"), f"{prefix}app", instances=True)
        services_raw = doc.get("services") or {}
        if not isinstance(services_raw, dict):
            raise self.fail(f"{prefix}services must map names to apps")
        services = {}
        for sname, s in services_raw.items():
            if not isinstance(sname, str) or not _NAME.match(sname) or sname == "app":
                raise self.fail(f"{prefix}services: invalid service name {sname!r}")
            services[sname] = self.app(s, f"{prefix}services.{sname}", instances=False)
        sections: dict[str, Any] = {}
        for section in ("postgres", "redis", "nginx"):
            present = section in doc and doc[section] is not None
            if present and section not in needs:
                raise self.fail(f"{prefix}{section} is configured but 'needs' does not list {section}")
            raw = doc.get(section) or {}
            if not isinstance(raw, dict):
                raise self.fail(f"{prefix}{section} must be a mapping")
            sections[section] = raw
        pg = rd = ng = None
        if "postgres" in needs:
            raw = sections["postgres"]
            self.keys(raw, {"schema", "settings"}, f"{prefix}postgres.")
            schema = raw.get("schema") or []
            if isinstance(schema, str):
                schema = [schema]
            settings = raw.get("settings") or {}
            if not isinstance(settings, dict):
                raise self.fail(f"{prefix}postgres.settings must be a mapping")
            pg = PostgresSpec(tuple(self.file(f, f"{prefix}postgres.schema") for f in schema), dict(settings))
        if "redis" in needs:
            raw = sections["redis"]
            self.keys(raw, {"args"}, f"{prefix}redis.")
            rd = RedisSpec(tuple(str(a) for a in self.seq(raw.get("args"), f"{prefix}redis.args")))
        if "nginx" in needs:
            raw = sections["nginx"]
            self.keys(raw, {"config"}, f"{prefix}nginx.")
            if "config" not in raw:
                raise self.fail(f"{prefix}nginx.config: name the http {{}} template, e.g. nginx.conf")
            ng = NginxSpec(self.file(raw["config"], f"{prefix}nginx.config"))
        return Deployment(app, services, pg, rd, ng)

    def seq(self, v: Any, what: str) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(f"{what} must be a list")
        return v

    def env(self, v: Any, what: str) -> dict[str, str]:
        if v is None:
            return {}
        if not isinstance(v, dict) or not all(isinstance(k, str) and _ENV_NAME.match(k) for k in v):
            raise self.fail(f"{what} must map UPPER_CASE names to values")
        return {k: "" if x is None else str(x).lower() if isinstance(x, bool) else str(x) for k, x in v.items()}

    def app(self, a: Any, where: str, instances: bool) -> AppSpec:
        if not isinstance(a, dict):
            raise self.fail(f"{where} must be a mapping with at least 'module: app:app'")
        self.keys(a, _APP_KEYS if instances else _SERVICE_KEYS, f"{where}.")
        module = a.get("module")
        if not isinstance(module, str) or not _MODULE.match(module):
            raise self.fail(f"{where}.module must be 'module:attribute', e.g. app:app")
        self.file(module_file(module), f"{where}.module")
        server = a.get("server", "uvicorn")
        if server not in SERVERS:
            raise self.fail(f"{where}.server must be one of {', '.join(SERVERS)}")
        workers = a.get("workers", 1)
        n = a.get("instances", 1)
        for what, v in (("workers", workers), ("instances", n)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise self.fail(f"{where}.{what} must be an integer >= 1")
        wc = a.get("worker_class")
        if wc is not None and (server != "gunicorn" or not isinstance(wc, str)):
            raise self.fail(f"{where}.worker_class is for server: gunicorn (sync, gthread, uvicorn)")
        ienv_raw = a.get("instance_env") or {}
        if not isinstance(ienv_raw, dict) or any(
            isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n for i in ienv_raw
        ):
            raise self.fail(f"{where}.instance_env must map instance numbers 0..{n - 1} to environments")
        ready = a.get("ready", "/")
        if not isinstance(ready, str) or not ready.startswith("/"):
            raise self.fail(f"{where}.ready must be a path starting with '/'")
        env_var = a.get("env_var")
        if not instances and (not isinstance(env_var, str) or not _ENV_NAME.match(env_var)):
            raise self.fail(f"{where}.env_var must name the variable that gives the app this service's URL")
        return AppSpec(
            module=module,
            server=server,
            workers=workers,
            worker_class=wc,
            args=tuple(str(x) for x in self.seq(a.get("args"), f"{where}.args")),
            env=self.env(a.get("env"), f"{where}.env"),
            instances=n,
            instance_env={int(i): self.env(e, f"{where}.instance_env.{i}") for i, e in ienv_raw.items()},
            ready=ready,
            env_var=env_var,
        )


def merge(base: Any, over: Any) -> Any:
    """``over`` merged onto ``base``: mappings key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)
