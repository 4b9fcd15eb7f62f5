"""Specialist agents: async functions of (case, runs) → findings carrying signals.

An agent never names a cause, never prints, and never imports another agent or the catalog.
When its source is missing or it fails, the orchestrator shows it as ``skipped: why``.
"""

from tracehound.agents.base import AgentResult, Finding

__all__ = ["AgentResult", "Finding"]
