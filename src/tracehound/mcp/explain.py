"""The ``explain`` tool: a failure mode from the catalog, or the list of them all."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import Field

from tracehound.mcp.results import result
from tracehound.mcp.toolbox import READ, Toolbox


def register(box: Toolbox) -> None:
    """Add the ``explain`` tool to ``box``'s server."""
    @box.tool(READ)
    async def explain(
        failure_mode: Annotated[str | None, Field(description="A failure-mode id, e.g. db_pool_exhaustion; "
                                                              "omit to list them all.")] = None,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Explain a failure mode: what it is, the evidence for and against it, fixes, checks, references.

        Without an id: every failure mode the catalog knows, with its title.
        """
        from tracehound.diagnosis.catalog import get, load_catalog

        def work() -> CallToolResult:
            catalog = load_catalog()
            if failure_mode is None:
                modes = [{"id": m.id, "title": m.title, "prior": m.prior} for m in catalog.values()]
                text = "\n".join(f"{m['id']}: {m['title']}" for m in modes)
                return result(text, {"failure_modes": modes})
            mode = get(failure_mode, catalog)
            return result(mode.to_markdown(), mode.to_dict())

        return await box.worker.run(work)
