"""Arguments several tools share: their schema (type and description), and the request they describe."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from tracehound.mcp.limits import Limits

if TYPE_CHECKING:
    from tracehound.expect import Expectation
    from tracehound.flow import Flow
    from tracehound.probe import Target

Url = Annotated[str, Field(description="Absolute http(s) URL of the request that fails (with flow: the base URL).")]
Method = Annotated[str | None, Field(description="HTTP method; default GET, or POST when a body is given.")]
Headers = Annotated[dict[str, str] | None, Field(description="Request headers, name to value.")]
Body = Annotated[str | None, Field(description="Raw request body (text).")]
JsonBody = Annotated[Any, Field(description="A JSON request body (sets Content-Type: application/json).")]
FlowFile = Annotated[str | None, Field(description="Path of a flow file (YAML: setup and steps with captures); "
                                                   "url is then its base URL.")]
Timeout = Annotated[float, Field(ge=0.001, le=300, description="Per-request timeout in seconds.")]
Expect = Annotated[list[str] | None, Field(description=(
    "What a right answer looks like, all must hold: 'status=200' (or 200,201 or 2xx), 'keys=a,b' (top-level "
    "JSON keys), '$.path' (present, not empty), '$.path=value', 'body~regex'. An answer that misses one fails "
    "as wrong_body. Without it, answers whose body shape is a minority count as wrong_body. Not with flow "
    "(put expect: in its steps)."))]


def expectation_of(texts: list[str] | None, flow: str | None) -> Expectation | None:
    """The ``expect`` argument parsed; :class:`~tracehound.errors.BadExpectation` names the one that cannot be read."""
    from tracehound.errors import BadTarget
    from tracehound.expect import expectation

    if texts and flow is not None:
        raise BadTarget("with a flow, put expect: in the flow's steps")
    return expectation(texts, "expect")


def request_target(url: str, method: str | None, headers: Mapping[str, str] | None, body: str | None,
                   json_body: Any) -> Target:
    """The request to send, from JSON arguments (a body is the text given, never a file to read)."""
    from tracehound.errors import BadTarget
    from tracehound.probe import Target
    from tracehound.probe.target import parse_header

    hdrs = [parse_header(f"{k}: {v}") for k, v in (headers or {}).items()]
    raw: bytes | None = None
    if body is not None and json_body is not None:
        raise BadTarget("give body or json_body, not both")
    if json_body is not None:
        raw = json.dumps(json_body, separators=(",", ":")).encode()
        if not any(k.lower() == "content-type" for k, _ in hdrs):
            hdrs.append(("Content-Type", "application/json"))
    elif body is not None:
        raw = body.encode()
    try:
        for k, v in hdrs:
            f"{k}: {v}".encode("latin-1")
    except UnicodeEncodeError:
        raise BadTarget("header values must be latin-1 text") from None
    return Target(url, method or ("POST" if raw is not None else "GET"), tuple(hdrs), raw)


def case_target(limits: Limits, url: str, method: str | None, headers: Mapping[str, str] | None,
                body: str | None, json_body: Any, flow: str | None) -> tuple[Target | None, Flow | None]:
    """The request, or the flow file's flow, that load goes to; refused when its hosts are beyond ``limits``."""
    from tracehound.errors import BadTarget
    from tracehound.flow import Flow

    if flow is None:
        limits.check_url(url)
        return request_target(url, method, headers, body, json_body), None
    if method or headers or body is not None or json_body is not None:
        raise BadTarget("with a flow, put methods, headers and bodies in the flow's steps")
    flow_obj = Flow.load(flow)
    limits.check_url(url or flow_obj.base_url or "")
    limits.check_flow(flow_obj)
    return None, flow_obj
