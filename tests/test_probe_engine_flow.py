"""Flows on the faulty app: login-then-call, create-then-read, failed captures, bad flow files."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, probe

LOGIN = {"name": "login", "method": "POST", "path": "/login", "json": {"user": "vu{vu}", "password": "s3cret"},
         "capture": {"token": "$.access_token"}}


def test_login_then_call(faulty, tmp_path):
    mark = faulty.mark()
    flow = Flow.from_dict({"setup": [LOGIN],
                           "steps": [{"name": "me", "path": "/me", "headers": {"Authorization": "Bearer {token}"}}]})
    run = probe(ProbeConfig(LoadShape(concurrency=4, requests=40), flow=flow, base_url=faulty.base_url,
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    truth = faulty.events(mark)
    assert len(rows) == 40
    assert all(r["status"] == 200 and r["error_kind"] is None for r in rows)
    assert Counter(r["step"] for r in rows) == {"login": 4, "me": 36}  # setup once per virtual user
    assert Counter((e["path"], e["status"]) for e in truth) == {("/login", 200): 4, ("/me", 200): 36}
    assert run.meta.target.flow.setup == ["login"] and run.meta.target.flow.steps == ["me"]
    assert "s3cret" not in json.dumps(run.meta.dump())
    tokens = [r["body_sample"] for r in rows if r["step"] == "login"]
    assert all("access_token" in s and "[redacted]" in s for s in tokens)  # the captured token is not kept


def test_create_then_read_reads_what_it_created(faulty, tmp_path):
    mark = faulty.mark()
    flow = Flow.from_dict({"steps": [
        {"name": "create", "method": "POST", "path": "/items", "json": {"by": "{vu}", "n": "{iter}"},
         "capture": {"id": "$.id"}},
        {"name": "read", "path": "/items/{id}"},
    ]})
    run = probe(ProbeConfig(LoadShape(concurrency=3, requests=60), flow=flow, base_url=faulty.base_url,
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    truth = faulty.events(mark)
    assert len(rows) == 60
    steps = Counter((r["step"], r["status"]) for r in rows)
    assert set(steps) == {("create", 201), ("read", 200)}
    # The request bound may fall between a VU's create and its read: at most one such per VU.
    assert 0 <= steps[("create", 201)] - steps[("read", 200)] <= 3
    # On the server, every connection alternates: create (Location /items/n), then GET /items/n.
    per_port: dict[int, list[dict]] = defaultdict(list)
    for e in sorted(truth, key=lambda e: e["conn_request"]):
        per_port[e["client_port"]].append(e)
    assert len(per_port) == 3
    for events in per_port.values():
        for create, read in zip(events[::2], events[1::2], strict=False):
            assert (create["method"], create["path"], create["status"]) == ("POST", "/items", 201)
            assert (read["method"], read["path"], read["status"]) == ("GET", create["headers"]["Location"], 200)
    created = {e["headers"]["Location"] for e in truth if e["path"] == "/items"}
    reads = [r["path"] for r in rows if r["step"] == "read"]
    assert len(set(reads)) == len(reads) and set(reads) <= created  # each created id read at most once


def test_failed_capture_fails_the_dependent_step_unsent(faulty, tmp_path):
    mark = faulty.mark()
    flow = Flow.from_dict({"steps": [
        {"name": "create", "method": "POST", "path": "/items", "json": {}, "capture": {"id": "$.nope"}},
        {"name": "read", "path": "/items/{id}"},
        {"name": "ok", "path": "/ok"},
    ]})
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=30), flow=flow, base_url=faulty.base_url,
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    truth = faulty.events(mark)
    creates = [r for r in rows if r["step"] == "create"]
    reads = [r for r in rows if r["step"] == "read"]
    oks = [r for r in rows if r["step"] == "ok"]
    assert len(creates) + len(reads) + len(oks) == 30
    assert len(creates) - 2 <= len(oks) <= len(reads) <= len(creates)  # the bound may cut an iteration
    assert all(r["status"] == 201 and r["error_kind"] == "capture" and "$.nope" in r["error"] for r in creates)
    assert all(r["status"] == 0 and r["error_kind"] == "capture" and "{id}" in r["error"] for r in reads)
    assert all(r["bytes_out"] == 0 and r["conn_id"] is None for r in reads)
    assert all(r["status"] == 200 and r["error_kind"] is None for r in oks)  # independent steps go on
    assert Counter(e["path"] for e in truth) == {"/items": len(creates), "/ok": len(oks)}  # no read was sent


@pytest.mark.parametrize(
    "text, says",
    [
        ("steps:\n  - name: read\n    path: /items/{id}\n", "unknown variable {id}"),
        ("steps:\n  - name: read\n    method: FETCH\n    path: /ok\n", "invalid method"),
        ("steps:\n  - name: read\n    path: ok\n", "'path' must start with '/'"),
        ("steps:\n  - path: /ok\n", "every step needs a 'name'"),
        ("steps:\n  - name: a\n    path: /ok\n    retries: 3\n", "unknown key 'retries'"),
        ("steps: [\n", "not valid YAML"),
        ("setup:\n  - name: a\n    path: /ok\n", "at least one step"),
    ],
    ids=["unknown-variable", "bad-method", "relative-path", "no-name", "unknown-key", "not-yaml", "no-steps"],
)
def test_bad_flow_file_is_one_line_exit_2(faulty, tmp_path, cli, text, says):
    f = tmp_path / "flow.yaml"
    f.write_text(text)
    mark = faulty.mark()
    r = cli("probe", faulty.base_url, "--flow", str(f), "-n", "1", "--out", str(tmp_path / "r"))
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("tracehound: error:"), r.stderr
    assert says in lines[0] and "Traceback" not in r.stderr
    assert faulty.events(mark) == []


def test_captured_values_cannot_break_the_request(faulty, tmp_path):
    """A captured value with CR/LF must not inject headers, one with a space must not break the
    request line: the step is recorded as unsendable, never sent malformed."""
    mark = faulty.mark()
    flow = Flow.from_dict({"steps": [
        {"name": "create", "method": "POST", "path": "/items", "json": {"name": "a\r\nX-Evil: injected", "slug": "x y"},
         "capture": {"id": "$.id"}},
        {"name": "read", "path": "/items/{id}", "capture": {"name": "$.item.name", "slug": "$.item.slug"}},
        {"name": "header", "path": "/echo-headers", "headers": {"X-Name": "{name}"}},
        {"name": "path", "path": "/items/{slug}"},
    ]})
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=8), flow=flow, base_url=faulty.base_url,
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    bad = [r for r in rows if r["step"] in ("header", "path")]
    assert len(bad) == 4
    assert all(r["status"] == 0 and r["error_kind"] == "other" and "cannot be sent" in r["error"] for r in bad), [
        (r["step"], r["status"], r["error"]) for r in bad]
    served = faulty.events(mark)
    assert Counter(e["path"].split("/")[1] for e in served) == {"items": 4}  # creates and reads only
