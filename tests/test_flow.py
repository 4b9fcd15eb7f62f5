"""Flows against a real FastAPI app: login-then-call, create-then-read, failed captures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tracehound.demo import free_port, wait_ready
from tracehound.errors import BadFlow
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, probe


@pytest.fixture(scope="module")
def flow_app(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("flowapp") / "served.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.flow_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=Path(__file__).parent.parent, env={**os.environ, "FLOW_APP_LOG": str(log)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}", log
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def served(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


LOGIN = {"name": "login", "method": "POST", "path": "/login", "json": {"user": "alice", "password": "s3cret"},
         "capture": {"token": "$.access_token"}}


def test_login_then_call_and_create_then_read(flow_app, tmp_path):
    url, log = flow_app
    flow = Flow.from_dict({
        "setup": [LOGIN],
        "steps": [
            {"name": "me", "path": "/me", "headers": {"Authorization": "Bearer {token}"}},
            {"name": "create", "method": "POST", "path": "/items", "json": {"title": "t {vu}-{iter}"},
             "capture": {"id": "$.id", "where": "header:Location"}},
            {"name": "read", "path": "/items/{id}"},
        ],
    })
    before = len(served(log))
    run = probe(ProbeConfig(LoadShape(concurrency=3, requests=60), flow=flow, base_url=url, out=tmp_path / "r"))
    rows = run.table.to_pylist()
    assert len(rows) == 60
    assert {r["status"] for r in rows} <= {200, 201} and all(r["error_kind"] is None for r in rows)
    assert {r["step"] for r in rows} == {"login", "me", "create", "read"}
    assert sum(r["step"] == "login" for r in rows) == 3  # setup once per VU
    new = served(log)[before:]
    created = {r["path"] for r in new if r["method"] == "POST" and r["path"] == "/items"}
    reads = [r for r in new if r["path"].startswith("/items/")]
    assert created and reads and all(r["status"] == 200 for r in reads)  # reads hit created ids
    assert "Bearer" not in json.dumps(run.meta.dump())


def test_failed_capture_is_recorded_and_dependent_step_not_sent(flow_app, tmp_path):
    url, log = flow_app
    flow = Flow.from_dict({
        "steps": [
            {"name": "create", "method": "POST", "path": "/items", "json": {}, "capture": {"id": "$.nope"}},
            {"name": "read", "path": "/items/{id}"},
        ],
    })
    before = len(served(log))
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=10), flow=flow, base_url=url, out=tmp_path / "r"))
    rows = run.table.to_pylist()
    creates = [r for r in rows if r["step"] == "create"]
    reads = [r for r in rows if r["step"] == "read"]
    assert creates and all(r["status"] == 201 and r["error_kind"] == "capture" for r in creates)
    assert reads and all(r["status"] == 0 and r["error_kind"] == "capture" and "{id}" in r["error"] for r in reads)
    assert not any(r["path"].startswith("/items/") for r in served(log)[before:])  # never sent


def test_setup_failure_is_retried_and_recorded(flow_app, tmp_path):
    url, _ = flow_app
    bad_login = {**LOGIN, "json": {"password": "wrong"}}
    flow = Flow.from_dict({"setup": [bad_login],
                           "steps": [{"name": "me", "path": "/me", "headers": {"Authorization": "Bearer {token}"}}]})
    rows = probe(ProbeConfig(LoadShape(concurrency=1, requests=6), flow=flow, base_url=url,
                             out=tmp_path / "r")).table.to_pylist()
    assert [r["step"] for r in rows] == ["login", "me"] * 3
    assert all(r["status"] == 401 for r in rows if r["step"] == "login")
    assert all(r["error_kind"] == "capture" for r in rows if r["step"] == "me")


# -- issue 15, row 11: YAML within bounds ---------------------------------------------------------


def _bomb(levels: int = 9) -> str:
    """A flow whose ``json:`` body is a "billion laughs": ten aliases of ten aliases of … ten values."""
    lines = ["steps:", "  - name: a", "    path: /x", "    json:", "      l0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"      l{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, says", [
    (_bomb(), "aliases expand to more than 1,000,000 values"),
    ("steps:\n" + "".join(f"  - name: s{i}\n    path: /x\n    json: {{k: '{'v' * 200}'}}\n" for i in range(5000)),
     "more than 1 MB"),
    ("steps: &s\n  - name: a\n    path: /x\n    json: *s\n", "refers to a value that contains it"),
    ("steps:\n  - name: a\n    path: /x\n    json: " + "[" * 150 + "]" * 150 + "\n", "nests deeper than 100 levels"),
    ("v: &v x\nsteps:\n  - name: a\n    path: /x\n    json: [" + ", ".join(["*v"] * 1001) + "]\n",
     "more than 1,000 aliases"),
], ids=["alias-bomb", "a-large-flow", "self-reference", "deep", "many-aliases"])
def test_a_flow_beyond_the_yaml_bounds_is_refused_before_it_is_built(tmp_path, text, says):
    f = tmp_path / "flow.yaml"
    f.write_text(text)
    with pytest.raises(BadFlow, match=says):
        Flow.load(f)


def test_a_flow_with_a_few_aliases_loads_and_yaml_is_read_by_libyaml():
    import yaml

    from tracehound import yamlfile

    doc = yamlfile.load("base: &b {h: 1}\nsteps:\n  - name: a\n    path: /x\n    json: {<<: *b, z: [*b, *b]}\n")
    assert doc["steps"][0]["json"] == {"h": 1, "z": [{"h": 1}, {"h": 1}]}
    if yaml.__with_libyaml__:
        assert yamlfile.SafeLoader is yaml.CSafeLoader


def test_a_flow_base_url_with_credentials_is_refused_not_dropped():
    """Issue 15, row 12, for flows: their steps would not send a base URL's user and password."""
    flow = Flow.from_dict({"steps": [{"name": "a", "path": "/x"}]})
    with pytest.raises(BadFlow, match="cannot carry a user and password"):
        ProbeConfig(LoadShape(requests=1), flow=flow, base_url="http://u:p@127.0.0.1:9").endpoint()


# -- a pause range: each user waits another point of it --------------------------------------------


def test_a_pause_range_is_spread_over_the_users_and_written_back_as_a_range(flow_app, tmp_path):
    url, _ = flow_app
    flow = Flow.from_dict({"setup": [LOGIN], "steps": [{"name": "me", "path": "/me", "pause": [0.2, 0.6],
                                                         "headers": {"Authorization": "Bearer {token}"}}]})
    me = flow.steps[0]
    assert (me.pause, me.pause_spread) == (0.2, pytest.approx(0.4))
    assert Flow.from_dict(flow.to_dict()).steps[0].to_dict()["pause"] == [0.2, 0.6]
    run = probe(ProbeConfig(LoadShape(concurrency=8, duration=1.5), flow=flow, base_url=url, out=tmp_path / "r"))
    rows = sorted(run.table.to_pylist(), key=lambda r: (r["vu"], r["start_ns"]))
    pauses = []
    for a, b in zip(rows, rows[1:], strict=False):
        if a["vu"] == b["vu"] and (a["step"], b["step"]) == ("login", "me"):
            pauses.append((b["start_ns"] - a["start_ns"]) / 1e9 - a["total_ms"] / 1e3)
    assert len(pauses) == 8 and all(p >= 0.19 for p in pauses)
    # Eight users land on eight points spread over the range, not on one: a busy machine only
    # lengthens each pause, so the spread between the shortest and the longest stays.
    assert max(pauses) - min(pauses) >= 0.2
    assert len({round(me.pause_for(vu, 0, 0), 6) for vu in range(16)}) == 16
    assert all(0.2 <= me.pause_for(vu, i, 0) <= 0.6 for vu in range(16) for i in range(4))


@pytest.mark.parametrize("pause", [[3, 2], [1], [1, 2, 3], ["a", 2], [-1, 2], [0, 301], True])
def test_a_bad_pause_range_is_refused_with_one_line(pause):
    with pytest.raises(BadFlow, match="'pause'"):
        Flow.from_dict({"steps": [{"name": "a", "path": "/x", "pause": pause}]})


# -- iterations: each user runs the steps so many times, then stops ----------------------------------


def test_each_user_runs_its_iterations_and_no_early_user_takes_a_slow_ones_tries(flow_app, tmp_path):
    url, _ = flow_app
    # Users pause different lengths, so some finish well before others. The run's request bound
    # is shared: without a per-user bound an early user would start again and take the last
    # tries of the slowest one.
    doc = {"iterations": 1, "steps": [{"name": "a", "path": "/me"},
                                      {"name": "b", "path": "/me", "pause": [0.0, 0.6]},
                                      {"name": "c", "path": "/me", "pause": [0.0, 0.6]}]}
    flow = Flow.from_dict(doc)
    assert flow.iterations == 1 and Flow.from_dict(flow.to_dict()).iterations == 1
    run = probe(ProbeConfig(LoadShape(concurrency=4, requests=12, duration=30), flow=flow, base_url=url,
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    per_user = {vu: sorted(r["step"] for r in rows if r["vu"] == vu) for vu in range(4)}
    assert per_user == {vu: ["a", "b", "c"] for vu in range(4)}, per_user


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True, 10**7])
def test_bad_iterations_are_refused_with_one_line(value):
    with pytest.raises(BadFlow, match="'iterations' must be a whole number"):
        Flow.from_dict({"iterations": value, "steps": [{"name": "a", "path": "/x"}]})
