"""The ``metrics:`` signals the metrics agents (a scraped endpoint, a Prometheus server) may emit."""

from __future__ import annotations

from tracehound.diagnosis.signals import register

NAME = "metrics"

SIGNALS = {
    "metrics:pool_saturated_with_failures":
        "the service's database pool was at its limit (all connections checked out, callers waiting) while requests "
        "failed",
    "metrics:pool_wait_grows_with_failures": "the time to get a pooled database connection grew while requests failed",
    "metrics:pool_checkout_timeouts":
        "the service's database pool counted checkouts that gave up waiting for a connection",
    "metrics:pool_checked_out_after_load": "pooled connections stayed checked out after the load had stopped",
    "metrics:pool_invalidations": "the service's pool discarded connections as broken while the experiments ran",
    "metrics:loop_lag_with_failures":
        "the service's event loop lagged (something blocked its thread) while requests failed",
    "metrics:cpu_saturated": "the service's process used a whole core while requests failed",
    "metrics:memory_grows": "the service's resident memory grew steadily over the experiments",
}
for _name, _desc in SIGNALS.items():
    register(_name, _desc, NAME)

__all__ = ["NAME", "SIGNALS"]
