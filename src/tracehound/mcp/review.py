"""The ``review`` tool: what in a Python web backend's code fails under load."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from tracehound.mcp.results import result
from tracehound.mcp.toolbox import READ, Toolbox


def register(box: Toolbox) -> None:
    """Add the ``review`` tool to ``box``'s server."""
    @box.tool(READ)
    async def review(
        path: Annotated[str, Field(description="The service's code: a folder or one Python file.")],
        select: Annotated[list[str] | None, Field(description="Only these rule codes, e.g. ['TH101'].")] = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Review a Python web backend's code for what fails under load (pools, blocking calls, N+1 …).

        Returns every finding with its rule, place, message, the routes it is on and its signal.
        """
        from tracehound.review import review as run_review

        def work() -> CallToolResult:
            res = run_review(path, select or None)
            d = res.to_dict()
            counts: dict[str, int] = {}
            for v in res.violations:
                counts[v.code] = counts.get(v.code, 0) + 1
            head = (f"review: {len(res.violations)} finding(s) in {res.files} file(s)"
                    + (": " + ", ".join(f"{c}×{n}" for c, n in sorted(counts.items())) if counts else "") + ".")
            lines = [head] + [f"- {v.location()} {v.code} {v.message}" for v in res.violations[:10]]
            return result("\n".join(lines), d)

        return await box.worker.run(work)
