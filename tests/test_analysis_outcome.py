"""What counts as a failure, and the status, error and latency distribution."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from tracehound.analysis.distribution import distribution
from tracehound.analysis.frame import Frame, concat
from tracehound.analysis.outcome import cancelled, failed
from tracehound.analysis.synthetic import table
from tracehound.probe.records import is_failure


def test_failed_counts_errors_and_4xx_5xx_but_not_cancelled():
    status = np.array([200, 201, 301, 400, 401, 404, 429, 500, 503, 0, 0, 200, 0])
    kinds = [None, None, None, None, None, None, None, None, None, "timeout", "cancelled", "capture", "reset"]
    t = table(len(status), status=status, error_kind=kinds, start_s=np.arange(len(status)) * 0.1)
    assert failed(t).tolist() == [False, False, False, True, True, True, True, True, True, True, False, True, True]
    assert cancelled(t).tolist() == [False] * 10 + [True, False, False]
    # The same requests as the prober's summary counts.
    assert failed(t).tolist() == is_failure(t).tolist()


def test_failed_reads_error_kinds_across_chunks_with_different_dictionaries():
    a = table(3, status=np.array([200, 0, 0]), error_kind=[None, "timeout", "reset"], start_s=np.arange(3.0))
    b = table(3, status=np.array([0, 200, 0]), error_kind=["cancelled", None, "timeout"], start_s=np.arange(3.0))
    t = concat([a, b])
    assert t.column("error_kind").num_chunks == 2
    assert failed(t).tolist() == [False, True, True, False, False, True]
    assert Frame(t).error_is("timeout").tolist() == [False, True, False, False, False, True]


def test_distribution_separates_success_and_failure_latency():
    rng = np.random.default_rng(0)
    n = 1000
    fail = rng.random(n) < 0.2
    lat = np.where(fail, 2000 + rng.normal(0, 5, n), rng.normal(40, 4, n))
    t = table(n, status=np.where(fail, 504, 200), latency_ms=lat)
    d = distribution(Frame(t))
    assert d.failed == fail.sum() and d.primary == fail.sum()
    assert abs(d.failure_rate - fail.mean()) < 1e-9
    assert d.statuses == {200: int((~fail).sum()), 504: int(fail.sum())}
    assert d.failure_statuses == {504: int(fail.sum())}
    assert 38 < d.latency_ok.p50 < 42 and 1990 < d.latency_failed.p50 < 2010
    assert d.latency_ok.count == (~fail).sum()
    assert d.status_share(504) == 1.0


def test_cascaded_failures_are_counted_but_not_in_status_shares():
    status = np.array([401, 0, 200, 200])
    kinds = [None, "capture", None, None]
    d = distribution(Frame(table(4, status=status, error_kind=kinds, start_s=np.arange(4.0))))
    assert d.failed == 2 and d.cascaded == 1 and d.primary == 1
    assert d.status_share(401) == 1.0


def test_latency_is_measured_from_sending_not_from_the_schedule():
    t = table(3, latency_ms=np.array([100.0, 100.0, 100.0]), start_s=np.arange(3.0))
    late = pa.array(t.column("start_ns").to_numpy() - np.array([0, 50_000_000, 0]))
    t = t.set_column(t.schema.get_field_index("intended_start_ns"), "intended_start_ns", late)
    assert Frame(t).latency_ms.round(3).tolist() == [100.0, 50.0, 100.0]
