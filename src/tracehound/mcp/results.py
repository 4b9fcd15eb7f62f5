"""What a tool answers: a short text for the assistant to read, and the same facts as structured data."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mcp.types import CallToolResult, TextContent

from tracehound.redact import redact_json, redact_text


def jsonable(data: Any) -> Any:
    """Plain JSON values only (NumPy scalars, paths and times as numbers and strings)."""
    def default(o: Any) -> Any:
        if hasattr(o, "item"):
            return o.item()
        return str(o)

    return json.loads(json.dumps(data, default=default))


def result(text: str, data: Mapping[str, Any]) -> CallToolResult:
    """A tool's answer: ``text`` for reading, ``data`` as its structured content; both redacted, the one way
    everything tracehound writes is (:mod:`tracehound.redact`)."""
    return CallToolResult(content=[TextContent(type="text", text=redact_text(text))],
                          structured_content=redact_json(jsonable(dict(data))))


def ms(v: float | None) -> str:
    """A latency for reading: milliseconds, or seconds from one second up."""
    return "-" if v is None else (f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms")


def pct(x: float) -> str:
    """A fraction as a percentage with one decimal."""
    return f"{100 * x:.1f}%"
