"""A server that closes a keep-alive connection right after answering, without ``Connection: close``.

uvicorn does that after an unhandled exception (500, then close); some servers do it after N
requests per connection. The prober writes its next request from the callback that read the
response, before the close arrives, and that request dies unanswered on the dead connection. A real
client would not see it (browsers and client pools send it again on a new connection), so the
prober does the same, once, instead of recording a reset. A request that meets a connection closed
after an idle gap is a different story (a keep-alive timeout race real clients do see) and stays a
recorded failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import FaultyServer, faulty_app

from tracehound.demo import free_port, wait_ready
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, Target, probe

ROOT = Path(__file__).resolve().parent.parent


def rows_of(run) -> list[dict]:  # noqa: ANN001
    return sorted(run.table.to_pylist(), key=lambda r: r["seq"])


def retried(run) -> int:  # noqa: ANN001
    return run.meta.counts.retried_on_new_connection


# -- uvicorn + FastAPI, an exception on every other request ------------------------------------


@dataclass
class CrashApp:
    url: str

    def handled(self) -> int:
        """How many ``/x`` requests the app really handled so far."""
        with urllib.request.urlopen(self.url + "/count", timeout=5) as r:
            return json.loads(r.read())["handled"]


@pytest.fixture(scope="module")
def crash_app() -> Iterator[CrashApp]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.servers.crash_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "critical"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_ready(port, proc)
        yield CrashApp(f"http://127.0.0.1:{port}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def assert_only_500_and_200(rows: list[dict], n: int) -> None:
    assert len(rows) == n
    assert [r["seq"] for r in rows] == list(range(n))
    assert all(r["error_kind"] is None for r in rows), Counter((r["error_kind"], r["error"]) for r in rows)
    statuses = Counter(r["status"] for r in rows)
    assert set(statuses) == {200, 500}, statuses
    # Every other request the app handles fails; the 500s and 200s differ by the run's start parity
    # and, with several users, by the order in which requests reach the app.
    assert abs(statuses[200] - statuses[500]) <= n // 4 + 1, statuses


@pytest.mark.parametrize("users", [1, 4])
def test_closed_model_records_the_500s_and_no_resets(crash_app, tmp_path, users):
    before = crash_app.handled()
    n = 60
    run = probe(ProbeConfig(LoadShape(concurrency=users, requests=n), Target(crash_app.url + "/x"), out=tmp_path / "r"))
    rows = rows_of(run)
    assert_only_500_and_200(rows, n)
    assert crash_app.handled() - before == n  # each request reached the app once: none sent twice
    # The request after each 500 met the closed connection and went again on a new one.
    assert retried(run) >= Counter(r["status"] for r in rows)[500] - users
    retried_rows = [r for r in rows if not r["conn_reused"] and r["seq"] >= users]
    assert all(r["connect_ms"] > 0 for r in retried_rows)
    assert all(r["intended_start_ns"] < r["start_ns"] for r in retried_rows)  # the first attempt's start


def test_closed_model_via_the_cli(crash_app, tmp_path, cli):
    out = tmp_path / "r"
    r = cli("probe", crash_app.url + "/x", "-c", "1", "-n", "20", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    import pyarrow.parquet as pq

    t = pq.read_table(out / "requests.parquet").to_pylist()
    assert Counter((row["status"], row["error_kind"]) for row in t) == {(200, None): 10, (500, None): 10}
    counts = json.loads((out / "run.json").read_text())["counts"]
    assert counts["retried_on_new_connection"] >= 9


def test_open_model_records_the_500s_and_no_resets(crash_app, tmp_path):
    before = crash_app.handled()
    n = 200
    # Few connections and a high rate: requests queue, and each response's callback sends the next.
    shape = LoadShape(rate=2000, requests=n, open_model=True, max_connections=2)
    run = probe(ProbeConfig(shape, Target(crash_app.url + "/x"), out=tmp_path / "r"))
    assert_only_500_and_200(rows_of(run), n)
    assert crash_app.handled() - before == n
    assert retried(run) > 0
    assert run.meta.counts.dropped == 0


@pytest.mark.parametrize("open_model", [False, True], ids=["closed", "open"])
def test_flow_records_the_500s_and_no_resets(crash_app, tmp_path, open_model):
    before = crash_app.handled()
    n = 60
    flow = Flow.from_dict({"steps": [{"name": "a", "path": "/x"}, {"name": "b", "path": "/x"}]})
    shape = (LoadShape(rate=500, requests=n, open_model=True, max_connections=2) if open_model
             else LoadShape(concurrency=2, requests=n))
    run = probe(ProbeConfig(shape, flow=flow, base_url=crash_app.url, out=tmp_path / "r"))
    assert_only_500_and_200(rows_of(run), n)
    assert crash_app.handled() - before == n


# -- a server that closes every connection after its first response -----------------------------


@pytest.fixture(scope="module")
def faulty_close1(tmp_path_factory) -> Iterator[FaultyServer]:
    """The faulty app closing every connection silently (FIN, no ``Connection: close``) after one response."""
    with faulty_app(tmp_path_factory.mktemp("faulty-close1"), "--close-after", "1") as server:
        yield server


def test_closed_model_on_a_server_that_closes_after_each_response(faulty_close1, tmp_path):
    mark = faulty_close1.mark()
    n, users = 30, 2
    run = probe(ProbeConfig(LoadShape(concurrency=users, requests=n), Target(faulty_close1.base_url + "/ok"),
                            out=tmp_path / "r"))
    rows = rows_of(run)
    assert len(rows) == n and all(r["status"] == 200 and r["error_kind"] is None for r in rows)
    assert not any(r["conn_reused"] for r in rows)  # each answered request was its connection's first
    # Each user's first request went on a fresh connection; every later one met a dead reuse first.
    assert retried(run) == n - users
    assert run.meta.counts.connections == n
    truth = faulty_close1.wait_events(mark, n)
    assert len(truth) == n and all(e["conn_request"] == 1 and e["status"] == 200 for e in truth)
    assert len(faulty_close1.wait_events(mark, n, kinds=("close",))) == n


def test_open_model_on_a_server_that_closes_after_each_response(faulty_close1, tmp_path):
    mark = faulty_close1.mark()
    n = 60
    run = probe(ProbeConfig(LoadShape(rate=1000, requests=n, open_model=True, max_connections=1),
                            Target(faulty_close1.base_url + "/ok"), out=tmp_path / "r"))
    rows = rows_of(run)
    assert len(rows) == n and all(r["status"] == 200 and r["error_kind"] is None for r in rows)
    assert len(faulty_close1.wait_events(mark, n)) == n


def test_flow_on_a_server_that_closes_after_each_response(faulty_close1, tmp_path):
    mark = faulty_close1.mark()
    n = 30
    flow = Flow.from_dict({"steps": [
        {"name": "create", "method": "POST", "path": "/items", "json": {"n": "{iter}"}, "capture": {"id": "$.id"}},
        {"name": "read", "path": "/items/{id}"},
    ]})
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=n), flow=flow, base_url=faulty_close1.base_url,
                            out=tmp_path / "r"))
    rows = rows_of(run)
    assert len(rows) == n and all(r["error_kind"] is None for r in rows), Counter(r["error"] for r in rows)
    statuses = Counter(r["status"] for r in rows)
    assert set(statuses) == {200, 201}
    assert 0 <= statuses[201] - statuses[200] <= 2  # the request bound may fall between create and read
    truth = faulty_close1.wait_events(mark, n)
    assert len(truth) == n  # no request reached the server twice
    assert Counter(e["status"] for e in truth) == statuses
    assert all(e["conn_request"] == 1 for e in truth)
    assert retried(run) > 0


# -- a server that hangs up on the second request of a connection -------------------------------


@dataclass
class HangUpServer:
    """Answers the first request on a connection; reads any later one whole, then closes (FIN) without a response."""

    port: int = 0
    seen: list[tuple[int, int, str]] = field(default_factory=list)  # (connection, n-th on it, path)


@pytest.fixture
def hangup_server() -> Iterator[HangUpServer]:
    state = HangUpServer()
    ids = itertools.count(1)
    writers: set[asyncio.StreamWriter] = set()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        cid, n = next(ids), 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")  # GETs: no body
                n += 1
                state.seen.append((cid, n, head.split(b" ", 2)[1].decode()))
                if n > 1:
                    return  # all of the request read, so the close is a FIN, not a reset
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writers.discard(writer)
            writer.close()

    async def start() -> asyncio.Server:
        return await asyncio.start_server(handle, "127.0.0.1", 0)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(start())
        state.port = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        server.close()
        for w in list(writers):
            w.close()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    thread = threading.Thread(target=serve, name="hangup-server", daemon=True)
    thread.start()
    assert ready.wait(5), "the hang-up server did not start"
    try:
        yield state
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        assert not thread.is_alive()


GAP_FLOW = {"steps": [{"name": "first", "path": "/first"}, {"name": "after_gap", "path": "/second", "pause": 0.2}]}


def test_a_close_after_an_idle_gap_is_a_failure_not_a_retry(hangup_server, tmp_path):
    """The idle keep-alive race: a request on a connection idle 200 ms that the server closes."""
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=4), flow=Flow.from_dict(GAP_FLOW),
                            base_url=f"http://127.0.0.1:{hangup_server.port}", out=tmp_path / "r"))
    rows = rows_of(run)
    assert [(r["step"], r["status"], r["error_kind"]) for r in rows] == [
        ("first", 200, None), ("after_gap", 0, "remote_disconnected")] * 2
    failed = [r for r in rows if r["error_kind"]]
    assert all(r["conn_reused"] and r["conn_idle_ms"] >= 150 for r in failed)
    assert all(r["error"] == "server closed the connection without responding" for r in failed)
    assert retried(run) == 0
    assert hangup_server.seen == [(1, 1, "/first"), (1, 2, "/second"), (2, 1, "/first"), (2, 2, "/second")]


def test_a_close_after_an_idle_gap_in_the_open_model_is_a_failure(hangup_server, tmp_path):
    """Arrivals 200 ms apart on one connection: each second request meets the close and fails."""
    shape = LoadShape(rate=5, requests=6, open_model=True, max_connections=1)
    run = probe(ProbeConfig(shape, Target(f"http://127.0.0.1:{hangup_server.port}/x"), out=tmp_path / "r"))
    rows = rows_of(run)
    assert [(r["status"], r["error_kind"]) for r in rows] == [(200, None), (0, "remote_disconnected")] * 3
    assert all(r["conn_reused"] and r["conn_idle_ms"] >= 100 for r in rows if r["error_kind"])
    assert retried(run) == 0
    assert [(c, k) for c, k, _ in hangup_server.seen] == [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]


def test_the_same_close_without_a_gap_is_retried_once(hangup_server, tmp_path):
    """Back to back, the same hang-up looks like a close right after the response: sent again, answered."""
    flow = Flow.from_dict({"steps": [{"name": "first", "path": "/first"}, {"name": "second", "path": "/second"}]})
    run = probe(ProbeConfig(LoadShape(concurrency=1, requests=4), flow=flow,
                            base_url=f"http://127.0.0.1:{hangup_server.port}", out=tmp_path / "r"))
    rows = rows_of(run)
    assert [(r["step"], r["status"], r["error_kind"]) for r in rows] == [
        ("first", 200, None), ("second", 200, None)] * 2
    assert not any(r["conn_reused"] for r in rows)
    assert retried(run) == 3
    # Each request after the first: once as the 2nd on a connection (hung up), then answered on a new one.
    assert hangup_server.seen == [
        (1, 1, "/first"), (1, 2, "/second"), (2, 1, "/second"), (2, 2, "/first"), (3, 1, "/first"),
        (3, 2, "/second"), (4, 1, "/second")]


def test_a_retry_that_fails_too_is_recorded(tmp_path):
    """A server that answers a connection's first request and hangs up on its first request too
    after that: the retry (first on its connection) is not retried again."""
    seen: list[tuple[int, str]] = []
    ids = itertools.count(1)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    answered = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cid = next(ids)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append((cid, head.split(b" ", 2)[1].decode()))
                if answered[0] >= 1:
                    return  # from the second request on: hang up, whatever the connection
                answered[0] += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        port.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()
        server.close()
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5)
    try:
        run = probe(ProbeConfig(LoadShape(concurrency=1, requests=2), Target(f"http://127.0.0.1:{port[0]}/x"),
                                out=tmp_path / "r"))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    rows = rows_of(run)
    assert [(r["status"], r["error_kind"]) for r in rows] == [(200, None), (0, "remote_disconnected")]
    assert not rows[1]["conn_reused"]  # the recorded failure is the retry's, on its new connection
    assert retried(run) == 1
    assert seen == [(1, "/x"), (1, "/x"), (2, "/x")]


def test_a_retry_keeps_its_seq_user_and_intended_start(faulty_close1, tmp_path):
    users, n = 3, 30
    run = probe(ProbeConfig(LoadShape(concurrency=users, requests=n), Target(faulty_close1.base_url + "/ok"),
                            out=tmp_path / "r"))
    rows = rows_of(run)
    assert [r["seq"] for r in rows] == list(range(n))
    assert retried(run) == n - users
    by_vu: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        by_vu[r["vu"]].append(r)
    assert sorted(by_vu) == list(range(users))
    for chain in by_vu.values():
        chain.sort(key=lambda r: r["start_ns"])
        for prev, r in zip(chain, chain[1:], strict=False):
            # A user sends its next request as its previous one ends. The retry keeps that first
            # attempt's time as its intended start; its own start and connect are the retry's.
            prev_end = prev["intended_start_ns"] + prev["total_ms"] * 1e6
            assert prev_end - 1e5 <= r["intended_start_ns"] < r["start_ns"]
            assert r["connect_ms"] > 0
