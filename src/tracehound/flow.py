"""Flows: multi-step requests such as login-then-call and create-then-read.

A flow file is YAML::

    base_url: http://127.0.0.1:8000      # optional; the CLI's URL wins
    vars: {user: alice}                  # optional constants
    setup:                               # once per virtual user
      - name: login
        method: POST
        path: /login
        json: {username: "{user}", password: secret}
        capture: {token: "$.access_token"}
    steps:                               # every iteration
      - name: create
        method: POST
        path: /items
        headers: {Authorization: "Bearer {token}"}
        json: {title: "item {vu}-{iter}"}
        capture: {id: "$.id"}
      - name: read
        path: /items/{id}
        headers: {Authorization: "Bearer {token}"}
        expect: [status=200, "$.title"]  # optional: what a right answer looks like (tracehound.expect)

``{name}`` substitutes a variable into paths, URLs, header values and JSON/data bodies; ``{{`` is a
literal brace. Built-ins: ``{vu}``, ``{iter}``, ``{seq}``, ``{uuid}``. Parameters from data fill
variables too: ``data: customers.csv`` makes each column a variable (``{customer_id}``), drawn one row
per iteration (per virtual user when a setup step uses it); an inline range is ``{int:1..5000}``;
:mod:`tracehound.params.declare` has the whole syntax (lists, ranges, draw modes). Data values are
percent-encoded where a request target cannot hold them as they are. A capture is ``$.a.b[0]``
on the JSON body, or ``header:Location`` on a response header. A variable no earlier step can
define is rejected when the flow is loaded; a capture that fails at run time is recorded as that
request's error, and steps that need the missing variable are recorded as errors too.
"""

from __future__ import annotations

import json as jsonlib
import re
import uuid
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from tracehound import yamlfile
from tracehound.errors import BadExpectation, BadFlow
from tracehound.expect import Expectation
from tracehound.jsonpath import lookup, parse_path
from tracehound.params.declare import bind, check_header_values, describe_columns, flow_pools, inline_pools
from tracehound.params.pool import Pool, path_text
from tracehound.params.pool import text as as_text
from tracehound.redact import remember_header

BUILTINS = frozenset({"vu", "iter", "seq", "uuid"})
#: The methods a step may use.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_VAR = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*|int:[^{}]*)\}")
#: The most iterations a flow may ask of each virtual user (a bound on a typo, not on a run).
MAX_ITERATIONS = 1_000_000
_STEP_KEYS = {"name", "method", "path", "url", "headers", "json", "data", "capture", "pause", "expect"}


class MissingVariable(Exception):
    """A variable needed by a step has no value (its capture failed)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class CaptureFailed(Exception):
    """A capture expression found nothing in the response."""


@dataclass(frozen=True)
class Capture:
    """``$.json.path`` into the response body, or ``header:Name``."""

    var: str
    expr: str
    header: str | None = None
    path: tuple[str | int, ...] = ()

    @classmethod
    def parse(cls, var: str, expr: str, where: str) -> Capture:
        if not isinstance(expr, str):
            raise BadFlow(f"{where}: capture {var!r} must be a string like '$.id'")
        if expr.lower().startswith("header:"):
            name = expr.split(":", 1)[1].strip()
            if not name:
                raise BadFlow(f"{where}: capture {var!r} names no header")
            return cls(var, expr, header=name.lower())
        if not expr.startswith("$"):
            raise BadFlow(f"{where}: capture {var!r}={expr!r} must start with '$' or 'header:'")
        try:
            path = parse_path(expr)
        except ValueError as e:
            raise BadFlow(f"{where}: capture {var!r}: {e}") from None
        return cls(var, expr, path=path)

    def extract(self, body: bytes, headers: Mapping[str, str]) -> Any:
        """The captured value; :class:`CaptureFailed` with the reason when absent."""
        if self.header is not None:
            if self.header not in headers:
                raise CaptureFailed(f"capture {self.var}: no {self.header!r} header in the response")
            return headers[self.header]
        try:
            value: Any = jsonlib.loads(body)
        except (ValueError, RecursionError):
            raise CaptureFailed(f"capture {self.var}: response body is not JSON") from None
        try:
            value = lookup(value, self.path)
        except KeyError:
            raise CaptureFailed(f"capture {self.var}: {self.expr} not found in the response") from None
        if value is None:
            raise CaptureFailed(f"capture {self.var}: {self.expr} is null in the response")
        return value


class Template:
    """A string with ``{var}`` placeholders, parsed once."""

    __slots__ = ("parts", "names", "whole")

    def __init__(self, text: str) -> None:
        self.parts: list[str | tuple[str]] = []
        pos = 0
        for m in _VAR.finditer(text):
            if m.start() > pos:
                self.parts.append(text[pos : m.start()])
            tok = m.group(0)
            self.parts.append("{" if tok == "{{" else "}" if tok == "}}" else (m.group(1),))
            pos = m.end()
        if pos < len(text):
            self.parts.append(text[pos:])
        self.names = {p[0] for p in self.parts if isinstance(p, tuple)}
        self.whole = self.parts[0][0] if len(self.parts) == 1 and isinstance(self.parts[0], tuple) else None

    @property
    def text(self) -> str:
        """The template as written (``{{`` for a literal brace): ``Template(t.text)`` is ``t`` again."""
        return "".join("{" + p[0] + "}" if isinstance(p, tuple) else p.replace("{", "{{").replace("}", "}}")
                       for p in self.parts)

    def render(self, env: Mapping[str, Any], encode: Set[str] = frozenset()) -> str:
        """The text with every variable's value; those named in ``encode`` percent-encoded for a request target."""
        out = []
        for p in self.parts:
            if isinstance(p, tuple):
                v = _lookup(env, p[0])
                out.append(path_text(v) if p[0] in encode else v if isinstance(v, str) else as_text(v))
            else:
                out.append(p)
        return "".join(out)

    def render_value(self, env: Mapping[str, Any]) -> Any:
        """Like :meth:`render`, but ``"{id}"`` alone keeps the captured value's JSON type."""
        if self.whole is not None:
            return _lookup(env, self.whole)
        return self.render(env)


def _lookup(env: Mapping[str, Any], name: str) -> Any:
    if name == "uuid":
        return str(uuid.uuid4())
    if name not in env:
        raise MissingVariable(name)
    return env[name]


def _json_value(value: Any, where: str) -> Any:
    """A YAML value as JSON would carry it: dates as their text; :class:`BadFlow` for what JSON cannot hold
    (binary, a set, a structure that contains itself through an alias)."""
    try:
        return jsonlib.loads(jsonlib.dumps(value, default=_date_text))
    except (TypeError, ValueError, RecursionError) as e:
        raise BadFlow(f"{where} is not a JSON value ({str(e).split(';')[0] or type(e).__name__})",
                      hint="quote values that YAML would read as binary or a set") from None


def _date_text(value: Any) -> str:
    if isinstance(value, date | datetime):
        return str(value)
    raise TypeError(f"a {type(value).__name__} is not JSON")


def _json_template(value: Any) -> Any:
    if isinstance(value, str):
        return Template(value)
    if isinstance(value, list):
        return [_json_template(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_template(v) for k, v in value.items()}
    return value


def _json_text(value: Any) -> Any:
    if isinstance(value, Template):
        return value.text
    if isinstance(value, list):
        return [_json_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_text(v) for k, v in value.items()}
    return value



def _pause(raw: Any, where: str) -> tuple[float, float]:
    """``(pause, spread)`` of a step's ``pause:``: seconds, or ``[least, most]``."""
    def seconds(v: Any) -> float | None:
        ok = not isinstance(v, bool) and isinstance(v, (int, float)) and 0 <= v <= 300
        return float(v) if ok else None

    if isinstance(raw, list):
        ends = [seconds(v) for v in raw]
        lo, hi = (ends + [None, None])[:2] if len(ends) == 2 else (None, None)
        if lo is None or hi is None or lo > hi:
            raise BadFlow(f"{where}: a 'pause' range must be [least, most] seconds, 0 to 300, least first")
        return lo, hi - lo
    s = seconds(raw)
    if s is None:
        raise BadFlow(f"{where}: 'pause' must be a number of seconds between 0 and 300, or a range [least, most]")
    return s, 0.0


def _json_names(value: Any) -> set[str]:
    if isinstance(value, Template):
        return set(value.names)
    if isinstance(value, list):
        return set().union(*(_json_names(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(_json_names(v) for v in value.values())) if value else set()
    return set()


def _json_render(value: Any, env: Mapping[str, Any]) -> Any:
    if isinstance(value, Template):
        return value.render_value(env)
    if isinstance(value, list):
        return [_json_render(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _json_render(v, env) for k, v in value.items()}
    return value


@dataclass
class Step:
    """One request of a flow."""

    name: str
    method: str
    target: Template  # a path (joined to the base URL) or an absolute URL
    absolute: bool
    headers: list[tuple[str, Template]] = field(default_factory=list)
    json: Any = None
    data: Template | None = None
    captures: list[Capture] = field(default_factory=list)
    #: Seconds to wait before sending this step (think time, as k6's sleep between requests).
    pause: float = 0.0
    #: The pause's range above ``pause`` (``pause: [2, 3.2]`` in a flow file, as Locust's ``between``):
    #: each user and iteration waits a different point of it (:meth:`pause_for`).
    pause_spread: float = 0.0
    #: What a right answer looks like (``expect:``); an answer that misses it fails as ``wrong_body``.
    expect: Expectation | None = None

    @property
    def needs(self) -> set[str]:
        names = set(self.target.names)
        for _, t in self.headers:
            names |= t.names
        names |= _json_names(self.json)
        if self.data is not None:
            names |= self.data.names
        return names

    def to_dict(self) -> dict[str, Any]:
        """The step as a flow file writes it (what :meth:`Flow.from_dict` reads back)."""
        d: dict[str, Any] = {"name": self.name, "method": self.method,
                             ("url" if self.absolute else "path"): self.target.text}
        if self.headers:
            d["headers"] = {k: v.text for k, v in self.headers}
        if self.json is not None:
            d["json"] = _json_text(self.json)
        if self.data is not None:
            d["data"] = self.data.text
        if self.captures:
            d["capture"] = {c.var: c.expr for c in self.captures}
        if self.pause_spread:
            d["pause"] = [self.pause, self.pause + self.pause_spread]
        elif self.pause:
            d["pause"] = self.pause
        if self.expect:
            d["expect"] = list(self.expect.texts)
        return d

    def pause_for(self, vu: int, iteration: int, index: int) -> float:
        """The pause before this step, the ``index``-th of ``vu``'s ``iteration``-th iteration.

        A range is sampled on a Weyl sequence (steps by irrational fractions), not at random: any
        few users and iterations land on points spread evenly over it, and a run repeats exactly.
        """
        if not self.pause_spread:
            return self.pause
        frac = (vu * 0.6180339887498949 + iteration * 0.7548776662466927 + index * 0.5698402909980532) % 1.0
        return self.pause + self.pause_spread * frac

    def render(self, env: Mapping[str, Any], encode: Set[str] = frozenset()
               ) -> tuple[str, list[tuple[str, str]], bytes | None]:
        """(path or URL, headers, body) for this iteration; :class:`MissingVariable` if one lacks a value.

        Variables named in ``encode`` (data values) are percent-encoded in the path or URL.
        """
        target = self.target.render(env, encode)
        headers = [(k, v.render(env)) for k, v in self.headers]
        body: bytes | None = None
        if self.json is not None:
            body = jsonlib.dumps(_json_render(self.json, env), separators=(",", ":")).encode()
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers.append(("Content-Type", "application/json"))
        elif self.data is not None:
            body = self.data.render(env).encode()
        return target, headers, body


@dataclass
class Flow:
    """Setup steps run once per virtual user; steps run every iteration."""

    setup: list[Step]
    steps: list[Step]
    base_url: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    source: str = "<flow>"
    #: Pools of parameter values that fill variables (``data:``, inline ranges, the command line's).
    data: tuple[Pool, ...] = ()
    #: Each virtual user runs the steps this many times, then stops (k6's per-VU iterations); None: until a bound.
    iterations: int | None = None

    @property
    def last_step(self) -> Step:
        return self.steps[-1]

    def to_dict(self) -> dict[str, Any]:
        """The flow as a document :meth:`from_dict` reads back (to hand it to another process)."""
        doc: dict[str, Any] = {"base_url": self.base_url, "vars": dict(self.vars),
                               "setup": [s.to_dict() for s in self.setup], "steps": [s.to_dict() for s in self.steps]}
        if self.iterations is not None:
            doc["iterations"] = self.iterations
        declared = {p.name: p.to_doc() for p in self.data if not p.columns[0].startswith("int:")}
        if declared:
            doc["data"] = declared
        return doc

    @property
    def data_vars(self) -> frozenset[str]:
        """The variables data fills (their values are percent-encoded in a request target)."""
        return frozenset(c for p in self.data for c in p.used_columns)

    def with_pause(self, seconds: float) -> Flow:
        """A copy whose steps after the first each wait ``seconds`` before being sent."""
        steps = [self.steps[0], *(replace(s, pause=seconds) for s in self.steps[1:])]
        return replace(self, steps=steps)

    @classmethod
    def load(cls, path: str | Path) -> Flow:
        """Read and validate a flow file; :class:`BadFlow` with one clear reason otherwise."""
        p = Path(path)
        try:
            with p.open("rb") as f:
                text = f.read(yamlfile.MAX_BYTES + 1).decode("utf-8")
        except OSError as e:
            raise BadFlow(f"cannot read flow {str(p)!r}: {e.strerror or e}") from None
        except UnicodeDecodeError:
            raise BadFlow(f"flow {str(p)!r} is not UTF-8 text") from None
        try:
            doc = yamlfile.load(text)
        except yamlfile.YamlRefused as e:
            raise BadFlow(f"flow {str(p)!r} is refused: {e}") from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise BadFlow(f"flow {str(p)!r} is not valid YAML{where}") from None
        except (ValueError, RecursionError) as e:  # a 5,000-digit number; lists nested thousands deep
            raise BadFlow(f"flow {str(p)!r} cannot be read: {str(e).split(';')[0] or type(e).__name__}") from None
        return cls.from_dict(doc, source=str(p), base=p.parent)

    @classmethod
    def from_dict(cls, doc: Any, source: str = "<flow>", base: Path | None = None, pools: Sequence[Pool] = ()
                  ) -> Flow:
        """A flow from its document; data files are relative to ``base``, and ``pools`` are added to its data."""
        if not isinstance(doc, dict):
            raise BadFlow(f"{source}: a flow is a mapping with 'steps:' (and optional 'setup:')")
        unknown = set(doc) - {"base_url", "vars", "setup", "steps", "data", "iterations"}
        if unknown:
            raise BadFlow(f"{source}: unknown key {sorted(unknown, key=str)[0]!r} (expected base_url, vars, setup, "
                          "steps, data, iterations)")
        iterations = doc.get("iterations")
        if iterations is not None and (type(iterations) is not int or not 1 <= iterations <= MAX_ITERATIONS):
            raise BadFlow(f"{source}: 'iterations' must be a whole number from 1 to {MAX_ITERATIONS:,}, "
                          f"not {iterations!r}")
        variables = doc.get("vars") or {}
        if not isinstance(variables, dict):
            raise BadFlow(f"{source}: 'vars' must be a mapping")
        variables = {k: _json_value(v, f"{source}: vars: {k!r}") for k, v in variables.items()}
        setup = [_parse_step(s, f"{source}: setup[{i}]") for i, s in enumerate(_steps(doc, "setup", source))]
        steps = [_parse_step(s, f"{source}: steps[{i}]") for i, s in enumerate(_steps(doc, "steps", source))]
        if not steps:
            raise BadFlow(f"{source}: 'steps' must list at least one step")
        names = [s.name for s in setup + steps]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise BadFlow(f"{source}: step name {sorted(dup)[0]!r} is used twice")
        needs = set().union(*(s.needs for s in setup + steps))
        data = [*pools, *flow_pools(doc.get("data"), source, base), *inline_pools(needs, source)]
        known = set(BUILTINS) | set(map(str, variables)) | {c for p in data for c in p.columns}
        hint = describe_columns(data)
        for s in setup:
            _check_vars(s, known, source, hint)
            known |= {c.var for c in s.captures}
        setup_known = set(known)
        # A step may use a variable captured by a later step of the previous iteration; only a
        # variable nothing captures at all is an error.
        all_known = setup_known | {c.var for s in steps for c in s.captures}
        for s in steps:
            _check_vars(s, all_known, source, hint)
        taken = {**{b: "a built-in" for b in BUILTINS}, **{str(v): "a flow variable" for v in variables},
                 **{c.var: f"captured by step {s.name!r}" for s in setup + steps for c in s.captures}}
        data = bind(data, needs, taken, source)
        check_header_values(data, {n for s in setup + steps for _, t in s.headers for n in t.names}, source)
        base_url = doc.get("base_url")
        if base_url is not None and not isinstance(base_url, str):
            raise BadFlow(f"{source}: 'base_url' must be a string")
        return cls(setup, steps, base_url, {str(k): v for k, v in variables.items()}, source, tuple(data), iterations)


def _steps(doc: dict[Any, Any], key: str, source: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise BadFlow(f"{source}: '{key}' must be a list of steps")
    return value


def _check_vars(step: Step, known: set[str], source: str, data: str = "") -> None:
    missing = sorted(step.needs - known)
    if missing:
        hint = "define it under 'vars:' or capture it in an earlier step"
        raise BadFlow(
            f"{source}: step {step.name!r} uses unknown variable {{{missing[0]}}}",
            hint=f"{hint}, or name a column of the data ({data})" if data else hint,
        )


def _parse_step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise BadFlow(f"{where}: a step is a mapping with name, method, path or url")
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        raise BadFlow(f"{where}: unknown key {sorted(unknown, key=str)[0]!r} "
                      f"(expected one of {', '.join(sorted(_STEP_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadFlow(f"{where}: every step needs a 'name'")
    where = f"{where} ({name})"
    method = raw.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise BadFlow(f"{where}: invalid method {method!r}")
    if ("path" in raw) == ("url" in raw):
        raise BadFlow(f"{where}: give exactly one of 'path' or 'url'")
    target = raw.get("path", raw.get("url"))
    if not isinstance(target, str) or not target:
        raise BadFlow(f"{where}: 'path'/'url' must be a non-empty string")
    absolute = "url" in raw
    if absolute and not re.match(r"^https?://", target):
        raise BadFlow(f"{where}: 'url' must start with http:// or https://")
    if not absolute and not target.startswith("/"):
        raise BadFlow(f"{where}: 'path' must start with '/'")
    headers_raw = raw.get("headers") or {}
    if not isinstance(headers_raw, dict):
        raise BadFlow(f"{where}: 'headers' must be a mapping")
    headers = []
    for k, v in headers_raw.items():
        if not isinstance(k, str) or not re.match(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", k):
            raise BadFlow(f"{where}: invalid header name {k!r}")
        headers.append((k, Template(str(v))))
        remember_header(k, str(v))  # a literal credential of the flow; one from a variable is not known yet
    if "json" in raw and "data" in raw:
        raise BadFlow(f"{where}: give 'json' or 'data', not both")
    data = raw.get("data")
    if data is not None and not isinstance(data, str):
        raise BadFlow(f"{where}: 'data' must be a string")
    cap_raw = raw.get("capture") or {}
    if not isinstance(cap_raw, dict):
        raise BadFlow(f"{where}: 'capture' must map variable names to '$.json.path'")
    captures = []
    for var, expr in cap_raw.items():
        if not isinstance(var, str) or not re.match(r"^[A-Za-z_]\w*$", var) or var in BUILTINS:
            raise BadFlow(f"{where}: invalid capture variable name {var!r}")
        captures.append(Capture.parse(var, expr, where))
    pause, spread = _pause(raw.get("pause", 0), where)
    expect_raw = raw.get("expect")
    if isinstance(expect_raw, str):
        expect_raw = [expect_raw]
    if expect_raw is not None and not isinstance(expect_raw, list):
        raise BadFlow(f"{where}: 'expect' must be an expectation or a list of them ('status=200', 'keys=a,b' …)")
    try:
        expect = Expectation.parse(expect_raw, f"{where}: expect") if expect_raw else None
    except BadExpectation as e:
        raise BadFlow(str(e), hint=e.hint or None) from None
    return Step(
        name=name,
        pause=pause,
        pause_spread=spread,
        method=method.upper(),
        target=Template(target),
        absolute=absolute,
        headers=headers,
        json=_json_template(_json_value(raw["json"], f"{where}: 'json'")) if "json" in raw else None,
        data=Template(data) if data is not None else None,
        captures=captures,
        expect=expect,
    )
