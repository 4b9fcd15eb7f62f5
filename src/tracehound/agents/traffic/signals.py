"""The signals the traffic analysis may emit (their descriptions: :mod:`tracehound.diagnosis.signals`)."""

from __future__ import annotations

NAME = "traffic"
#: Statuses whose share of the failures becomes a ``status_NNN`` signal.
STATUS_SIGNALS = (401, 403, 404, 409, 429, 500, 502, 503, 504)
#: Server-Timing phase roles and the signal each one's growth emits.
SERVER_TIMING_SIGNALS = {"pool": "server_timing_pool_wait_grows", "loop": "server_timing_loop_lag_grows",
                         "db": "server_timing_db_grows"}

SIGNALS: tuple[str, ...] = (
    # What the failures are
    *(f"status_{s}" for s in STATUS_SIGNALS),
    "client_timeouts", "connection_errors", "retry_after_header", "failures_are_wrong_bodies",
    "failures_are_error_bodies",
    # Latency
    "failure_latency_plateau", "failures_fast", "slow_when_sequential", "latency_varies_by_request",
    "latency_scales_with_body_size",
    # The service's own Server-Timing header
    *SERVER_TIMING_SIGNALS.values(),
    # Load dependence
    "failures_rise_with_concurrency", "latency_rises_with_concurrency", "failures_absent_when_sequential",
    "failures_present_when_sequential", "failures_fall_with_concurrency", "throughput_flat_under_concurrency",
    # Time structure
    "failures_periodic", "failures_bursty", "failures_uniform", "failures_start_after_elapsed_time",
    "failures_grow_over_time", "failures_vanish_with_fresh_login", "failures_persist_after_load",
    # Connections, what the failures share, what the answers hold
    "reset_on_reused_connection", "failures_after_idle_gap", "failures_concentrated_on_attribute",
    "failures_on_one_server", "ok_status_body_anomaly", "minority_body_shape_rises_with_concurrency",
    # Which values of the data the failures follow
    "failures_follow_parameter_value",
    # Experiments with pauses, and the canary
    "failures_vanish_with_delay", "read_after_write_miss", "unrelated_endpoint_slows_under_load",
    "unrelated_endpoint_fails_under_load",
    # Where failures begin, and the variants: fresh connections, another client timeout, bursts
    "failures_begin_at_fixed_concurrency", "failures_need_reused_connection", "failures_persist_on_fresh_connections",
    "failures_follow_client_timeout", "slow_not_stuck", "failure_latency_fixed_by_server", "failures_follow_bursts",
    # One at a time, back to back against slowly
    "failures_follow_request_rate",
)

__all__ = ["NAME", "SERVER_TIMING_SIGNALS", "SIGNALS", "STATUS_SIGNALS"]
