"""The generated test's source, written as a person would write it.

A docstring says where the test comes from (the investigation, its symptom, the top cause, the
experiment that failed most) and what it reads from the environment; then the SLO, the flow as
YAML if there is one, and one test function calling the pytest plugin's ``tracehound_probe``
fixture with the load written out literally.
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from tracehound.gentest.replay import Replay
from tracehound.redact import redact_text
from tracehound.report.model import Report
from tracehound.verify import Slo, Source


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


def function_name(r: Replay) -> str:
    """The test function's name: what it sends and how, ``test_get_orders_42_holds_its_slo_with_32_users``."""
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


def _when(report: Report) -> str:
    started = report.started_at
    if not started:
        return ""
    try:
        return datetime.fromisoformat(str(started)).strftime(" of %Y-%m-%d %H:%M UTC")
    except ValueError:
        return ""


def _docstring(src: Source, r: Replay, slo_from: str, env_var: str, out: Path) -> str:
    rep = src.report
    what = f"the {r.flow_target_step} flow" if r.flow is not None else f"{r.method} {r.path}"
    lines = [f"Regression test: {_text(what)} must hold its SLO under the load that once broke it.", ""]
    origin = f"the investigation{_when(rep)}" if rep is not None else "the run"
    lines += [f"Written by `tracehound gen-test` from {origin} in", f"{_text(str(src.path))}:", ""]
    facts: list[tuple[str, str]] = []
    if rep is not None:
        symptom = rep.case.symptom
        facts.append(("symptom", f'"{_text(symptom)}"' if symptom else "not given"))
        if rep.requests:
            rate = float(rep.failure_rate)
            facts.append(("reproduced", f"{rep.failures} of {rep.requests} requests failed ({rate:.1%})"))
        h = rep.top
        if h is not None:
            conf = f", {float(h.confidence):.0%} confidence"
            facts.append(("top cause", f"{_text(h.title or h.id)} ({h.id}{conf})"))
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


def render(src: Source, r: Replay, slo: Slo, slo_from: str, env_var: str, function: str, out: Path) -> str:
    """The test file's source: its docstring, the SLO, the flow if any, and one test function."""
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


__all__ = ["function_name", "render"]
