"""The ``pg:`` signals the PostgreSQL agent may emit, declared and registered here."""

from __future__ import annotations

from tracehound.diagnosis.signals import register

NAME = "postgres"

SIGNALS = {
    "pg:connections_near_max": "the server's connections came close to max_connections (less the reserved slots)",
    "pg:idle_in_transaction":
        "sessions sat idle inside an open transaction (the application held it while doing other work)",
    "pg:open_transactions_accumulate":
        "sessions idle in transaction for seconds pile up and outlive the load (never committed or closed)",
    "pg:blocked_sessions": "sessions waited on locks held by other sessions (pg_blocking_pids)",
    "pg:deadlocks": "PostgreSQL detected deadlocks while sampling",
    "pg:statement_calls_per_request_high": "one statement ran many times per probed request (pg_stat_statements)",
    "pg:statement_slow": "a statement took long on average or at its worst while sampling (pg_stat_statements)",
    "pg:temp_files": "queries spilled sorts or hashes to temporary files while sampling",
    "pg:idle_session_timeout_set":
        "idle_session_timeout is set: the server ends sessions that sit idle, pooled ones included",
    "pg:idle_in_transaction_timeout_set":
        "idle_in_transaction_session_timeout is set: the server ends sessions idle in a transaction",
    "pg:statement_timeout_set": "statement_timeout is set: the server cancels statements that run longer",
    "pg:lock_timeout_set": "lock_timeout is set: the server cancels statements that wait longer for a lock",
    "pg:replication_lag": "a replica trails the primary (replay lag)",
    "pg:sessions_terminated":
        "the server ended sessions with a fatal error or on request while sampling (pg_stat_database)",
    "pg:sessions_abandoned": "clients vanished without closing their sessions while sampling (pg_stat_database)",
    "pg:unavailable_during_run": "the inspector's own connection to PostgreSQL failed while the experiments ran",
}
for _name, _desc in SIGNALS.items():
    register(_name, _desc, NAME)

#: Signals that hold whenever they are read: a snapshot taken after the requests still tests them.
TIMELESS = ("pg:idle_session_timeout_set", "pg:idle_in_transaction_timeout_set", "pg:statement_timeout_set",
            "pg:lock_timeout_set")

__all__ = ["NAME", "SIGNALS", "TIMELESS"]
