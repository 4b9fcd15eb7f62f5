"""Parsing several commands share: a target from URL, method, headers and body, or a flow file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tracehound.errors import BadTarget

if TYPE_CHECKING:
    from tracehound.expect import Expectation
    from tracehound.flow import Flow
    from tracehound.probe import Target

FLOW_HOLDS_REQUESTS = "with --flow, put methods, headers and bodies in the flow's steps"
#: The help of ``--expect``, the same for every command that takes it.
EXPECT_HELP = ("What a right answer looks like (repeatable, all must hold): status=200[,201|2xx], keys=a,b, "
               "$.path (present, not empty), $.path=value, body~regex. An answer that misses one fails as "
               "wrong_body. With --flow, put expect: in the steps.")


def target_or_flow(url: str | None, method: str | None, headers: Sequence[str], data: str | None,
                   json_body: str | None, flow: Path | None, missing: str) -> tuple[Target | None, Flow | None]:
    """The single target the options describe, or the flow file; :class:`BadTarget` (``missing``) for neither."""
    from tracehound.flow import Flow
    from tracehound.probe import Target

    flow_obj = Flow.load(flow) if flow else None
    if flow_obj is None:
        if not url:
            raise BadTarget(missing)
        return Target.parse(url, method, headers, data, json_body), None
    if headers or data or json_body or method:
        raise BadTarget(FLOW_HOLDS_REQUESTS)
    return None, flow_obj


def expect_option(texts: Sequence[str] | None, flow: Flow | None) -> Expectation | None:
    """``--expect`` parsed (:class:`~tracehound.errors.BadExpectation` for one that cannot be read)."""
    from tracehound.expect import expectation

    if texts and flow is not None:
        raise BadTarget("with --flow, put expect: in the flow's steps")
    return expectation(texts)


def duration_seconds(text: str) -> float:
    """A duration such as ``90s`` or ``2m``; a bare number is seconds."""
    from tracehound.probe import parse_duration

    return parse_duration(text if text[-1:].isalpha() else text + "s")


__all__ = ["EXPECT_HELP", "FLOW_HOLDS_REQUESTS", "duration_seconds", "expect_option", "target_or_flow"]
