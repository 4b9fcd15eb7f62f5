"""Specialist agents: async functions of (case, runs) → findings carrying signals.

An agent never names a cause, never prints, and never imports another agent or the catalog.
Every agent is declared once in :mod:`tracehound.agents.registry` (its flag, its source, the
signals it may emit); :func:`tracehound.agents.run.run_agents` runs them all, and one that cannot
run shows as ``skipped: why`` or ``failed: why``.
"""

import importlib

from tracehound.agents.base import Agent, AgentContext, AgentResult, Analysis, Finding, RecordedRun


def import_all() -> None:
    """Import every registered agent, so that every namespaced signal (``log:``, ``pg:`` …) is registered."""
    importlib.import_module("tracehound.agents.registry")


__all__ = ["Agent", "AgentContext", "AgentResult", "Analysis", "Finding", "RecordedRun", "import_all"]
