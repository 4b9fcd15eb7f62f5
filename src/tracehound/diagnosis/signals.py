"""The signal registry: every observation an agent may emit, by name, in one place.

Signals are the seam between agents and the catalog. An agent says *what it saw*
(``failures_rise_with_concurrency``, strength 0.8, with exemplars); only the catalog says what
that means for each failure mode. A signal emitted under a name not registered here is a bug
(:func:`signal` raises), and so is a catalog entry naming one (a test checks).

Strength is in [0, 1]: how clearly the observation holds (1 = unmistakable). Signals of the
log, database, Redis and code agents are namespaced (``log:``, ``pg:``, ``redis:``, ``code:``)
and registered by those agents through :func:`register`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SignalDef:
    name: str
    description: str
    #: Which agent family emits it: traffic, experiments, logs, postgres, redis, code, browser, har, metrics.
    source: str


@dataclass
class Signal:
    """One observation: a registered name, how strongly it holds, and what shows it."""

    name: str
    strength: float
    detail: str = ""
    exemplars: list[str] = field(default_factory=list)
    #: The measured quantity behind it, when there is one (a plateau's seconds, a ratio …).
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "strength": round(self.strength, 3), "detail": self.detail,
                "exemplars": self.exemplars[:5], "value": self.value}


REGISTRY: dict[str, SignalDef] = {}

#: The suffix of a signal's twin that says its events line up with the failing requests, by count
#: or in time (``log:pool_checkout_timeout@failures``): stronger evidence than the events alone,
#: weighed by the scorer as a share of the signal's own weight unless an entry weighs it itself.
LINED_UP = "@failures"


def lined_up(name: str) -> str:
    """The name of ``name``'s lined-up twin (:data:`LINED_UP`)."""
    return name + LINED_UP


def register(name: str, description: str, source: str) -> None:
    if name in REGISTRY and REGISTRY[name].source != source:
        raise ValueError(f"signal {name!r} is already registered by {REGISTRY[name].source}")
    REGISTRY[name] = SignalDef(name, description, source)


def signal(name: str, strength: float, detail: str = "", exemplars: list[str] | None = None,
           value: float | None = None) -> Signal:
    """A :class:`Signal`, checked against the registry; strength is clipped to [0, 1]."""
    if name not in REGISTRY:
        raise KeyError(f"unregistered signal {name!r}: add it to tracehound.diagnosis.signals")
    return Signal(name, max(0.0, min(1.0, float(strength))), detail, list(exemplars or []), value)


_TRAFFIC = {
    # Load dependence
    "failures_rise_with_concurrency": "the failure rate grows with the number of requests in flight",
    "failures_absent_when_sequential": "one request at a time never fails",
    "failures_present_when_sequential": "requests fail even one at a time, with no concurrency",
    "failures_fall_with_concurrency": "requests sent one at a time fail at least twice as often as requests sent with "
                                      "others in flight: the failure needs a quiet service, not a busy one",
    "latency_rises_with_concurrency": "success latency grows in proportion to the requests in flight (work is "
                                      "serialised)",
    "throughput_flat_under_concurrency": "more concurrent users bring no more completed requests per second",
    "unrelated_endpoint_slows_under_load": "a cheap endpoint the load does not touch gets slow while the target is "
                                           "loaded",
    "unrelated_endpoint_fails_under_load": "a cheap endpoint the load does not touch fails while the target is loaded",
    # Latency structure
    "failure_latency_plateau": "failures pile up at one duration: some layer's timeout fired",
    "failures_fast": "failures come back much faster than successes (refused before doing the work)",
    "slow_when_sequential": "the target is slow even alone (hundreds of ms or more per request)",
    "latency_varies_by_request": "one request of the flow or one path is far slower than the others",
    "latency_scales_with_body_size": "responses take longer the larger they are (work per item returned)",
    # Time structure
    "failures_after_idle_gap": "requests after a pause fail, requests in steady traffic do not",
    "failures_start_after_elapsed_time": "no failures at first, then failures after a fixed time",
    "failures_grow_over_time": "the failure rate climbs over the run",
    "failures_persist_after_load": "once failing, the service keeps failing at low load",
    "failures_periodic": "every k-th request fails, as behind a round-robin balancer",
    "failures_bursty": "failures come in bursts separated by calm stretches",
    "failures_uniform": "failures are spread evenly over time, independent of load",
    # What the failures are
    "status_401": "failures are 401 Unauthorized",
    "status_403": "failures are 403 Forbidden",
    "status_404": "failures are 404 Not Found",
    "status_409": "failures are 409 Conflict",
    "status_429": "failures are 429 Too Many Requests",
    "status_500": "failures are 500 Internal Server Error",
    "status_502": "failures are 502 Bad Gateway",
    "status_503": "failures are 503 Service Unavailable",
    "status_504": "failures are 504 Gateway Timeout",
    "retry_after_header": "failing responses carry Retry-After or rate-limit headers",
    "failures_are_wrong_bodies": "failures are 2xx answers with a wrong body (a minority shape, a missed expectation "
                                 "or a capture that found nothing), not errors",
    "failures_are_error_bodies": "failures are 2xx answers whose body says the request failed (ok: false, an error "
                                 "field), where other answers to the same request do not",
    "client_timeouts": "requests hit the client's timeout with no answer",
    "reset_on_reused_connection": "resets and closed connections hit reused keep-alive connections, not new ones",
    "connection_errors": "requests fail at the connection level (reset, refused, closed early)",
    "failures_on_one_server": "failures come from one of several backends (a response header or body differs)",
    "failures_concentrated_on_attribute": "failures concentrate on one value of a request attribute (path, step, "
                                          "server)",
    "failures_follow_parameter_value": "failures follow a few values of the request's data (some ids of a data file "
                                       "fail every time, the others succeed)",
    "ok_status_body_anomaly": "some 2xx responses have a body whose size, hash or JSON shape departs from the majority",
    "minority_body_shape_rises_with_concurrency": "2xx answers with a minority body shape (empty, other keys, far "
                                                  "off in size) grow more common with the requests in flight",
    "read_after_write_miss": "a read right after a write misses what was written; a short delay makes it succeed",
    "failures_vanish_with_delay": "pausing between dependent requests removes the failures",
    "failures_vanish_with_fresh_login": "the same requests succeed again with fresh credentials",
    # Experiments that vary one condition (tracehound.plan.shapes)
    "failures_begin_at_fixed_concurrency": "failures begin at one concurrency level, held below it: a pool or worker "
                                           "count reached",
    "failures_need_reused_connection": "the same load fails on reused keep-alive connections and not with a new "
                                       "connection per request",
    "failures_persist_on_fresh_connections": "the same load fails as often with a new connection per request as on "
                                             "reused connections",
    "failures_follow_client_timeout": "failures are our client timeouts whatever timeout we give: the requests hang",
    "slow_not_stuck": "requests that hit a short client timeout succeed when the client waits longer",
    "failure_latency_fixed_by_server": "the service (or its gateway) ends failing requests at one latency of its own, "
                                       "whatever our timeout",
    "failures_follow_request_rate": "requests sent one at a time fail when sent back to back and far less when "
                                    "sent a few a second: the failures follow the pace of the requests",
    "failures_follow_bursts": "the same mean arrival rate fails more when sent in bursts than when sent steadily",
    # The service's own Server-Timing header
    "server_timing_pool_wait_grows": "the service's Server-Timing shows the wait for a pooled connection growing in "
                                     "failing or slow requests",
    "server_timing_loop_lag_grows": "the service's Server-Timing shows event-loop lag growing in failing or slow "
                                    "requests",
    "server_timing_db_grows": "the service's Server-Timing shows time in database statements growing in failing or "
                              "slow requests",
}

for _name, _desc in _TRAFFIC.items():
    register(_name, _desc, "traffic")

__all__ = ["REGISTRY", "Signal", "SignalDef", "register", "signal"]
