"""The Prometheus metrics of one instrumented app, in a registry of its own.

A registry per app (not prometheus-client's global one) lets two instrumented apps live in one
process, as tests and multi-app servers do. The pool's state and the recent loop lag are read
when scraped (a collector), so the request path only pays for counters and histograms.

Names (all in seconds or counts)::

    tracehound_http_requests_total{status}             requests answered (request_metrics=True)
    tracehound_http_request_duration_seconds           time to the response's headers (idem)
    tracehound_http_requests_in_progress               requests being handled now (idem)
    tracehound_db_pool_checkout_wait_seconds{pool}     waiting for a pooled connection
    tracehound_db_pool_checkout_timeouts_total{pool}   checkouts that gave up (QueuePool's TimeoutError)
    tracehound_db_pool_checked_out_connections{pool}   connections handed out now
    tracehound_db_pool_waiting_requests{pool}          callers waiting for one now
    tracehound_db_pool_size_connections{pool}          the pool's size (QueuePool)
    tracehound_db_pool_max_connections{pool}           size + max_overflow (QueuePool)
    tracehound_db_pool_overflow_connections{pool}      overflow connections open now
    tracehound_db_pool_connections_opened_total{pool}  new DBAPI connections
    tracehound_db_pool_invalidations_total{pool}       connections discarded as broken
    tracehound_db_query_duration_seconds{pool}         cursor executes
    tracehound_event_loop_lag_seconds                  how late each tick of the lag monitor woke
    tracehound_event_loop_lag_max_seconds              the largest lag of the last second
    process_*                                          CPU, memory, file descriptors (Linux)
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

try:
    from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )
    from prometheus_client.process_collector import ProcessCollector
except ImportError as e:  # pragma: no cover - the instrument extra brings it
    raise ImportError("tracehound.instrument needs prometheus-client: pip install 'tracehound[instrument]'") from e

_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LAG = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Every metric of one instrumented app, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None, requests: bool = False) -> None:
        r = self.registry = registry if registry is not None else CollectorRegistry()
        ProcessCollector(registry=r)
        #: Request counts and durations, when asked for (None: the middleware skips them).
        self.http = HttpTally(_SECONDS) if requests else None
        self.pool_wait = Histogram("tracehound_db_pool_checkout_wait_seconds",
                                   "Time spent getting a connection from the pool (waiting, or opening one).",
                                   ["pool"], buckets=_SECONDS, registry=r)
        self.pool_timeouts = Counter("tracehound_db_pool_checkout_timeouts",
                                     "Checkouts that gave up waiting for a pooled connection.", ["pool"], registry=r)
        self.pool_connects = Counter("tracehound_db_pool_connections_opened",
                                     "New database connections opened by the pool.", ["pool"], registry=r)
        self.pool_invalidations = Counter("tracehound_db_pool_invalidations",
                                          "Pooled connections discarded as broken.", ["pool"], registry=r)
        self.db_seconds = Histogram("tracehound_db_query_duration_seconds", "Time inside cursor executes.", ["pool"],
                                    buckets=_SECONDS, registry=r)
        self.loop_lag: Histogram | None = None
        self._pools: list[Any] = []
        self._loop_recent: Callable[[], float] | None = None
        r.register(_StateCollector(self))

    def add_pool(self, watch: Any) -> None:
        self._pools.append(watch)

    def watch_loop(self, monitor: Any) -> None:
        """Expose an event-loop monitor's lag (only apps on an event loop have one)."""
        self.loop_lag = Histogram("tracehound_event_loop_lag_seconds",
                                  "How late the lag monitor's sleeping task woke up, per tick.", buckets=_LAG,
                                  registry=self.registry)
        monitor.observe = self.loop_lag.observe
        self._loop_recent = monitor.recent_max

    def text(self) -> bytes:
        """The exposition text of every metric."""
        return generate_latest(self.registry)

    content_type = CONTENT_TYPE


class HttpTally:
    """Requests answered, by status, and their time to the response's headers, exported when scraped.

    prometheus-client's counter and histogram cost a few microseconds per request each, several
    per cent of a trivial endpoint's time; a lock and a few integer additions cost far less.
    """

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self._lock = threading.Lock()
        self._by_status = [0] * 1000  # by status code: an index is cheaper than a dict update
        self._counts = [0] * (len(buckets) + 1)
        self._sum = 0.0
        #: Requests begun and not yet done; the ASGI middleware, on the loop's one thread, adds to it directly.
        self.in_flight = 0

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1

    def done(self, status: int, seconds: float) -> None:
        """A request answered (from any thread)."""
        with self._lock:
            self.done_on_loop(status, seconds)

    def done_on_loop(self, status: int, seconds: float) -> None:
        """A request answered, from the one thread every request of an ASGI app ends on (no lock)."""
        self.in_flight -= 1
        try:
            self._by_status[status] += 1
        except (IndexError, TypeError):
            self._by_status[0] += 1
        self._counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self._sum += seconds

    def families(self) -> list[Any]:
        with self._lock:
            by_status = {code: n for code, n in enumerate(self._by_status) if n}
            counts, total, busy = list(self._counts), self._sum, self.in_flight
        requests = CounterMetricFamily("tracehound_http_requests", "HTTP requests answered, by status.",
                                       labels=["status"])
        for status, n in sorted(by_status.items()):
            requests.add_metric([str(status)], n)
        cumulative = list(itertools.accumulate(counts))
        buckets = [(repr(float(b)), c) for b, c in zip(self.buckets, cumulative[:-1], strict=True)]
        buckets.append(("+Inf", cumulative[-1]))
        duration = HistogramMetricFamily("tracehound_http_request_duration_seconds",
                                         "Time from receiving a request to sending its response headers.",
                                         buckets=buckets, sum_value=total)
        progress = GaugeMetricFamily("tracehound_http_requests_in_progress", "HTTP requests being handled.", value=busy)
        return [requests, duration, progress]


class _StateCollector:
    """Gauges read at scrape time: the pools' state and the recent loop lag."""

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        if self._m.http is not None:
            yield from self._m.http.families()
        pools = [(w.name, w.state()) for w in self._m._pools]
        if pools:
            families = {
                "checked_out": GaugeMetricFamily("tracehound_db_pool_checked_out_connections",
                                                 "Connections checked out of the pool now.", labels=["pool"]),
                "waiting": GaugeMetricFamily("tracehound_db_pool_waiting_requests",
                                             "Callers waiting for a pooled connection now.", labels=["pool"]),
                "size": GaugeMetricFamily("tracehound_db_pool_size_connections", "The pool's size.", labels=["pool"]),
                "max": GaugeMetricFamily("tracehound_db_pool_max_connections",
                                         "The most connections the pool opens (size + max_overflow).", labels=["pool"]),
                "overflow": GaugeMetricFamily("tracehound_db_pool_overflow_connections",
                                              "Connections open beyond the pool's size now.", labels=["pool"]),
            }
            for name, st in pools:
                for key, fam in families.items():
                    v = getattr(st, key)
                    if v is not None:
                        fam.add_metric([name], float(v))
            yield from (f for f in families.values() if f.samples)
        if self._m._loop_recent is not None:
            g = GaugeMetricFamily("tracehound_event_loop_lag_max_seconds",
                                  "The largest event-loop lag of the last second.")
            g.add_metric([], self._m._loop_recent())
            yield g
