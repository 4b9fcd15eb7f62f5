"""What every tool is registered with: the server, its limits, where runs go, and the worker that runs it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from tracehound.mcp.limits import Limits
from tracehound.mcp.worker import Worker

F = TypeVar("F", bound=Callable[..., Any])

#: A tool that only reads (runs, logs, code, the catalog).
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
#: A tool that sends load to a service.
LOAD = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


@dataclass(frozen=True)
class Toolbox:
    """The server tools register on, bounded by ``limits``; new runs go under ``root``."""

    server: MCPServer
    limits: Limits
    root: Path
    worker: Worker

    def tool(self, annotations: ToolAnnotations) -> Callable[[F], F]:
        """Register a tool; its docstring, dedented, is the description the assistant reads."""
        def register(fn: F) -> F:
            self.server.add_tool(fn, description=inspect.cleandoc(fn.__doc__ or ""), annotations=annotations)
            return fn

        return register
