"""The HDR histogram behind every latency summary: accuracy, merging, serialisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tracehound.analysis.histogram import Histogram

QS = (1, 10, 50, 90, 95, 99, 99.9, 99.99)


@pytest.fixture(scope="module")
def latencies_us() -> np.ndarray:
    """200k log-normal latencies in µs (median ~3 ms, a long tail into seconds)."""
    return np.rint(np.random.default_rng(7).lognormal(8, 1.3, 200_000)).astype(np.int64) + 1


def test_percentiles_within_a_tenth_of_a_percent_of_numpy(latencies_us):
    h = Histogram.of(latencies_us)
    for q in QS:
        exact = np.percentile(latencies_us, q, method="inverted_cdf")  # the same rank rule: ceil(q·n)
        assert abs(h.percentile(q) - exact) / exact < 0.001, q
    assert h.percentile(0) == latencies_us.min() and h.percentile(100) == latencies_us.max()
    assert h.total == latencies_us.size and h.mean == pytest.approx(latencies_us.mean(), rel=1e-12)


@pytest.mark.parametrize("k", range(1, 41))
def test_every_value_lands_in_a_bucket_that_holds_it(k):
    # Around each power of two, where float log2 rounding could pick the wrong bucket.
    values = np.array([2**k - 1, 2**k, 2**k + 1], dtype=np.int64)
    for v in values:
        p = Histogram.of(np.array([v, v])).percentile(50)
        assert abs(p - v) / v < 0.001, (k, int(v), p)


def test_merge_equals_recording_both(latencies_us):
    a, b = latencies_us[:12_345], latencies_us[12_345:]
    merged = Histogram.of(a).merge(Histogram.of(b))
    both = Histogram.of(latencies_us)
    assert np.array_equal(merged.counts, both.counts)
    assert (merged.total, merged.min, merged.max) == (both.total, both.min, both.max)
    assert merged.sum == pytest.approx(both.sum, rel=1e-12)
    assert merged.percentiles(QS) == both.percentiles(QS)
    assert Histogram().merge(both).percentiles(QS) == both.percentiles(QS)  # the empty one is neutral


def test_to_dict_from_dict_round_trip_through_json(latencies_us):
    h = Histogram.of(latencies_us)
    back = Histogram.from_dict(json.loads(json.dumps(h.to_dict())))
    assert np.array_equal(back.counts, h.counts)
    assert (back.total, back.sum, back.min, back.max) == (h.total, h.sum, h.min, h.max)
    assert back.percentiles(QS) == h.percentiles(QS)
    empty = Histogram.from_dict(json.loads(json.dumps(Histogram().to_dict())))
    assert empty.total == 0 and empty.percentile(50) is None and empty.mean is None
