"""The prober's records against the truth: what the faulty app logged that it really did."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime

import pyarrow.parquet as pq
import pytest

from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, Target, probe
from tracehound.probe.summary import summarize_run


def by_connection(rows: list[dict]) -> dict[int, list[dict]]:
    """Records grouped by conn_id, each group in the order the connection carried them."""
    groups: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["conn_id"]].append(r)
    return {c: sorted(g, key=lambda r: r["conn_requests"]) for c, g in groups.items()}


def by_port(events: list[dict]) -> dict[int, list[dict]]:
    """Server events grouped by client port, each group in the server's per-connection order."""
    groups: dict[int, list[dict]] = defaultdict(list)
    for e in events:
        groups[e["client_port"]].append(e)
    return {p: sorted(g, key=lambda e: e["conn_request"]) for p, g in groups.items()}


MIX = Flow.from_dict({
    "steps": [
        {"name": "ok", "path": "/ok"},
        {"name": "unavailable", "path": "/status/503"},
        {"name": "slow", "path": "/delay/15"},
        {"name": "missing", "path": "/status/404"},
        {"name": "create", "method": "POST", "path": "/items", "json": {"vu": "{vu}", "iter": "{iter}"}},
        {"name": "big", "path": "/bytes/300000"},  # many reads: the streaming hash
        {"name": "chunked", "path": "/chunked/7"},
        {"name": "head", "method": "HEAD", "path": "/ok"},
    ],
})
SAME_BODY_STEPS = ("ok", "unavailable", "slow", "missing", "big", "chunked", "head")


def test_records_match_what_the_server_did(faulty, tmp_path):
    mark = faulty.mark()
    run = probe(ProbeConfig(LoadShape(concurrency=8, requests=200), flow=MIX, base_url=faulty.base_url,
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    truth = faulty.events(mark)

    assert len(rows) == 200
    assert sorted(r["seq"] for r in rows) == list(range(200))
    assert len(truth) == 200 and all(e["event"] == "response" for e in truth)
    assert all(r["error_kind"] is None for r in rows)

    conns, ports = by_connection(rows), by_port(truth)
    assert None not in conns
    assert len(conns) == len(ports) == 8  # one keep-alive connection per virtual user
    for group in conns.values():
        assert [r["conn_requests"] for r in group] == list(range(len(group)))
        assert [r["conn_reused"] for r in group] == [False] + [True] * (len(group) - 1)
        assert len({r["vu"] for r in group}) == 1
        assert [r["start_ns"] for r in group] == sorted(r["start_ns"] for r in group)
    for group in ports.values():
        assert [e["conn_request"] for e in group] == list(range(1, len(group) + 1))

    # Each connection's requests, in order, as the client recorded them and as the server served them.
    client_side = sorted(tuple((r["path"], r["status"], r["body_hash"]) for r in g) for g in conns.values())
    server_side = sorted(tuple((e["path"], e["status"], e["body_hash"]) for e in g) for g in ports.values())
    assert client_side == server_side

    body_len = {(e["path"], e["body_hash"]): e["body_len"] for e in truth}
    for r in rows:
        assert body_len[(r["path"], r["body_hash"])] < r["bytes_in"] < body_len[(r["path"], r["body_hash"])] + 400
        assert r["bytes_out"] > 0 and 1 <= r["inflight"] <= 8
        assert r["total_ms"] >= r["ttfb_ms"] >= 0

    for r in rows:  # connect time on a connection's first request, idle time on the others
        assert (r["connect_ms"] > 0) == (r["conn_idle_ms"] is None) == (not r["conn_reused"])

    hashes = defaultdict(set)
    for r in rows:
        hashes[r["step"]].add(r["body_hash"])
    for step in SAME_BODY_STEPS:  # the same body every time, the same hash
        assert len(hashes[step]) == 1, step
    assert len(hashes["create"]) == sum(r["step"] == "create" for r in rows)  # {"id": n} differs each time
    assert len(set().union(*(hashes[s] for s in SAME_BODY_STEPS))) == len(SAME_BODY_STEPS)

    steps = Counter(r["step"] for r in rows)  # the limit may cut iterations short, so not exactly 25
    assert set(steps) == {*SAME_BODY_STEPS, "create"} and min(steps.values()) >= 20


@pytest.mark.parametrize("code, retry_after", [(503, "3"), (429, "3"), (500, None)])
def test_fixed_statuses_are_responses_not_errors(faulty, tmp_path, code, retry_after):
    mark = faulty.mark()
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=20), Target(f"{faulty.base_url}/status/{code}"),
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    assert len(rows) == 20
    assert all(r["status"] == code and r["error_kind"] is None and r["error"] is None for r in rows)
    assert all(r["h_retry_after"] == retry_after for r in rows)
    assert [e["status"] for e in faulty.events(mark)] == [code] * 20
    s = summarize_run(run)
    assert s.failed == 20 and s.ok == 0 and s.status_counts == {str(code): 20}
    assert s.errors[0]["count"] == 20 and s.errors[0]["message"].startswith(f"HTTP {code}")


def test_timeout_is_recorded_at_the_timeout(faulty, tmp_path):
    mark = faulty.mark()
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=3), Target(f"{faulty.base_url}/delay/3000"),
                            timeout=0.5, out=tmp_path / "r"))
    rows = run.table.to_pylist()
    assert len(rows) == 3
    for r in rows:
        assert r["error_kind"] == "timeout" and r["status"] == 0
        # at the 0.5 s timeout, not at the 3 s response (a busy machine may fire the timer late)
        assert 450 <= r["total_ms"] < 2000, r["total_ms"]
        assert not r["conn_reused"]  # a timed-out connection is abandoned, never reused
        assert r["body_hash"] is None and r["bytes_in"] == 0
    assert len({r["conn_id"] for r in rows}) == 3
    # The server saw each client give up: three disconnects, no response sent.
    gone = faulty.wait_events(mark, 3)
    assert [(e["event"], e["path"], e["status"]) for e in gone] == [("disconnect", "/delay/3000", None)] * 3


def test_reset_by_the_server(faulty, tmp_path):
    mark = faulty.mark()
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=10), Target(f"{faulty.base_url}/reset"),
                            out=tmp_path / "r"))
    rows = run.table.to_pylist()
    truth = faulty.events(mark)
    # The server's RST arrives while the request waits for its response, so the read fails with
    # ECONNRESET: always "reset", never an EOF ("remote_disconnected").
    assert len(rows) == 10
    assert all(r["error_kind"] == "reset" and r["status"] == 0 and not r["conn_reused"] for r in rows)
    assert len({r["conn_id"] for r in rows}) == 10
    assert [e["event"] for e in truth] == ["reset"] * 10
    assert len({e["client_port"] for e in truth}) == 10


def test_keepalive_closed_silently_after_n_requests(faulty_close5, tmp_path):
    mark = faulty_close5.mark()
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=30), Target(f"{faulty_close5.base_url}/ok"),
                            out=tmp_path / "r"))
    rows = sorted(run.table.to_pylist(), key=lambda r: r["seq"])
    responses = faulty_close5.wait_events(mark, 30)
    closes = faulty_close5.wait_events(mark, 6, kinds=("close",))

    # The client writes its next request from the callback that read the 5th response, before the
    # server's close (FIN, or RST if the request lands first) arrives. Nothing of a response came on
    # that reused connection, so, as a browser or a client pool would, the prober sends the request
    # again on a new connection instead of recording the artifact: no request fails.
    assert len(rows) == 30 and all(r["status"] == 200 and r["error_kind"] is None for r in rows)
    assert run.meta.counts.retried_on_new_connection == 5
    fresh = [r["seq"] for r in rows if not r["conn_reused"]]
    assert fresh == [0, 5, 10, 15, 20, 25]  # the first request and the 5 retries, each on a new connection
    groups = by_connection(rows)
    assert len(groups) == 6 and all([r["conn_requests"] for r in g] == [0, 1, 2, 3, 4] for g in groups.values())

    # The truth: 30 responses, 5 per connection, and a silent close after each connection's 5th.
    assert len(responses) == 30
    assert sorted(Counter(e["client_port"] for e in responses).values()) == [5] * 6
    assert len(closes) == 6 and {e["conn_request"] for e in closes} == {5}


def test_no_keepalive_opens_a_connection_per_request(faulty, tmp_path):
    mark = faulty.mark()
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=40), Target(f"{faulty.base_url}/echo-headers"),
                            keepalive=False, out=tmp_path / "r"))
    rows = run.table.to_pylist()
    truth = faulty.events(mark)
    assert len(rows) == 40 and all(r["status"] == 200 for r in rows)
    assert not any(r["conn_reused"] for r in rows)
    assert len({r["conn_id"] for r in rows}) == 40
    assert all('"connection":"close"' in r["body_sample"] for r in rows)  # it asked for it
    assert len(truth) == 40 and all(e["conn_request"] == 1 for e in truth)


def test_record_header_adds_a_column(faulty, tmp_path, cli):
    out = tmp_path / "r"
    r = cli("probe", f"{faulty.base_url}/echo-headers", "-n", "12", "-c", "3", "-H", "X-Custom: hello-42",
            "--record-header", "X-Custom", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    t = pq.read_table(out / "requests.parquet")
    assert t.column("h_x_custom").to_pylist() == ["hello-42"] * 12
    assert t.column("h_content_type").to_pylist() == ["application/json"] * 12
    assert "x-custom" in json.loads((out / "run.json").read_text())["options"]["record_headers"]


def test_run_json_describes_the_run_and_redacts_credentials(faulty, tmp_path, cli):
    out = tmp_path / "r"
    url = f"{faulty.base_url}/echo-headers"
    r = cli("probe", url, "-n", "20", "-c", "2", "-H", "Authorization: Bearer secret123", "--quiet",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = (out / "run.json").read_text()
    meta = json.loads(text)
    assert "secret123" not in text
    assert meta["target"]["url"] == url and meta["target"]["method"] == "GET"
    assert meta["target"]["headers"] == {"Authorization": "[redacted]"}
    assert meta["shape"]["model"] == "closed" and meta["shape"]["concurrency"] == 2
    assert meta["shape"]["requests"] == 20
    assert meta["shape"]["bounds"] == {"max_requests": 2_000_000, "max_duration_s": 1800.0}
    assert {"tracehound", "python", "pyarrow", "numpy", "httptools"} <= set(meta["tool"])
    started = datetime.fromisoformat(meta["started_at"])
    ended = datetime.fromisoformat(meta["ended_at"])
    assert started <= ended
    assert meta["interrupted"] is False and meta["complete"] is True and meta["status"] == "complete"
    assert meta["stop_reason"] == "requests" and meta["counts"]["requests"] == 20
    # The server echoed the header back in the body: the recorded sample must not keep it either.
    t = pq.read_table(out / "requests.parquet")
    samples = t.column("body_sample").to_pylist()
    assert all('"authorization"' in s for s in samples)
    assert not any("secret123" in s for s in samples)


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown(faulty, tmp_path, cli):
    """Issue 15, row 12: `http://user:pass@host/` sent no credentials, and the target printed as `http://@host`."""
    import base64

    from tracehound.probe import Target

    out = tmp_path / "r"
    url = faulty.base_url.replace("://", "://alice:s3cr%40t-77@", 1) + "/echo-headers"
    sent = Target(url).request_bytes()
    assert sent.startswith(b"GET /echo-headers HTTP/1.1\r\n")
    assert b"Authorization: Basic " + base64.b64encode(b"alice:s3cr@t-77") + b"\r\n" in sent
    own = Target(url, headers=(("Authorization", "Bearer mine"),)).request_bytes()
    assert b"Authorization: Bearer mine" in own and b"Basic" not in own  # a header given wins
    r = cli("probe", url, "-n", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    shown = faulty.base_url.replace("://", "://[redacted]@", 1) + "/echo-headers"
    assert f"Target GET {shown}" in r.stdout
    samples = pq.read_table(out / "requests.parquet").column("body_sample").to_pylist()
    assert all('"authorization"' in s for s in samples)  # the service received it
    secrets = ("s3cr", base64.b64encode(b"alice:s3cr@t-77").decode())
    for where in (r.stdout, r.stderr, (out / "run.json").read_text(), *samples):
        assert not any(x in where for x in secrets), where


@pytest.mark.parametrize("workers", ["1", "2"])
def test_recorded_headers_are_redacted_as_bodies_are(faulty, tmp_path, cli, workers):
    """Issue 15, row 17: `--record-header Set-Cookie`, or a server echoing a token in a header, stored it as is."""
    from tracehound.probe import RecordBuffer

    buf = RecordBuffer("r", headers=("set-cookie", "x-request-id"))
    for i, (cookie, rid) in enumerate([(b"sid=s3cret-cookie-1; Path=/", b"req-1"),
                                       (b"sid=s3cret-cookie-2", b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2ln")]):
        buf.add(seq=i, vu=0, step=None, method=b"GET", host=b"h", path=b"/", intended_ns=1, start_ns=2,
                connect_ns=-1, first_byte_ns=3, end_ns=4, status=200, error_kind=None, error=None, bytes_in=1,
                bytes_out=1, body_digest=None, body_first=None, headers=(cookie, rid), conn_id=0, conn_reused=False,
                conn_idle_ns=-1, conn_requests=0, inflight=1)
    t = buf.to_table()
    assert t.column("h_set_cookie").to_pylist() == ["[redacted]", "[redacted]"]
    assert t.column("h_x_request_id").to_pylist() == ["req-1", "Bearer [redacted]"]

    out = tmp_path / "r"
    token = "echoed-token-8d1f2a"
    r = cli("probe", f"{faulty.base_url}/echo-headers", "-n", "6", "-c", "2", "--workers", workers,
            "-H", f"Authorization: Bearer {token}", "-H", f"X-Custom: {token}", "--record-header", "X-Custom",
            "--record-header", "Set-Cookie", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    t = pq.read_table(out / "requests.parquet")
    assert t.column("h_x_custom").to_pylist() == ["[redacted]"] * 6  # the server echoed a token given: masked
    assert token.encode() not in (out / "requests.parquet").read_bytes() + (out / "run.json").read_bytes()


def test_workers_share_the_run(faulty, tmp_path, cli):
    out = tmp_path / "r"
    mark = faulty.mark()
    r = cli("probe", f"{faulty.base_url}/ok", "-n", "2000", "-c", "8", "--workers", "2", "--quiet",
            "--out", str(out), timeout=120)
    assert r.returncode == 0, r.stderr
    rows = pq.read_table(out / "requests.parquet").to_pylist()
    truth = faulty.events(mark)
    assert len(rows) == 2000
    assert sorted(r["seq"] for r in rows) == list(range(2000))
    assert {r["worker"] for r in rows} == {0, 1}
    assert all(r["status"] == 200 and r["error_kind"] is None for r in rows)
    conns = by_connection(rows)
    assert all(len({r["worker"] for r in g}) == 1 for g in conns.values())  # no id shared by two workers
    for g in conns.values():
        assert [r["conn_requests"] for r in g] == list(range(len(g)))
    # Connection by connection, as many requests as the server saw on each client port.
    assert len(conns) == len(by_port(truth)) == 8
    assert sorted(len(g) for g in conns.values()) == sorted(len(g) for g in by_port(truth).values())


@pytest.mark.parametrize(
    "shape, vus",
    [(["-c", "2", "-n", "40", "--workers", "3"], 2), (["--stages", "1500ms:=3", "--workers", "2"], 3)],
    ids=["more-workers-than-vus", "stage-not-divisible"],
)
def test_workers_never_exceed_the_virtual_users(faulty, tmp_path, cli, shape, vus):
    out = tmp_path / "r"
    mark = faulty.mark()
    r = cli("probe", f"{faulty.base_url}/delay/20", *shape, "--quiet", "--out", str(out), timeout=120)
    assert r.returncode == 0, r.stderr
    rows = pq.read_table(out / "requests.parquet").to_pylist()
    assert rows and all(r["status"] == 200 for r in rows)
    # Each virtual user holds one keep-alive connection, and the server saw each client port.
    connections, ports = len(by_connection(rows)), len(by_port(faulty.events(mark)))
    assert connections == ports == vus
