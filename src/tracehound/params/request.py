"""A single request whose values come from data, as a flow of one step (what ``--data-file`` and
``--param`` make of the command line's URL, headers and body, and what the data experiments send).

In the URL, the headers and the body, ``{column}`` of a pool, ``{int:1..5000}`` and the built-ins
``{vu}``, ``{iter}``, ``{seq}``, ``{uuid}`` are placeholders; every other brace is sent as it is. A
``--json`` body becomes the step's JSON, so values are escaped as JSON strings.

This module sits above :mod:`tracehound.flow` (it makes flows), so :mod:`tracehound.params` does
not re-export it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tracehound.errors import BadData, BadTarget
from tracehound.flow import BUILTINS, Flow
from tracehound.params.declare import INLINE_PREFIX
from tracehound.params.pool import Pool
from tracehound.probe.target import Target

#: The name of the one step (as the idle-gap probe names the case's request).
STEP = "target"
SOURCE = "the command line"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*|int:[^{}]*)\}")


def varies(target: Target, pools: Sequence[Pool]) -> bool:
    """Whether ``target`` with ``pools`` is more than one fixed request: pools, or an inline range in it."""
    texts = [target.url, *(v for _, v in target.headers)]
    if target.body is not None:
        texts.append(target.body.decode("utf-8", "replace"))
    return bool(pools) or any("{" + INLINE_PREFIX in t for t in texts)


def request_flow(target: Target, pools: Sequence[Pool], json_body: bool = False, source: str = SOURCE) -> Flow:
    """``target`` as a one-step flow whose placeholders the pools (and inline ranges, built-ins) fill.

    :class:`~tracehound.errors.BadData` when a pool fills nothing the request holds.
    """
    known = set(BUILTINS) | {c for p in pools for c in p.columns}
    literal: list[str] = []

    def escape(text: str) -> str:
        out, pos = [], 0
        for m in _PLACEHOLDER.finditer(text):
            if m.group(1) in known or m.group(1).startswith(INLINE_PREFIX):
                out += [_literal(text[pos: m.start()]), m.group(0)]
                pos = m.end()
            else:
                literal.append(m.group(0))
        out.append(_literal(text[pos:]))
        return "".join(out)

    step: dict[str, Any] = {"name": STEP, "method": target.method, "path": escape(target.path)}
    if target.headers:
        step["headers"] = {k: escape(v) for k, v in target.headers}
    if target.body is not None:
        try:
            body = target.body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadTarget("a body that takes values from data must be UTF-8 text") from None
        if json_body:
            step["json"] = _escape_json(json.loads(body), escape)
        else:
            step["data"] = escape(body)
    doc = {"base_url": target.endpoint.origin, "steps": [step]}
    try:
        return Flow.from_dict(doc, source=source, pools=pools)
    except BadData as e:
        if not literal:
            raise
        # The likelier mistake: a placeholder that names no column (it would be sent as written).
        columns = ", ".join(c for p in pools for c in p.columns)
        raise BadData(f"{source}: the request has {literal[0]}, which no data fills (the data's columns: {columns})",
                      hint=e.hint or None) from None


def _escape_json(value: Any, escape: Any) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_escape_json(v, escape) for v in value]
    if isinstance(value, dict):
        return {k: _escape_json(v, escape) for k, v in value.items()}
    return value


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


__all__ = ["SOURCE", "STEP", "request_flow", "varies"]
