"""Parsing several commands share: a target from URL, method, headers and body, or a flow file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tracehound.errors import BadData, BadTarget

if TYPE_CHECKING:
    from tracehound.flow import Flow
    from tracehound.probe import Target

FLOW_HOLDS_REQUESTS = "with --flow, put methods, headers and bodies in the flow's steps"
DATA_HELP = ("CSV (header row first) or JSON-lines file whose columns fill {placeholders} in the URL, headers and "
             "body, one row per request (repeatable).")
PARAM_HELP = ("NAME=VALUES fills {NAME}: a list a,b,c, a range 1..5000, or @file (one value per line; a CSV's "
              "column NAME) (repeatable).")
DRAW_HELP = "How data rows are drawn: sequential (default), random (seeded) or unique (each virtual user its own)."


def target_or_flow(url: str | None, method: str | None, headers: Sequence[str], data: str | None,
                   json_body: str | None, flow: Path | None, missing: str, data_files: Sequence[Path] = (),
                   params: Sequence[str] = (), draw: str | None = None, seed: int | None = None,
                   ) -> tuple[Target | None, Flow | None]:
    """The single target the options describe, or the flow file; :class:`BadTarget` (``missing``) for neither.

    A target whose values come from data (``--data-file``, ``--param``, an ``{int:A..B}`` in it) is a
    one-step flow; ``draw`` and ``seed`` apply to every pool, the flow file's included.
    """
    from tracehound.flow import Flow
    from tracehound.params import DRAWS, file_pool, param_pool
    from tracehound.params.request import request_flow, varies
    from tracehound.probe import Target

    if draw is not None and draw not in DRAWS:
        raise BadData(f"--draw must be one of {', '.join(DRAWS)}, not {draw!r}")
    flow_obj = Flow.load(flow) if flow else None
    if flow_obj is None:
        if not url:
            raise BadTarget(missing)
        target = Target.parse(url, method, headers, data, json_body)
        pools = [file_pool(f) for f in data_files] + [param_pool(p) for p in params]
        if not varies(target, pools):
            return target, None
        flow_obj = request_flow(target, [p.with_options(draw, seed) for p in pools], json_body is not None)
    elif headers or data or json_body or method:
        raise BadTarget(FLOW_HOLDS_REQUESTS)
    elif data_files or params:
        raise BadData("with --flow, declare the data in the flow (data: customers.csv)")
    if draw is not None or seed is not None:
        flow_obj = replace(flow_obj, data=tuple(p.with_options(draw, seed) for p in flow_obj.data))
    return None, flow_obj


def duration_seconds(text: str) -> float:
    """A duration such as ``90s`` or ``2m``; a bare number is seconds."""
    from tracehound.probe import parse_duration

    return parse_duration(text if text[-1:].isalpha() else text + "s")


__all__ = ["DATA_HELP", "DRAW_HELP", "FLOW_HOLDS_REQUESTS", "PARAM_HELP", "duration_seconds", "target_or_flow"]
