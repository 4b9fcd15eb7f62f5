"""The metrics agent: the service's own Prometheus metrics, read while the experiments ran.

The series come from :class:`tracehound.sources.metrics.MetricsSampler` (a ``/metrics`` endpoint
scraped during the experiments) or from :func:`tracehound.sources.prometheus.query_prometheus`
(a Prometheus server's stored series over the same window); which series mean what is
:mod:`tracehound.sources.metric_roles`. :func:`analyze_metrics` lines them up with the requests.
"""

from tracehound.agents.metrics.agent import inspect_metrics, metrics_agent, metrics_result
from tracehound.agents.metrics.analysis import analyze_metrics
from tracehound.agents.metrics.prometheus import PROMETHEUS_SETTLE_S, prometheus_agent, prometheus_stored
from tracehound.agents.metrics.signals import NAME, SIGNALS
from tracehound.agents.metrics.timeline import Timeline
from tracehound.agents.metrics.view import MetricsAnalysis
from tracehound.sources.metric_roles import metric_role, read_families
from tracehound.sources.metrics import MetricsSampler, NotPrometheus, connect_error, parse_text
from tracehound.sources.prometheus import query_prometheus

__all__ = ["NAME", "PROMETHEUS_SETTLE_S", "SIGNALS", "MetricsAnalysis", "MetricsSampler", "NotPrometheus", "Timeline",
           "analyze_metrics", "connect_error", "inspect_metrics", "metric_role", "metrics_agent", "metrics_result",
           "parse_text", "prometheus_agent", "prometheus_stored", "query_prometheus", "read_families"]
