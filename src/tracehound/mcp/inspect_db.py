"""The ``inspect_db`` tool: a PostgreSQL or Redis server, sampled read-only for a while."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from tracehound.errors import BadShape
from tracehound.limits import MAX_INTERVAL_S, MIN_INTERVAL_S
from tracehound.mcp.results import result
from tracehound.mcp.toolbox import Toolbox
from tracehound.redact import redact_text


def register(box: Toolbox) -> None:
    """Add the ``inspect_db`` tool to ``box``'s server."""
    limits = box.limits

    @box.tool(ToolAnnotations(read_only_hint=True, open_world_hint=True))
    async def inspect_db(
        dsn: Annotated[str, Field(description="postgresql://user:password@host:port/db or "
                                              "redis://[:password@]host:port/db.")],
        duration_s: Annotated[float, Field(gt=0, description="Seconds to sample for (the server's cap "
                                                             "applies).")] = 10.0,
        interval_s: Annotated[float, Field(ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S,
                                           description="Seconds between samples.")] = 0.5,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Sample a PostgreSQL or Redis server for a while (read-only) and report what it shows.

        Pools, waits, locks, long queries, idle-in-transaction sessions (PostgreSQL); memory,
        evictions, blocked clients, latency (Redis); as findings with their signals.
        """
        def work() -> CallToolResult:
            if duration_s > limits.max_sample_s:
                raise BadShape(f"sampling {duration_s:g} s is beyond this server's cap of {limits.max_sample_s:g} s",
                               hint="the person running `tracehound mcp` can raise --max-sample")
            from tracehound.inspection import inspect_db, is_redis_url

            limits.check_source(dsn, "Redis" if is_redis_url(dsn) else "databases")
            res = inspect_db(dsn, duration_s, interval_s)
            lines = [f"inspect_db: {res.name}: {res.status}: {res.detail}"]
            lines += [f"- {f.title}" for f in res.findings[:8]]
            return result(redact_text("\n".join(lines)), res.to_dict())

        return await box.worker.run(work)
