"""What the regression test sends: the failing experiment's load, and its request or flow, rebuilt.

The load shape is written out literally (users and duration, or arrival rate and duration, or
stages); a flow is inlined as YAML with the pauses the experiment added (the idle-gap probe's
gaps, the flow-delay probe's pause). Headers and bodies, which reports never keep, are given
back by the user; their secrets are read from the environment (:mod:`.secrets`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tracehound import yamlfile
from tracehound.errors import BadFlow, BadReport, BadTarget
from tracehound.flow import Flow
from tracehound.gentest.secrets import Env, externalize_flow_secrets, externalize_json, secret
from tracehound.probe import Target
from tracehound.probe.meta import ExperimentMeta, ShapeMeta, TargetMeta
from tracehound.probe.run import Run
from tracehound.redact import MASK, is_secret_header, redact_text
from tracehound.report.model import ReportCase
from tracehound.verify import DEFAULT_GAPS, Source, Stats


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
    flow_variables: dict[str, Env] = field(default_factory=dict)
    flow_target_step: str | None = None
    #: Environment variable → what it holds, for each secret the test reads when it runs.
    secrets: dict[str, str] = field(default_factory=dict)



def build_replay(src: Source, name: str, run: Run, before: Stats, flow_file: str | Path | None,
                 headers: list[str] | tuple[str, ...], data: str | None, json_body: str | None) -> Replay:
    """What the test sends for the experiment ``name`` (its ``run``): the recorded load, the request or
    flow given back (``flow_file``, ``headers``, ``data``, ``json_body``), its secrets externalized."""
    meta = run.meta
    case = src.report.case if src.report is not None else ReportCase()
    target = meta.target
    exp = meta.experiment or ExperimentMeta()
    kind = exp.kind or "probe"
    load, words = _load(meta.shape)
    timeout = meta.options.timeout_s
    if timeout:
        load["timeout"] = _duration(float(timeout))
    if meta.options.keepalive is False:
        load["keepalive"] = False
    gaps = exp.gaps or (list(DEFAULT_GAPS) if kind == "idle_gap" else None)
    delay = exp.delay_s
    replay = Replay(name, kind, before, load, words)

    recorded_flow = case.flow or (target.flow.source if target.flow else None)
    if flow_file is not None or recorded_flow:
        doc = _flow_doc(Path(flow_file) if flow_file is not None else Path(str(recorded_flow)), flow_file is not None)
        replay.flow_target_step = str(case.target_step or (doc["steps"][-1] or {}).get("name") or "flow")
        if headers or data is not None or json_body is not None:
            raise BadTarget("with a flow, headers and bodies are in its steps: give no -H, --data or --json")
    else:
        _request(replay, case, target, headers, data, json_body)
        doc = None
        if gaps:
            doc = {"steps": [_request_step(replay)]}
    if doc is not None:
        if gaps:
            spread = float(exp.gap_spread_s or 0.0)
            doc = _with_gaps(doc, [float(g) for g in gaps], spread)
            said = ", ".join(f"{g:g}–{g + spread:g}" if spread else f"{g:g}" for g in gaps)
            replay.load_words = f"one user, pausing {said} s before repeating the requests"
        elif delay:
            doc = _with_pause(doc, float(delay))
            replay.load_words += f", pausing {float(delay):g} s before each step after the first"
        replay.flow = doc
        replay.flow_variables = externalize_flow_secrets(doc, replay.secrets)
        replay.headers, replay.json_body, replay.data = {}, None, None
    return replay


def _load(shape: ShapeMeta) -> tuple[dict[str, Any], str]:
    """The fixture's load arguments for a recorded ``shape``, and the same in words."""
    load: dict[str, Any] = {}
    stages = shape.stages
    open_model = shape.model == "open"
    if stages:
        text = ",".join(f"{_duration(s.duration_s)}:{'' if s.ramp else '='}{s.target:g}" for s in stages)
        load["stages"] = text
        words = f"{'arrival-rate' if open_model else 'user'} stages {text}"
        if open_model:
            load["open_model"] = True
    elif open_model:
        rate = float(shape.rate or 1.0)
        load["rate"] = int(rate) if rate.is_integer() else rate
        words = f"{load['rate']:g} requests/s"
    else:
        load["concurrency"] = int(shape.concurrency or 1)
        words = f"{load['concurrency']} concurrent user{'s' if load['concurrency'] != 1 else ''}"
    if open_model and shape.max_connections:
        load["max_connections"] = int(shape.max_connections)
    if shape.requests:
        load["requests"] = int(shape.requests)
        words += f", {load['requests']} requests"
    if shape.duration_s:
        load["duration"] = _duration(float(shape.duration_s))
        words += f" {'within' if shape.requests else 'for'} {float(shape.duration_s):g} s"
    if open_model and load.get("max_connections"):
        words += f", at most {load['max_connections']} connections open"
    if "requests" not in load and "duration" not in load and "stages" not in load:
        raise BadReport("the failing run records no bound (requests, duration or stages) to replay")
    return load, words


def _duration(seconds: float) -> str:
    return f"{seconds:g}s" if seconds >= 1 else f"{seconds * 1000:g}ms"


def _request(replay: Replay, case: ReportCase, target: TargetMeta, headers: list[str] | tuple[str, ...],
             data: str | None, json_body: str | None) -> None:
    """The one request of a run without a flow, with the headers and body given back."""
    url = str(case.url or target.url or "")
    if not url:
        raise BadReport("the report does not say which URL failed")
    if MASK in url:
        raise BadTarget(f"the URL {url} carried a secret that tracehound does not keep",
                        hint="write the test from a request whose credentials are in headers, given with -H")
    method = str(target.method or case.method or "GET")
    parts = urlsplit(url)
    replay.method = method
    replay.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    recorded = sorted(set(case.headers) | set(target.headers))
    body_bytes = int(case.body_bytes or target.body_bytes or 0)
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
            replay.headers[k] = secret(replay.secrets, k, f"the {k} header")
        elif not (k.lower() == "content-type" and v == "application/json" and json_body is not None):
            replay.headers[k] = v
    if t.body is None:
        return
    text = t.body.decode("utf-8", "replace")
    if json_body is not None:
        replay.json_body = externalize_json(replay.secrets, json.loads(text), "the JSON body")
    elif redact_text(text) != text:
        replay.data = secret(replay.secrets, "request_body", "the request body, which carries credentials")
    else:
        replay.data = text


def _request_step(replay: Replay) -> dict[str, Any]:
    """The request as a flow step (the idle-gap probe sends it in a flow with pauses)."""
    step: dict[str, Any] = {"name": "request", "method": replay.method, "path": _literal(replay.path)}
    if replay.headers:
        step["headers"] = {k: v if isinstance(v, Env) else _literal(v) for k, v in replay.headers.items()}
    if replay.json_body is not None:
        step["json"] = replay.json_body
    elif replay.data is not None:
        step["data"] = replay.data if isinstance(replay.data, Env) else _literal(replay.data)
    return step


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _flow_doc(path: Path, given: bool) -> dict[str, Any]:
    """The flow file's document, validated; a flow that is gone must be given again."""
    if not path.is_file():
        if given:
            raise BadFlow(f"cannot read flow {str(path)!r}: no such file")
        raise BadFlow(f"the flow {str(path)!r} of the investigation is gone", hint="give it again with --flow FILE")
    Flow.load(path)  # one clear line when it is not a valid flow
    doc: dict[str, Any] = yamlfile.load(path.read_text())  # within bounds: Flow.load just read it
    doc.pop("base_url", None)  # the test's base URL comes from the environment
    return doc


def _with_pause(doc: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The flow with a pause before every step after the first, as the flow-delay experiment ran it."""
    steps = [dict(s) for s in doc["steps"]]
    for s in steps[1:]:
        s["pause"] = seconds
    return {**doc, "steps": steps}


def _with_gaps(doc: dict[str, Any], gaps: list[float], spread: float = 0.0) -> dict[str, Any]:
    """The flow's steps once, then again after each idle pause, as the idle-gap probe ran them."""
    steps: list[dict[str, Any]] = []
    for k, gap in enumerate([0.0, *gaps]):
        for i, s in enumerate(doc["steps"]):
            step = dict(s)
            step.pop("pause", None)
            if k:
                step["name"] = f"{s['name']} after {gap:g}s idle"
            if i == 0 and gap:
                step["pause"] = [gap, gap + spread] if spread else gap
            steps.append(step)
    return {**doc, "steps": steps, "iterations": 1}


__all__ = ["Replay", "build_replay"]
