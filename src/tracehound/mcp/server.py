"""The MCP server: tracehound's tools registered on one :class:`MCPServer`, served over stdio."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import ValidationError

from tracehound import __version__
from tracehound.mcp.analyze import register as register_analyze_run
from tracehound.mcp.explain import register as register_explain
from tracehound.mcp.inspect_db import register as register_inspect_db
from tracehound.mcp.investigate import register as register_investigate
from tracehound.mcp.limits import Limits
from tracehound.mcp.logs import register as register_logs
from tracehound.mcp.probe import register as register_probe
from tracehound.mcp.review import register as register_review
from tracehound.mcp.toolbox import Toolbox
from tracehound.mcp.verify import register as register_verify
from tracehound.mcp.worker import Worker
from tracehound.probe.run import RUNS_DIR

INSTRUCTIONS = """\
tracehound reproduces and diagnoses intermittent failures of web APIs.
Start with `investigate` on the failing request: it runs bounded experiments, analyses every
request, reads any logs/db/redis/code given, and ranks failure modes with evidence for and
against. `probe` sends one bounded load and records every request; `analyze_run` reads a run's
records; `logs`, `review` and `inspect_db` read the service's logs, code and PostgreSQL/Redis;
`explain` describes a failure mode (its fixes and checks); `verify` reruns what failed (or
compares two runs) against an SLO once a fix is in. Load is capped by the server's limits.
"""

#: The tools, in the order an assistant lists them: each module's ``register`` adds its tool.
TOOLS: tuple[Callable[[Toolbox], None], ...] = (
    register_probe,
    register_analyze_run,
    register_investigate,
    register_logs,
    register_review,
    register_inspect_db,
    register_explain,
    register_verify,
)


def one_line(e: ValidationError) -> str:
    """Pydantic's argument errors as one line: ``where: what`` for each, joined by semicolons."""
    parts = []
    for err in e.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


class Server(MCPServer):
    """MCPServer whose argument errors read as one line, like every other error a caller can cause."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as e:
            if isinstance(e, UnexpectedToolError) or not isinstance(e.__cause__, ValidationError):
                raise
            raise ToolError(f"Error executing tool {name}: bad arguments: {one_line(e.__cause__)}") from None


def build_server(limits: Limits | None = None, runs_dir: str | Path | None = None) -> MCPServer:
    """The MCP server with tracehound's eight tools, bounded by ``limits``; runs go under ``runs_dir``."""
    limits = limits or Limits()
    root = (Path(runs_dir) if runs_dir is not None else RUNS_DIR).resolve()
    where = (f"Relative paths are read from {Path.cwd()}; new runs and investigations go under {root}. "
             f"Limits: {json.dumps(limits.to_dict())}.")
    server = Server("tracehound", instructions=INSTRUCTIONS + where, version=__version__, log_level="WARNING")
    box = Toolbox(server, limits, root, Worker())
    for register in TOOLS:
        register(box)
    return server


def serve(limits: Limits | None = None, runs_dir: str | Path | None = None,
          transport: Literal["stdio"] = "stdio") -> None:
    """Serve until the client closes stdin."""
    build_server(limits, runs_dir).run(transport)
