"""Secrets stay in the environment: what the generated test reads with ``require_env`` when it runs.

A credential header, a secret-looking JSON field or flow variable, and a body that carries
credentials are never written into the test: each becomes an :class:`Env` (written as
``require_env("TRACEHOUND_…")``), and in a flow a ``{variable}`` filled from one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tracehound.redact import is_secret_header, redact_text

SECRET_KEY = re.compile(r"(?i)pass(word|wd)?|secret|token|api[_-]?key|apikey|auth|credential|session|cookie|"
                        r"private[_-]?key|signature|jwt")


@dataclass(frozen=True)
class Env:
    """A value the generated test reads from the environment when it runs."""

    name: str

    def __repr__(self) -> str:
        return f'require_env("{self.name}")'


def env_name(key: str) -> str:
    """``TRACEHOUND_`` and ``key`` in upper snake case."""
    return "TRACEHOUND_" + (re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper() or "SECRET")


def secret(secrets: dict[str, str], key: str, what: str) -> Env:
    """The environment variable that holds ``what``, recorded in ``secrets`` (variable → what it holds)."""
    name, n = env_name(key), 2
    while name in secrets and secrets[name] != what:
        name, n = f"{env_name(key)}_{n}", n + 1
    secrets[name] = what
    return Env(name)


def is_template(value: Any) -> bool:
    """Text with a ``{variable}`` in it: a flow fills it, so it is no literal secret."""
    return isinstance(value, str) and bool(re.search(r"\{[A-Za-z_]\w*\}", value))


def _is_literal_secret(key: object, value: Any) -> bool:
    return bool(SECRET_KEY.search(str(key))) and isinstance(value, (str, int)) and not is_template(value)


def externalize_json(secrets: dict[str, str], value: Any, where: str) -> Any:
    """A JSON body with its secret-looking fields read from the environment."""
    if isinstance(value, dict):
        return {k: (secret(secrets, k, f"the {k} field of {where}") if _is_literal_secret(k, v)
                    else externalize_json(secrets, v, where)) for k, v in value.items()}
    if isinstance(value, list):
        return [externalize_json(secrets, v, where) for v in value]
    return value


def externalize_flow_secrets(doc: dict[str, Any], secrets: dict[str, str]) -> dict[str, Env]:
    """Move the flow's literal credentials into variables the test reads from the environment.

    ``doc`` is changed in place; the result maps each new flow variable to its :class:`Env`.
    """
    taken = set(map(str, doc.get("vars") or {}))
    variables: dict[str, Env] = {}

    def var_for(value: object, key: str, what: str) -> str:
        env = value if isinstance(value, Env) else secret(secrets, key, what)
        base = re.sub(r"\W+", "_", key).strip("_").lower() or "secret"
        base = base if base[0].isalpha() else f"v_{base}"
        name, n = base, 2
        while name in taken and variables.get(name) != env:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        variables[name] = env
        return "{" + name + "}"

    def swap_json(value: Any, where: str) -> Any:
        if isinstance(value, Env):
            return var_for(value, value.name.removeprefix("TRACEHOUND_").lower(), "")
        if isinstance(value, dict):
            return {k: (var_for(v, k, f"the {k} field of {where}") if _is_literal_secret(k, v)
                        else swap_json(v, where)) for k, v in value.items()}
        if isinstance(value, list):
            return [swap_json(v, where) for v in value]
        return value

    secret_vars = {k: v for k, v in (doc.get("vars") or {}).items() if _is_literal_secret(k, v)}
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
                if isinstance(v, Env) or (is_secret_header(str(k)) and not is_template(v)):
                    hdrs[k] = var_for(v, str(k), f"the {k} header of {where}")
            if step.get("json") is not None:
                step["json"] = swap_json(step["json"], f"the JSON body of {where}")
            d = step.get("data")
            if isinstance(d, Env) or (isinstance(d, str) and not is_template(d) and redact_text(d) != d):
                step["data"] = var_for(d, "request_body", f"the body of {where}, which carries credentials")
    return variables


__all__ = ["SECRET_KEY", "Env", "env_name", "externalize_flow_secrets", "externalize_json", "is_template", "secret"]
