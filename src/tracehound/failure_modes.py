"""The stable vocabulary of failure-mode ids shared by the catalog, the lab and reports.

New ids may be added; these keep their names. ``none`` means nothing failed.
"""

from __future__ import annotations

FAILURE_MODES: tuple[str, ...] = (
    "db_pool_exhaustion",
    "connection_leak",
    "stale_connection",
    "slow_query",
    "n_plus_one",
    "lock_contention",
    "event_loop_blocking",
    "auth_token_expiry",
    "rate_limiting",
    "race_condition",
    "read_after_write",
    "cache_failure",
    "upstream_timeout",
    "keepalive_mismatch",
    "bad_instance",
    "worker_crash",
)

NONE = "none"

__all__ = ["FAILURE_MODES", "NONE"]
