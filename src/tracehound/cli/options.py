"""Parsing several commands share: a target from URL, method, headers and body, or a flow file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tracehound.errors import BadData, BadTarget

if TYPE_CHECKING:
    from tracehound.expect import Expectation
    from tracehound.flow import Flow
    from tracehound.probe import Target

FLOW_HOLDS_REQUESTS = "with --flow, put methods, headers and bodies in the flow's steps"
#: The help of ``--expect``, the same for every command that takes it.
EXPECT_HELP = ("What a right answer looks like (repeatable, all must hold): status=200[,201|2xx], keys=a,b, "
               "$.path (present, not empty), $.path=value, body~regex. An answer that misses one fails as "
               "wrong_body. With --flow, put expect: in the steps.")
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


def expect_option(texts: Sequence[str] | None, flow: Flow | None, flow_file: Path | None = None) -> Expectation | None:
    """``--expect`` parsed (:class:`~tracehound.errors.BadExpectation` for one that cannot be read).

    With a flow file the steps carry their own (``expect:``); a one-step flow made of a target with
    data (``--data-file``, ``--param``) takes ``--expect`` on its step, and None is returned.
    """
    from tracehound.expect import expectation

    if texts and flow is not None and (flow_file is not None or len(flow.steps) != 1):
        raise BadTarget("with --flow, put expect: in the flow's steps")
    exp = expectation(texts)
    if flow is not None and exp is not None:
        flow.steps[0].expect = exp
        return None
    return exp


def duration_seconds(text: str) -> float:
    """A duration such as ``90s`` or ``2m``; a bare number is seconds."""
    from tracehound.probe import parse_duration

    return parse_duration(text if text[-1:].isalpha() else text + "s")


__all__ = ["DATA_HELP", "DRAW_HELP", "EXPECT_HELP", "FLOW_HOLDS_REQUESTS", "PARAM_HELP", "duration_seconds",
           "expect_option", "target_or_flow"]
