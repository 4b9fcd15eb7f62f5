"""The frame's derived columns: quiet time, session age, run clocks, codes; and concatenation of runs."""

from __future__ import annotations

import numpy as np

from tracehound.analysis.frame import Frame, RunInfo, concat
from tracehound.analysis.synthetic import table
from tracehound.probe.meta import RunMeta


def test_quiet_time_is_the_gap_since_anything_was_in_flight():
    t = table(4, start_s=np.array([0.0, 0.05, 1.0, 1.01]), latency_ms=np.array([100.0, 10.0, 20.0, 20.0]))
    q = Frame(t).quiet_ms
    assert np.isnan(q[0])
    assert q[1:].round(1).tolist() == [0.0, 900.0, 0.0]


def test_session_age_and_run_clock():
    a = table(4, vu=np.array([0, 1, 0, 1]), start_s=np.array([0.0, 1.0, 2.0, 4.0]))
    b = table(2, vu=np.array([0, 0]), start_s=np.array([10.0, 12.0]))
    f = Frame(concat([a, b]))
    assert f.run.tolist() == [0, 0, 0, 0, 1, 1]
    assert f.elapsed_s.round(3).tolist() == [0, 1, 2, 4, 0, 2]
    assert f.vu_age_s.round(3).tolist() == [0, 0, 2, 3, 0, 2]


def test_concat_tolerates_different_recorded_headers():
    a = table(3, headers={"x-served-by": "a"})
    b = table(2)
    f = Frame(concat([a, b]))
    codes, values = f.codes("h_x_served_by")
    assert values == ["a"] and codes.tolist() == [0, 0, 0, -1, -1]


def test_identifiers_have_no_codes():
    t = table(3000, path=[f"/items/{i}" for i in range(3000)])
    assert Frame(t).codes("path") is None
    assert Frame(t).codes("method")[1] == ["GET"]


def test_run_info_from_meta():
    info = RunInfo.of(0, "x", RunMeta.model_validate({"experiment": {"kind": "sweep", "concurrency": 12,
                                                                       "role": "target"}}))
    assert (info.kind, info.concurrency, info.sequential) == ("sweep", 12, False)
    base = RunInfo.of(1, "b", RunMeta.model_validate({"experiment": {"kind": "baseline", "concurrency": 1}}))
    assert base.sequential
    plain = RunInfo.of(2, "p", RunMeta.model_validate({"shape": {"model": "closed", "concurrency": 1}}))
    assert plain.kind is None and plain.sequential


def test_exemplars_name_the_request():
    t = table(2, status=np.array([200, 504]), latency_ms=np.array([10.0, 2001.0]), step="profile",
              start_s=np.arange(2.0))
    f = Frame(t, [RunInfo(0, "03-sweep-c12")])
    assert f.describe([1]) == ["03-sweep-c12 seq 1 GET /api/items/42 [profile] → 504 after 2001 ms"]
