"""Contrast: attribute values over-represented among failures, corrected for multiple comparisons."""

from __future__ import annotations

import numpy as np
import pytest

from tracehound.analysis.contrast import Attribute, attributes, contrast
from tracehound.analysis.frame import Frame
from tracehound.analysis.synthetic import table


def test_the_failing_path_stands_out():
    rng = np.random.default_rng(0)
    n = 3000
    path = rng.integers(0, 6, n).astype(np.int32)
    failed = np.where(path == 4, rng.random(n) < 0.5, rng.random(n) < 0.02)
    attrs = [Attribute("path", "request", path, [f"/p{i}" for i in range(6)])]
    items = contrast(attrs, failed, np.ones(n, bool))
    top = items[0]
    assert top.value == "/p4" and top.q < 1e-10
    assert top.diff > 0.6 and top.lift > 10
    assert all(i.q > 0.01 for i in items[1:])


@pytest.mark.parametrize("seed", range(10))
def test_random_failures_have_nothing_in_common(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    attrs = [Attribute(f"a{j}", "request", rng.integers(0, 8, n).astype(np.int32), [str(i) for i in range(8)])
             for j in range(10)]
    items = contrast(attrs, rng.random(n) < 0.05, np.ones(n, bool))
    assert all(i.q >= 0.01 for i in items)


def test_attributes_of_a_frame_include_headers_and_context():
    rng = np.random.default_rng(1)
    n = 600
    node = rng.integers(0, 3, n).astype(np.int32)
    status = np.where(node == 1, 502, 200)
    t = table(n, status=status, headers={"x-served-by": (node, ["a", "b", "c"]),
                                         "x-request-id": [f"req-{i}" for i in range(n)]})
    f = Frame(t)
    attrs = {a.name: a for a in attributes(f)}
    assert attrs["h_x_served_by"].role == "server"
    assert "h_x_request_id" not in attrs  # an identifier, not an attribute
    assert attrs["h_content_type"].role == "response"
    assert {"status_class", "conn_reused", "vu", "inflight", "path"} <= set(attrs)
    items = contrast(list(attrs.values()), f.failed, f.counted)
    served = next(i for i in items if i.attribute == "h_x_served_by")
    assert served.value == "b" and served.q < 1e-10


def test_null_values_count_as_none():
    codes = np.r_[np.full(100, -1), np.zeros(900)].astype(np.int32)
    failed = np.r_[np.ones(50, bool), np.zeros(950, bool)]
    items = contrast([Attribute("h_via", "server", codes, ["proxy"])], failed, np.ones(1000, bool))
    assert items[0].value == "(none)"
