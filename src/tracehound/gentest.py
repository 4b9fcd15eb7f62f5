"""``tracehound gen-test``: a pytest regression test that replays the load that broke the service.

An investigation ends with a fix; the regression test keeps it fixed. From the report this
module takes the experiment that failed most, writes its load shape out literally (users and
duration, or arrival rate and duration, or stages; a flow inlined as YAML, with the pauses the
experiment added), and asserts the SLO that ``tracehound verify`` would hold it to: the catalog's
verification criteria for the top cause unless ``--slo`` says otherwise. The test runs through
the pytest plugin's ``tracehound_probe`` fixture, so it stays a dozen lines a person can read,
keep in their repository and edit.

"Failed most" is the experiment whose failure rate is highest at its lower 95 % confidence
bound (Wilson), so one failure in two requests does not outrank forty in a hundred: the test
must fail every time against the bug, not once in a while.

Secrets are never written into the test: a credential header, a secret-looking JSON field or
flow variable, and a body that carries credentials are read from environment variables
(``require_env``) when the test runs, and the test is skipped, naming them, while they are unset.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from tracehound.errors import BadFlow, BadReport, BadTarget, OutputNotWritable, TracehoundError
from tracehound.probe import Target
from tracehound.probe.run import Run
from tracehound.pytest_plugin import DEFAULT_ENV_VAR
from tracehound.redact import MASK, is_secret_header, redact_text
from tracehound.verify import DEFAULT_GAPS, DEFAULT_SLO, Slo, Source, Stats, load_source

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")
_SECRET_KEY = re.compile(r"(?i)pass(word|wd)?|secret|token|api[_-]?key|apikey|auth|credential|session|cookie|"
                         r"private[_-]?key|signature|jwt")
_Z95 = 1.96


class BadGenTest(TracehoundError):
    """An output path or option of ``gen-test`` that cannot be used."""


@dataclass(frozen=True)
class _Env:
    """A value the generated test reads from the environment when it runs."""

    name: str

    def __repr__(self) -> str:
        return f'require_env("{self.name}")'


@dataclass
class Replay:
    """What the generated test sends: one request or a flow, under the load that broke the service."""

    experiment: str
    kind: str
    before: Stats
    #: The fixture's keyword arguments for the load, in the order they are written.
    load: dict[str, Any]
    #: What the load is, in words: "24 concurrent users for 4 s".
    load_words: str
    method: str = "GET"
    path: str = "/"
    headers: dict[str, Any] = field(default_factory=dict)
    json_body: Any = None
    data: Any = None
    #: A flow, written inline as YAML.
    flow: dict[str, Any] | None = None
    flow_variables: dict[str, _Env] = field(default_factory=dict)
    flow_target_step: str | None = None
    #: Environment variable → what it holds, for each secret the test reads when it runs.
    secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class GeneratedTest:
    """A test written (or about to be): its source and what went into it."""

    path: Path
    source: str
    replay: Replay
    slo: Slo
    slo_from: str
    env_var: str
    function: str

    @property
    def needs(self) -> list[str]:
        """The environment variables the test reads: the target URL, then any secrets."""
        return [self.env_var, *self.replay.secrets]


def write_test(report: str | Path, out: str | Path, *, env_var: str = DEFAULT_ENV_VAR, slo: str | None = None,
               flow: str | Path | None = None, headers: list[str] | tuple[str, ...] = (), data: str | None = None,
               json_body: str | None = None, force: bool = False) -> GeneratedTest:
    """Generate the regression test for ``report`` (an investigation folder, its report.json, or
    a run folder) and write it to ``out``; see :func:`generate` for the options."""
    out = Path(out)
    if out.exists() and not force:
        raise BadGenTest(f"{str(out)!r} exists already", hint="pass --force to overwrite it")
    test = generate(report, out, env_var=env_var, slo=slo, flow=flow, headers=headers, data=data,
                    json_body=json_body)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(test.source)
    except OSError as e:
        raise OutputNotWritable(f"cannot write {str(out)!r}: {e.strerror or e}", hint="choose another -o") from None
    return test


def generate(report: str | Path, out: str | Path, *, env_var: str = DEFAULT_ENV_VAR, slo: str | None = None,
             flow: str | Path | None = None, headers: list[str] | tuple[str, ...] = (), data: str | None = None,
             json_body: str | None = None) -> GeneratedTest:
    """The regression test's source, without writing it.

    ``flow`` replaces a flow file the report names but that is gone; ``headers`` (``'Name:
    value'``), ``data`` and ``json_body`` give back a request's headers and body, which reports
    never keep.
    """
    out = Path(out)
    if not _TEST_FILE.match(out.name):
        raise BadGenTest(f"pytest would not collect {out.name!r}", hint="name it test_SOMETHING.py")
    if not _ENV_NAME.match(env_var):
        raise BadGenTest(f"--env-var {env_var!r} is not an environment variable name")
    src = load_source(report)
    if (src.report or {}).get("verdict") == "not_reproduced" or not src.runs:
        raise BadReport(f"nothing to replay: {str(src.path)!r} did not reproduce the failure (no experiment failed)",
                        hint="generate the test from an investigation whose verdict is reproduced")
    if slo:
        the_slo, slo_from = Slo.parse(slo), "given with --slo"
    elif src.top_mode and src.top_mode != "none":
        the_slo, slo_from = Slo.from_catalog(src.top_mode), f"the catalog's verification criteria for {src.top_mode}"
    else:
        the_slo, slo_from = Slo.parse(DEFAULT_SLO), "tracehound's default"
    name, run, before = _worst(src, the_slo)
    if not before.failures:  # a run folder given alone may not have failed at all
        raise BadReport(f"nothing to replay: no request of {str(src.path)!r} failed",
                        hint="generate the test from a run or an investigation that reproduced the failure")
    replay = _replay(src, name, run, before, flow, headers, data, json_body)
    function = _function_name(replay)
    source = _render(src, replay, the_slo, slo_from, env_var, function, out)
    compile(source, str(out), "exec")  # what we write must at least be Python
    return GeneratedTest(out, source, replay, the_slo, slo_from, env_var, function)


# -- choosing and rebuilding the experiment -----------------------------------------------------


def _wilson_low(failures: int, n: int) -> float:
    """Lower bound of the 95 % Wilson interval of a failure rate."""
    if n == 0:
        return 0.0
    p = failures / n
    z2 = _Z95 * _Z95
    centre = p + z2 / (2 * n)
    spread = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - spread) / (1 + z2 / n)


#: A replay this likely to break the SLO again is a sure bet; the earliest such experiment is chosen.
SURE_BET = 0.9


def _breaks_again(failures: int, n: int, limit: float) -> float:
    """The chance that ``n`` requests sent again fail at least ``limit`` of the time (so that an
    ``error_rate<limit`` criterion breaks), at the low end of the failure rate seen (95 % Wilson).

    Binomial tail, summed in log space: P(X >= ceil(limit·n)) for X ~ Bin(n, p_low).
    """
    p = _wilson_low(failures, n)
    need = max(1, math.ceil(limit * n - 1e-9))
    if p <= 0.0 or need > n:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    below = 0.0
    for k in range(need):
        below += math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lp + (n - k) * lq)
    return max(0.0, 1.0 - below)


def _worst(src: Source, slo: Slo) -> tuple[str, Run, Stats]:
    """The experiment whose replay most surely breaks ``slo`` again on a freshly started service.

    The bet is the chance that its requests, sent again, fail at least as often as the SLO's
    error-rate limit allows, at the low end of the rate they showed: one failure in two requests
    is a high rate but a weak bet; 7 failures in 5,566 requests would not break ``error_rate<1%``
    even if they came back. Experiments run one after the other on the same service, so a later
    one can fail only because an earlier one left damage behind (connections leaked, a cache
    filled): of the sure bets, the earliest is taken.
    """
    limits = [c.limit for c in slo.criteria if c.key == "error_rate"]
    limit = min(limits) if limits else 0.0

    def bet(st: Stats) -> float:
        return _breaks_again(st.failures, st.requests, limit)

    scored = [(name, run, Stats.of([run])) for name, run in src.runs]
    for item in scored:
        if bet(item[2]) >= SURE_BET:
            return item
    return max(scored, key=lambda x: (bet(x[2]), x[2].failures))


def _replay(src: Source, name: str, run: Run, before: Stats, flow_file: str | Path | None,
            headers: list[str] | tuple[str, ...], data: str | None, json_body: str | None) -> Replay:
    meta = run.meta
    case = (src.report or {}).get("case") or {}
    target = meta.get("target") or {}
    exp = meta.get("experiment") or {}
    kind = str(exp.get("kind") or "probe")
    load, words = _load(meta.get("shape") or {})
    options = meta.get("options") or {}
    timeout = options.get("timeout_s")
    if timeout:
        load["timeout"] = _duration(float(timeout))
    if options.get("keepalive") is False:
        load["keepalive"] = False
    gaps = exp.get("gaps") or (list(DEFAULT_GAPS) if kind == "idle_gap" else None)
    delay = exp.get("delay_s")
    replay = Replay(name, kind, before, load, words)

    recorded_flow = case.get("flow") or (target.get("flow") or {}).get("source")
    if flow_file is not None or recorded_flow:
        doc = _flow_doc(Path(flow_file) if flow_file is not None else Path(str(recorded_flow)), flow_file is not None)
        replay.flow_target_step = str(case.get("target_step") or (doc["steps"][-1] or {}).get("name") or "flow")
        if headers or data is not None or json_body is not None:
            raise BadTarget("with a flow, headers and bodies are in its steps: give no -H, --data or --json")
    else:
        _request(replay, case, target, headers, data, json_body)
        doc = None
        if gaps:
            doc = {"steps": [_request_step(replay)]}
    if doc is not None:
        if gaps:
            doc = _with_gaps(doc, [float(g) for g in gaps])
            replay.load_words = "one user, pausing " + ", ".join(f"{g:g}" for g in gaps) + " s before repeating the requests"
        elif delay:
            doc = _with_pause(doc, float(delay))
            replay.load_words += f", pausing {float(delay):g} s before each step after the first"
        replay.flow = doc
        _externalize_flow_secrets(replay)
        replay.headers, replay.json_body, replay.data = {}, None, None
    return replay


def _load(shape: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The fixture's load arguments for a recorded ``shape``, and the same in words."""
    load: dict[str, Any] = {}
    stages = shape.get("stages") or []
    open_model = shape.get("model") == "open"
    if stages:
        text = ",".join(f"{_duration(s['duration_s'])}:{'' if s.get('ramp', True) else '='}{s['target']:g}"
                        for s in stages)
        load["stages"] = text
        words = f"{'arrival-rate' if open_model else 'user'} stages {text}"
        if open_model:
            load["open_model"] = True
    elif open_model:
        rate = float(shape.get("rate") or 1.0)
        load["rate"] = int(rate) if rate.is_integer() else rate
        words = f"{load['rate']:g} requests/s"
    else:
        load["concurrency"] = int(shape.get("concurrency") or 1)
        words = f"{load['concurrency']} concurrent user{'s' if load['concurrency'] != 1 else ''}"
    if open_model and shape.get("max_connections"):
        load["max_connections"] = int(shape["max_connections"])
    if shape.get("requests"):
        load["requests"] = int(shape["requests"])
        words += f", {load['requests']} requests"
    if shape.get("duration_s"):
        load["duration"] = _duration(float(shape["duration_s"]))
        words += f" {'within' if shape.get('requests') else 'for'} {float(shape['duration_s']):g} s"
    if open_model and load.get("max_connections"):
        words += f", at most {load['max_connections']} connections open"
    if "requests" not in load and "duration" not in load and "stages" not in load:
        raise BadReport("the failing run records no bound (requests, duration or stages) to replay")
    return load, words


def _duration(seconds: float) -> str:
    return f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:g}ms"


def _request(replay: Replay, case: dict[str, Any], target: dict[str, Any], headers: list[str] | tuple[str, ...],
             data: str | None, json_body: str | None) -> None:
    """The one request of a run without a flow, with the headers and body given back."""
    url = str(case.get("url") or target.get("url") or "")
    if not url:
        raise BadReport("the report does not say which URL failed")
    if MASK in url:
        raise BadTarget(f"the URL {url} carried a secret that tracehound does not keep",
                        hint="write the test from a request whose credentials are in headers, given with -H")
    method = str(target.get("method") or case.get("method") or "GET")
    parts = urlsplit(url)
    replay.method = method
    replay.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    recorded = sorted(set(case.get("headers") or []) | set(target.get("headers") or {}))
    body_bytes = int(case.get("body_bytes") or target.get("body_bytes") or 0)
    if not (headers or data is not None or json_body is not None):
        if recorded or body_bytes:
            what = " and ".join(filter(None, [
                ("headers " + ", ".join(recorded)) if recorded else "",
                f"a {body_bytes}-byte body" if body_bytes else ""]))
            raise BadTarget(f"the request had {what}, which the report does not keep",
                            hint="give them again: -H 'Name: value', --data or --json")
        return
    t = Target.parse(url, method, headers, data, json_body)
    for k, v in t.headers:
        if is_secret_header(k):
            replay.headers[k] = _secret(replay, k, f"the {k} header")
        elif not (k.lower() == "content-type" and v == "application/json" and json_body is not None):
            replay.headers[k] = v
    if t.body is None:
        return
    text = t.body.decode("utf-8", "replace")
    if json_body is not None:
        replay.json_body = _externalize_json(replay, json.loads(text), "the JSON body")
    elif redact_text(text) != text:
        replay.data = _secret(replay, "request_body", "the request body, which carries credentials")
    else:
        replay.data = text


def _request_step(replay: Replay) -> dict[str, Any]:
    """The request as a flow step (the idle-gap probe sends it in a flow with pauses)."""
    step: dict[str, Any] = {"name": "request", "method": replay.method, "path": _literal(replay.path)}
    if replay.headers:
        step["headers"] = {k: v if isinstance(v, _Env) else _literal(v) for k, v in replay.headers.items()}
    if replay.json_body is not None:
        step["json"] = replay.json_body
    elif replay.data is not None:
        step["data"] = replay.data if isinstance(replay.data, _Env) else _literal(replay.data)
    return step


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _flow_doc(path: Path, given: bool) -> dict[str, Any]:
    """The flow file's document, validated; a flow that is gone must be given again."""
    from tracehound.flow import Flow

    if not path.is_file():
        if given:
            raise BadFlow(f"cannot read flow {str(path)!r}: no such file")
        raise BadFlow(f"the flow {str(path)!r} of the investigation is gone", hint="give it again with --flow FILE")
    Flow.load(path)  # one clear line when it is not a valid flow
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    doc.pop("base_url", None)  # the test's base URL comes from the environment
    return doc


def _with_pause(doc: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The flow with a pause before every step after the first, as the flow-delay experiment ran it."""
    steps = [dict(s) for s in doc["steps"]]
    for s in steps[1:]:
        s["pause"] = seconds
    return {**doc, "steps": steps}


def _with_gaps(doc: dict[str, Any], gaps: list[float]) -> dict[str, Any]:
    """The flow's steps once, then again after each idle pause, as the idle-gap probe ran them."""
    steps: list[dict[str, Any]] = []
    for k, gap in enumerate([0.0, *gaps]):
        for i, s in enumerate(doc["steps"]):
            step = dict(s)
            step.pop("pause", None)
            if k:
                step["name"] = f"{s['name']} after {gap:g}s idle"
            if i == 0 and gap:
                step["pause"] = gap
            steps.append(step)
    return {**doc, "steps": steps}


# -- secrets stay in the environment --------------------------------------------------------------


def _env_name(key: str) -> str:
    return "TRACEHOUND_" + (re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper() or "SECRET")


def _secret(replay: Replay, key: str, what: str) -> _Env:
    name, n = _env_name(key), 2
    while name in replay.secrets and replay.secrets[name] != what:
        name, n = f"{_env_name(key)}_{n}", n + 1
    replay.secrets[name] = what
    return _Env(name)


def _externalize_json(replay: Replay, value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: (_secret(replay, k, f"the {k} field of {where}")
                    if _SECRET_KEY.search(str(k)) and isinstance(v, (str, int)) and not _is_template(v)
                    else _externalize_json(replay, v, where)) for k, v in value.items()}
    if isinstance(value, list):
        return [_externalize_json(replay, v, where) for v in value]
    return value


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and bool(re.search(r"\{[A-Za-z_]\w*\}", value))


def _externalize_flow_secrets(replay: Replay) -> None:
    """Move the flow's literal credentials into variables the test reads from the environment."""
    doc = replay.flow
    assert doc is not None
    taken = set(map(str, doc.get("vars") or {}))
    variables: dict[str, _Env] = {}

    def var_for(value: _Env | str, key: str, what: str) -> str:
        env = value if isinstance(value, _Env) else _secret(replay, key, what)
        base = re.sub(r"\W+", "_", key).strip("_").lower() or "secret"
        base = base if base[0].isalpha() else f"v_{base}"
        name, n = base, 2
        while name in taken and variables.get(name) != env:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        variables[name] = env
        return "{" + name + "}"

    def swap_json(value: Any, where: str) -> Any:
        if isinstance(value, _Env):
            return var_for(value, value.name.removeprefix("TRACEHOUND_").lower(), "")
        if isinstance(value, dict):
            return {k: (var_for(v, k, f"the {k} field of {where}")
                        if _SECRET_KEY.search(str(k)) and isinstance(v, (str, int)) and not _is_template(v)
                        else swap_json(v, where)) for k, v in value.items()}
        if isinstance(value, list):
            return [swap_json(v, where) for v in value]
        return value

    secret_vars = {k: v for k, v in (doc.get("vars") or {}).items()
                   if _SECRET_KEY.search(str(k)) and isinstance(v, (str, int)) and not _is_template(v)}
    if secret_vars:
        doc["vars"] = {k: v for k, v in doc["vars"].items() if k not in secret_vars} or None
        for k, v in secret_vars.items():
            taken.discard(str(k))
            var_for(str(v), str(k), f"the flow variable {k}")
        if doc["vars"] is None:
            del doc["vars"]
    for section in ("setup", "steps"):
        for step in doc.get(section) or []:
            where = f"step {step.get('name')!r}"
            hdrs = step.get("headers") or {}
            for k, v in list(hdrs.items()):
                if isinstance(v, _Env) or (is_secret_header(str(k)) and not _is_template(v)):
                    hdrs[k] = var_for(v, str(k), f"the {k} header of {where}")
            if step.get("json") is not None:
                step["json"] = swap_json(step["json"], f"the JSON body of {where}")
            d = step.get("data")
            if isinstance(d, _Env) or (isinstance(d, str) and not _is_template(d) and redact_text(d) != d):
                step["data"] = var_for(d, "request_body", f"the body of {where}, which carries credentials")
    replay.flow_variables = variables


# -- the source ----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block-style YAML with list items indented under their key, as people write flows."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _yaml(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=96)


def _text(value: str) -> str:
    """Free text made safe inside a triple-quoted docstring, secrets masked."""
    text = redact_text(" ".join(str(value).split()))
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _slug(text: str, limit: int = 40) -> str:
    s = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    return s[:limit].rstrip("_") or "target"


def _function_name(r: Replay) -> str:
    what = f"{r.flow_target_step}_flow" if r.flow is not None and r.flow_target_step else \
        f"{r.method}_{r.path.split('?', 1)[0]}"
    if r.kind == "idle_gap":
        how = "after_idle_pauses"
    elif "stages" in r.load:
        how = "through_its_stages"
    elif "rate" in r.load:
        rate = _slug(f"{r.load['rate']:g}")
        how = f"at_{rate}_requests_per_second"
    else:
        how = f"with_{r.load['concurrency']}_users"
    return f"test_{_slug(what)}_holds_its_slo_{how}"


def _when(report: dict[str, Any]) -> str:
    started = report.get("started_at")
    if not started:
        return ""
    try:
        return datetime.fromisoformat(str(started)).strftime(" of %Y-%m-%d %H:%M UTC")
    except ValueError:
        return ""


def _docstring(src: Source, r: Replay, slo_from: str, env_var: str, out: Path) -> str:
    rep = src.report or {}
    what = f"the {r.flow_target_step} flow" if r.flow is not None else f"{r.method} {r.path}"
    lines = [f"Regression test: {_text(what)} must hold its SLO under the load that once broke it.", ""]
    origin = f"the investigation{_when(rep)}" if src.report else "the run"
    lines += [f"Written by `tracehound gen-test` from {origin} in", f"{_text(str(src.path))}:", ""]
    facts: list[tuple[str, str]] = []
    case = rep.get("case") or {}
    if src.report:
        facts.append(("symptom", f'"{_text(case["symptom"])}"' if case.get("symptom") else "not given"))
        if rep.get("requests"):
            rate = float(rep.get("failure_rate") or 0)
            facts.append(("reproduced", f"{rep.get('failures', 0)} of {rep['requests']} requests failed ({rate:.1%})"))
        hyps = rep.get("hypotheses") or []
        if hyps:
            h = hyps[0]
            conf = f", {float(h['confidence']):.0%} confidence" if h.get("confidence") is not None else ""
            facts.append(("top cause", f"{_text(h.get('title') or h['id'])} ({h['id']}{conf})"))
    b = r.before
    worst = f"{_text(r.experiment)}, where {b.failures} of {b.requests} requests failed ({b.error_rate:.1%})"
    facts.append(("failed most", worst))
    width = max(len(k) for k, _ in facts) + 2
    lines += [f"    {(k + ':').ljust(width)}{v}" for k, v in facts]
    lines += [""] + textwrap.wrap(
        f"The test sends that load again ({_text(r.load_words)}) and asserts the SLO below, {slo_from}. "
        "It reads these from the environment, and is skipped while one is unset:", 96) + [""]
    needs = {env_var: "the service's base URL, e.g. http://127.0.0.1:8000",
             **{k: f"{_text(v)} (a secret: not written here)" for k, v in r.secrets.items()}}
    width = max(map(len, needs)) + 2
    lines += [f"    {k.ljust(width)}{v}" for k, v in needs.items()]
    lines += ["", f"    {env_var}=http://127.0.0.1:8000 pytest {out.as_posix()}", "",
              "Only 127.0.0.1 and localhost are probed unless pytest runs with --th-allow-remote."]
    return '"""' + "\n".join(lines).rstrip() + '\n"""'


def _py(value: Any, indent: str, width: int = 100) -> str:
    """A Python literal as people write one: double quotes, one line when it fits, else one item a line."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Python string literal
    if isinstance(value, dict):
        items = [f"{_py(k, indent)}: {_py(v, indent + '    ')}" for k, v in value.items()]
        opening, closing = "{", "}"
    elif isinstance(value, (list, tuple)):
        items = [_py(v, indent + "    ") for v in value]
        opening, closing = "[", "]"
    else:
        return repr(value)
    flat = opening + ", ".join(items) + closing
    if len(indent) + len(flat) <= width and "\n" not in flat:
        return flat
    inner = indent + "    "
    return opening + "\n" + "".join(f"{inner}{i},\n" for i in items) + indent + closing


def _kwarg(name: str, value: Any, indent: str) -> str:
    return f"{indent}{name}={_py(value, indent, 100 - len(name) - 2)},"


def _render(src: Source, r: Replay, slo: Slo, slo_from: str, env_var: str, function: str, out: Path) -> str:
    parts = [_docstring(src, r, slo_from, env_var, out), ""]
    imports = []
    if r.flow is not None:
        imports.append("import yaml")
    if r.secrets:
        imports.append("from tracehound.pytest_plugin import require_env")
    if imports:
        parts += [*imports, ""]
    parts.append(f'SLO = "{slo.text()}"')
    if r.flow is not None:
        body = _yaml(r.flow).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        parts += ["", f'FLOW = yaml.safe_load("""\n{body}""")']
    parts += ["", ""]
    ind = " " * 8
    call = [f"def {function}(tracehound_probe):", "    result = tracehound_probe("]
    if r.flow is not None:
        call.append(f"{ind}flow=FLOW,")
        if r.flow_variables:
            call.append(_kwarg("variables", r.flow_variables, ind))
    else:
        call.append(f"{ind}{_py(r.path, ind)},")
        call.append(f"{ind}method={_py(r.method, ind)},")
        if r.headers:
            call.append(_kwarg("headers", r.headers, ind))
        if r.json_body is not None:
            call.append(_kwarg("json", r.json_body, ind))
        elif r.data is not None:
            call.append(_kwarg("data", r.data, ind))
    for k, v in r.load.items():
        call.append(_kwarg(k, v, ind))
    call.append(f"{ind}env_var={_py(env_var, ind)},")
    call += ["    )", "    result.assert_slo(SLO)"]
    parts += call
    return "\n".join(parts) + "\n"


__all__ = ["BadGenTest", "GeneratedTest", "Replay", "generate", "write_test"]
