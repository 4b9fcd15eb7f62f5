"""Sources beyond the wire, read in the background while the experiments run: PostgreSQL, Redis, metrics.

Each sampler polls on its own connection from a thread and keeps typed samples (frozen
dataclasses) stamped with the wall clock of the run records; the agents line them up with the
requests afterwards. Nothing here knows about agents, signals or the catalog.
"""

from tracehound.sources.metrics import MetricsInfo, MetricsSampler, NotPrometheus, Scrape
from tracehound.sources.postgres import PostgresInfo, PostgresReading, PostgresSampler
from tracehound.sources.prometheus import query_prometheus
from tracehound.sources.redis import RedisInfo, RedisReading, RedisSampler
from tracehound.sources.sampler import (
    INTERVAL_RULE,
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    AnySampler,
    FailedSample,
    Recording,
    Sample,
    Sampler,
    interval_ok,
    sample_for,
)

__all__ = ["INTERVAL_RULE", "MAX_INTERVAL_S", "MIN_INTERVAL_S", "AnySampler", "FailedSample", "MetricsInfo",
           "MetricsSampler", "NotPrometheus", "PostgresInfo", "PostgresReading", "PostgresSampler", "Recording",
           "RedisInfo", "RedisReading", "RedisSampler", "Sample", "Sampler", "Scrape", "interval_ok",
           "query_prometheus", "sample_for"]
