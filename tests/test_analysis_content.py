"""Content anomalies among 2xx answers: {} among full objects, other shapes, odd sizes; none in varied healthy
bodies."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tracehound.analysis.content import content_anomalies, departs, says_it_failed, shape_of


def run(samples, groups=None, sizes=None, hashes=None):
    n = len(samples)
    group = np.zeros(n, np.int32) if groups is None else np.asarray(groups, np.int32)
    names = [f"step{i}" for i in range(int(group.max()) + 1)]
    size = np.full(n, 200) if sizes is None else np.asarray(sizes)
    return content_anomalies(group, names, np.ones(n, bool), size, pa.array(samples, pa.string()),
                             None if hashes is None else np.asarray(hashes))


def test_empty_objects_among_full_ones():
    full = '{"sso_login": true, "audit_log": false}'
    samples = [full] * 300 + ["{}"] * 12
    found = run(samples)
    assert len(found) == 1
    a = found[0]
    assert a.kind == "empty" and a.count == 12 and a.example == "{}"
    assert a.strength > 0.8


def test_an_error_object_with_200_is_a_body_that_says_it_failed():
    samples = [f'{{"id": {i}, "name": "x", "price": 5}}' for i in range(200)] + ['{"error": "upstream"}'] * 5
    found = run(samples)
    assert found and found[0].kind == "error" and found[0].count == 5
    assert "says it failed" in found[0].example


def test_bodies_that_say_they_failed_count_however_many_say_it():
    # A limiter that answers 200 {"ok": false, ...}: most answers under load, the same keys as the
    # right ones, so neither a minority nor a departure by keys would show it.
    right = [f'{{"ok": true, "shipment": {{"id": {i}, "status": "in transit"}}, "error": null}}' for i in range(40)]
    refused = ['{"ok": false, "shipment": null, "error": "try again later"}'] * 60
    found = run(right + refused)
    assert [(a.kind, a.count) for a in found] == [("error", 60)]
    # A request every answer of which says so is how that service answers it: nothing to contrast.
    assert run(refused * 2) == []


@pytest.mark.parametrize("body,says", [
    ({"ok": False}, True), ({"success": False, "data": None}, True), ({"status": "error"}, True),
    ({"status": "FAILED"}, True), ({"error": "timeout"}, True), ({"errors": [{"message": "x"}]}, True),
    ({"error": {"code": 7}}, True), ({"ok": True, "error": None}, False), ({"errors": []}, False),
    ({"status": "shipped"}, False), ({"error": ""}, False), ({"ok": 0}, False), ({"error_count": 3}, False),
])
def test_what_says_it_failed(body, says):
    assert says_it_failed(body) is says
    import json

    assert shape_of(json.dumps(body)).error is says


def test_truncated_samples_still_show_their_first_keys():
    long = '{"items": [' + ", ".join(f'{{"sku": "A{i}"}}' for i in range(100))
    assert shape_of(long[:256]).keys == frozenset({"items"})
    assert shape_of(long[:256]).truncated
    assert departs(shape_of('{"error": "x"}'), shape_of(long[:256])) == "keys"
    assert departs(shape_of('{"items": []}'), shape_of(long[:256])) is None
    assert shape_of('[{"a": 1, "b": 2}, {"a"').keys == frozenset({"a", "b"})


def test_healthy_bodies_that_vary_in_values_are_not_anomalies():
    rng = np.random.default_rng(0)
    samples = [f'{{"id": {i}, "name": "item {i}", "tags": [{",".join("1" * int(rng.integers(0, 5)))}]}}'
               for i in range(500)]
    sizes = rng.integers(150, 400, 500)
    assert run(samples, sizes=sizes, hashes=np.arange(500)) == []


def test_anomalies_are_per_group():
    # One step always answers [], another always a full list: neither departs from its own majority.
    samples = ["[]"] * 100 + ['[{"id": 1}]'] * 100
    groups = [0] * 100 + [1] * 100
    assert run(samples, groups=groups) == []


def test_odd_sizes_when_bodies_are_otherwise_identical_in_shape():
    samples = ['{"report": "..."}'] * 210
    sizes = np.r_[np.full(200, 40_000), np.full(10, 300)]
    found = run(samples, sizes=sizes)
    assert found and found[0].kind == "size" and found[0].count == 10


def test_a_minority_is_needed():
    samples = ["{}"] * 100 + ['{"a": 1}'] * 100
    assert run(samples) == []


@pytest.mark.parametrize("text,kind,empty", [("", "none", True), ("null", "null", True), ("[]", "array", True),
                                             ("<html>", "text", False), ('"ok"', "string", False)])
def test_shapes(text, kind, empty):
    s = shape_of(text)
    assert (s.kind, s.empty) == (kind, empty)
