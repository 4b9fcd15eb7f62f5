"""Specialist agents: async functions of (case, runs) → findings carrying signals.

An agent never names a cause, never prints, and never imports another agent or the catalog.
When its source is missing or it fails, the orchestrator shows it as ``skipped: why``.
"""

import importlib
import pkgutil

from tracehound.agents.base import AgentResult, Finding


def import_all() -> None:
    """Import every agent module, so that every namespaced signal (``log:``, ``pg:`` …) is registered."""
    for mod in pkgutil.iter_modules(__path__, __name__ + "."):
        importlib.import_module(mod.name)


__all__ = ["AgentResult", "Finding", "import_all"]
