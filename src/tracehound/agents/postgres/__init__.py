"""The PostgreSQL agent: what the database was doing while the experiments ran.

The sampling itself is :class:`tracehound.sources.postgres.PostgresSampler`; here its recording
is lined up with the probed requests (:func:`analyze_postgres`) and becomes findings carrying
``pg:`` signals (:mod:`~tracehound.agents.postgres.signals`).
"""

from tracehound.agents.postgres.findings import analyze_postgres
from tracehound.agents.postgres.inspector import inspect_postgres, postgres_agent
from tracehound.agents.postgres.signals import NAME, SIGNALS, TIMELESS
from tracehound.agents.postgres.statements import StatementFigures
from tracehound.agents.postgres.view import PostgresAnalysis
from tracehound.sources.postgres import PostgresSampler, connect_error

__all__ = ["NAME", "SIGNALS", "TIMELESS", "PostgresAnalysis", "PostgresSampler", "StatementFigures",
           "analyze_postgres", "connect_error", "inspect_postgres", "postgres_agent"]
