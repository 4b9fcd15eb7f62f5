"""The PostgreSQL inspector on a real throwaway server: each condition is created for real, then sampled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest

from tracehound.agents.base import AgentResult
from tracehound.agents.postgres import TIMELESS, PostgresSampler, postgres_agent
from tracehound.analysis.synthetic import FakeRun, experiment, table
from tracehound.case import Case, Sources
from tracehound.lab import servers
from tracehound.probe import LoadShape, ProbeConfig, Target, probe

pytestmark = pytest.mark.lab

SCHEMA = ("CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL); "
          "INSERT INTO items SELECT g, 10 FROM generate_series(1, 200) g;")


@pytest.fixture(scope="module")
def pg(tmp_path_factory) -> Iterator[servers.Postgres]:
    """A server with 20 connections (17 usable) that ends sessions idle for 30 s."""
    try:
        with servers.postgres(tmp_path_factory.mktemp("pg"),
                              settings={"max_connections": 20, "idle_session_timeout": "30s"}) as p:
            p.psql(SCHEMA, user="app")
            yield p
    except servers.MissingBinary as e:  # pragma: no cover - the suite's make target installs PostgreSQL
        pytest.skip(str(e))


def run(coro) -> AgentResult:
    return asyncio.run(coro)


def strongest(res: AgentResult) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in res.signals:
        out[s.name] = max(out.get(s.name, 0.0), s.strength)
    return out


def sig(res: AgentResult, name: str):
    return next(s for s in res.signals if s.name == name)


@contextlib.contextmanager
def sampling(dsn: str, interval_s: float = 0.2, heavy_every_s: float = 1.0) -> Iterator[PostgresSampler]:
    sampler = PostgresSampler(dsn, interval_s=interval_s, heavy_every_s=heavy_every_s).start()
    try:
        yield sampler
    finally:
        sampler.stop()
    assert not sampler.running and sampler.crash is None


def connect(pg: servers.Postgres, app: str, **kw) -> psycopg.Connection:
    return psycopg.connect(pg.dsn, application_name=app, **kw)


# -- sessions ------------------------------------------------------------------------------------


def test_held_connections_an_idle_transaction_and_a_lock_wait(pg):
    with contextlib.ExitStack() as stack, sampling(pg.dsn) as sampler:
        for _ in range(11):
            stack.enter_context(connect(pg, "holder"))
        idle = stack.enter_context(connect(pg, "forgetful"))
        idle.execute("SELECT qty FROM items WHERE id = 1")  # opens a transaction and leaves it open
        locker = stack.enter_context(connect(pg, "locker"))
        locker.execute("UPDATE items SET qty = qty - 1 WHERE id = 2")
        locker_pid = locker.info.backend_pid

        def waiter() -> None:
            with connect(pg, "waiter") as c:
                c.execute("UPDATE items SET qty = qty - 1 WHERE id = 2")

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(1.5)
        locker.rollback()
        t.join(10)
        time.sleep(0.3)
    res = run(postgres_agent(None, [], sampler))
    assert res.status == "ok", res.detail
    got = strongest(res)
    assert sig(res, "pg:connections_near_max").value >= 0.8  # 11 + 3 + the waiter + ours of 17
    assert got["pg:idle_in_transaction"] >= 0.3
    blocked = sig(res, "pg:blocked_sessions")
    assert f"pid {locker_pid}" in " ".join(blocked.exemplars)
    assert "idle in transaction" in blocked.exemplars[0]
    assert "pg:statement_calls_per_request_high" not in res.tested  # no probed requests to count against
    conns = next(f for f in res.findings if f.title == "PostgreSQL connections")
    assert "holder 11" in conns.detail and "tracehound" not in conns.detail  # its own session is left out


def test_a_server_out_of_connection_slots_refuses_the_inspector_too(pg):
    # Ticks 0.5 s apart: the test takes the inspector's freed slot before it reconnects.
    with contextlib.ExitStack() as stack, sampling(pg.dsn, interval_s=0.5) as sampler:
        time.sleep(0.6)
        def fill() -> int:
            n = 0
            with contextlib.suppress(psycopg.OperationalError):
                while n < 30:  # until the server refuses: 17 slots for ordinary roles
                    stack.enter_context(connect(pg, "hog"))
                    n += 1
            return n

        held = fill()
        pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tracehound'")
        held += fill()  # the inspector's slot too, before its next tick reconnects
        time.sleep(1.5)  # it tries again every tick, and is refused
    assert 16 <= held <= 17
    res = run(postgres_agent(None, [], sampler))
    near = sig(res, "pg:connections_near_max")
    assert near.strength == 1.0 and any("refused" in e for e in near.exemplars)
    down = sig(res, "pg:unavailable_during_run")  # its session was terminated once; refusals after that are not outages
    assert len(down.exemplars) == 1 and "terminating connection" in down.exemplars[0]


def test_passwords_in_statements_are_masked(pg):
    with connect(pg, "rotator") as c, sampling(pg.dsn) as sampler:
        c.execute("ALTER ROLE app PASSWORD 'app-secret'")  # the same password: left idle in its transaction
        time.sleep(0.6)
        c.rollback()
    res = run(postgres_agent(None, [], sampler))
    text = json.dumps(res.to_dict())
    assert "app-secret" not in text
    assert "PASSWORD '[redacted]'" in " ".join(sig(res, "pg:idle_in_transaction").exemplars)


def test_transactions_left_open_accumulate(pg):
    with contextlib.ExitStack() as stack, sampling(pg.dsn, interval_s=0.25) as sampler:
        time.sleep(0.5)
        for _ in range(3):
            c = stack.enter_context(connect(pg, "leaky"))
            c.execute("SELECT count(*) FROM items")
        time.sleep(6.0)
    res = run(postgres_agent(None, [], sampler))
    acc = sig(res, "pg:open_transactions_accumulate")
    assert acc.value == 3
    assert "pg:open_transactions_accumulate" in res.tested


def test_a_healthy_idle_server_shows_nothing_wrong(pg):
    with sampling(pg.dsn) as sampler:
        time.sleep(0.5)  # the first statement snapshot comes before the queries
        with connect(pg, "quick", autocommit=True) as c:
            for i in range(50):
                c.execute("SELECT qty FROM items WHERE id = %s", (i + 1,))
        time.sleep(1.0)
    res = run(postgres_agent(None, [], sampler))
    got = set(strongest(res))
    assert got <= {"pg:idle_session_timeout_set"}, got
    assert {"pg:idle_in_transaction", "pg:blocked_sessions", "pg:connections_near_max",
            "pg:statement_slow"} <= set(res.tested)


# -- statements against probed requests ------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    dsn = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        with psycopg.connect(self.dsn, autocommit=True) as c:
            if self.path.startswith("/list"):
                ids = [r[0] for r in c.execute("SELECT id FROM items ORDER BY id LIMIT 50")]
                for i in ids:  # one query per item: the N+1 pattern
                    c.execute("SELECT qty FROM items WHERE id = %s", (i,))
            elif self.path.startswith("/slow"):
                c.execute("SELECT pg_sleep(0.3)")
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def app_url(pg) -> Iterator[str]:
    """A small threaded HTTP service over the test database."""
    handler = type("Handler", (_Handler,), {"dsn": pg.dsn})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


@contextlib.contextmanager
def background_job(pg: servers.Postgres, every_s: float = 0.05) -> Iterator[None]:
    """A statement some other process runs on a timer, whatever the requests do."""
    stop = threading.Event()

    def loop() -> None:
        with connect(pg, "cron", autocommit=True) as c:
            while not stop.wait(every_s):
                c.execute("SELECT count(*) FROM items WHERE qty >= 0")

    t = threading.Thread(target=loop)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(5)


def probe_once(url: str, out: Path, concurrency: int, requests: int):
    return probe(ProbeConfig(LoadShape(concurrency=concurrency, requests=requests), Target(url), out=out))


def test_calls_per_probed_request_find_the_n_plus_one(pg, app_url, tmp_path):
    with background_job(pg), sampling(pg.dsn) as sampler:
        time.sleep(2.5)  # the background job alone: its rate is not counted against the requests
        sampler.mark("sweep")
        r = probe_once(app_url + "/list", tmp_path / "run", concurrency=2, requests=60)
        sampler.mark("after")
        time.sleep(2.5)
    assert r.table.num_rows == 60
    res = run(postgres_agent(None, [r], sampler))
    n1 = sig(res, "pg:statement_calls_per_request_high")
    assert 40 <= n1.value <= 60, n1.detail
    assert n1.strength >= 0.6
    assert not any("count(" in e for e in n1.exemplars), n1.exemplars  # the timer's statement is not N+1
    assert "pg:statement_slow" in res.tested and "pg:statement_slow" not in strongest(res)


def test_a_slow_statement_is_measured_while_requests_run(pg, app_url, tmp_path):
    with sampling(pg.dsn) as sampler:
        sampler.mark("baseline")
        r = probe_once(app_url + "/slow", tmp_path / "run", concurrency=2, requests=6)
        time.sleep(0.3)
    res = run(postgres_agent(None, [r], sampler))
    slow = sig(res, "pg:statement_slow")
    assert slow.value >= 250 and 0.4 <= slow.strength < 0.8  # 300 ms: clearly slow, not the worst
    assert "pg_sleep" in slow.exemplars[0]
    assert "pg:statement_calls_per_request_high" not in strongest(res)


# -- settings, ended sessions, outages --------------------------------------------------------------


def test_snapshot_without_a_sampler_reads_the_settings(pg):
    case = Case(target=Target("http://127.0.0.1:9/"), sources=Sources(db=pg.dsn))
    res = run(postgres_agent(case, []))
    assert res.status == "ok"
    assert sig(res, "pg:idle_session_timeout_set").value == 30
    assert {"pg:statement_timeout_set", "pg:lock_timeout_set"} <= set(res.tested)
    assert not {"pg:statement_timeout_set", "pg:lock_timeout_set"} & set(strongest(res))
    earlier = FakeRun(table(30), experiment("sweep", 4))  # requests long before the snapshot
    after = run(postgres_agent(case, [earlier]))
    assert set(after.tested) == set(TIMELESS), after.tested  # activity now says nothing of then
    assert "snapshot taken after them" in after.detail


def test_sessions_ended_by_the_server_or_abandoned_by_their_client(pg):
    with sampling(pg.dsn) as sampler:
        time.sleep(0.3)
        victim = connect(pg, "victim")
        victim.execute("SELECT 1")
        pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim'")
        code = f"import os, psycopg; c = psycopg.connect({pg.dsn!r}); c.execute('SELECT 1'); os._exit(0)"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
        time.sleep(0.5)
        victim.close()
    res = run(postgres_agent(None, [], sampler))
    assert sig(res, "pg:sessions_terminated").value >= 1
    assert sig(res, "pg:sessions_abandoned").value >= 1


def test_a_server_that_goes_away_is_a_signal_not_a_crash(tmp_path):
    with servers.postgres(tmp_path / "pg") as p, sampling(p.dsn) as sampler:
        time.sleep(0.8)
        p.process.stop()
        time.sleep(1.2)
    res = run(postgres_agent(None, [], sampler))
    assert res.status == "ok"
    down = sig(res, "pg:unavailable_during_run")
    assert down.value > 0.2 and down.exemplars


# -- replication ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def replica_of(primary: servers.Postgres, log_dir: Path) -> Iterator[tuple[int, Path]]:
    """A streaming replica of ``primary`` (pg_basebackup -R), on its own port: yields (port, socket dir)."""
    ids = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root; the lab runs it as nobody
        pw = pwd.getpwnam("nobody")
        ids = (pw.pw_uid, pw.pw_gid)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    root = servers.temp_dir("replica")
    servers.give_away(root, ids)
    data = root / "data"
    backup = servers.Process("pg_basebackup", [primary.bindir / "pg_basebackup", "-h", primary.socket_dir,
                                               "-p", primary.port, "-U", "postgres", "-D", data, "-R", "-X", "stream",
                                               "--no-sync", "-c", "fast"],
                             log_dir / "basebackup.log", env=env, ids=ids).start()
    try:
        assert backup.popen.wait(60) == 0, backup.tail()
    finally:
        backup.stop(grace=0)
    port = servers.free_port()
    proc = servers.Process("postgres-replica", [primary.bindir / "postgres", "-D", data, "-p", port,
                                                "-c", "listen_addresses=127.0.0.1",
                                                "-c", f"unix_socket_directories={root}", "-c", "hot_standby=on",
                                                "-c", "fsync=off"],
                           log_dir / "replica.log", env=env, ids=ids, stop_signal=signal.SIGINT).start()
    try:
        def ready() -> bool:
            try:
                psycopg.connect(primary.dsn.replace(f":{primary.port}/", f":{port}/"), connect_timeout=2).close()
                return True
            except psycopg.Error:
                return False

        servers.wait_until(proc, ready, "accepting connections as a replica")
        yield port, root
    finally:
        proc.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_replica_that_stopped_replaying_shows_lag_from_both_ends(pg, tmp_path):
    with replica_of(pg, tmp_path) as (port, sock):
        psql = [str(pg.bindir / "psql"), "-X", "-q", "-h", str(sock), "-p", str(port), "-U", "postgres", "-d", "app",
                "-c"]
        replica_dsn = pg.dsn.replace(f":{pg.port}/", f":{port}/")
        with sampling(pg.dsn) as on_primary, sampling(replica_dsn) as on_replica:
            time.sleep(0.5)
            subprocess.run([*psql, "SELECT pg_wal_replay_pause()"], check=True, capture_output=True, timeout=120)
            with connect(pg, "writer", autocommit=True) as w:
                for i in range(10):
                    w.execute("UPDATE items SET qty = qty + 1 WHERE id = %s", (i + 1,))
                    time.sleep(0.2)
            time.sleep(0.5)
            subprocess.run([*psql, "SELECT pg_wal_replay_resume()"], check=True, capture_output=True, timeout=120)
        primary = run(postgres_agent(None, [], on_primary))
        replica = run(postgres_agent(None, [], on_replica))
    assert "pg:replication_lag" in primary.tested and "pg:replication_lag" in replica.tested
    assert sig(primary, "pg:replication_lag").value >= 1.0, sig(primary, "pg:replication_lag").detail
    assert sig(replica, "pg:replication_lag").value >= 1.0
    assert "this server is a replica" in sig(replica, "pg:replication_lag").detail


def test_a_primary_without_replicas_does_not_test_replication(pg):
    res = run(postgres_agent(Case(target=Target("http://127.0.0.1:9/"), sources=Sources(db=pg.dsn)), []))
    assert "pg:replication_lag" not in res.tested


# -- what it cannot see ------------------------------------------------------------------------------


def test_without_pg_stat_statements_it_says_what_is_lost(pg):
    pg.psql("CREATE DATABASE nostats OWNER app", database="postgres")
    dsn = pg.dsn.rsplit("/", 1)[0] + "/nostats"
    res = run(postgres_agent(Case(target=Target("http://127.0.0.1:9/"), sources=Sources(db=dsn)), []))
    assert res.status == "ok"
    lost = next(f for f in res.findings if f.title == "Statements not measured")
    assert "pg_stat_statements" in lost.detail and "N+1" in lost.detail
    assert not {"pg:statement_slow", "pg:statement_calls_per_request_high"} & set(res.tested)


def test_a_role_without_pg_read_all_stats_is_told_so(pg):
    pg.psql("CREATE ROLE viewer LOGIN PASSWORD 'viewer-pass'", database="postgres")
    dsn = f"postgresql://viewer:viewer-pass@127.0.0.1:{pg.port}/app"
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            c = stack.enter_context(connect(pg, "app-worker"))
            c.execute("SELECT 1")
        res = run(postgres_agent(Case(target=Target("http://127.0.0.1:9/"), sources=Sources(db=dsn)), []))
    assert res.status == "ok"
    view = next(f for f in res.findings if f.title == "Limited view")
    assert "pg_read_all_stats" in view.detail
    assert "pg:idle_in_transaction" not in res.tested  # it could not have seen them


# -- bad input ------------------------------------------------------------------------------------------


def test_bad_sources_fail_in_one_line(pg):
    def agent(dsn: str) -> AgentResult:
        return run(postgres_agent(Case(target=Target("http://127.0.0.1:9/"), sources=Sources(db=dsn)), []))

    wrong = agent(pg.dsn.replace("app-secret", "wrong-secret"))
    assert wrong.status == "failed" and "password authentication failed" in wrong.detail
    refused = agent(f"postgresql://app:x@127.0.0.1:{servers.free_port()}/app")
    assert refused.status == "failed" and "cannot connect" in refused.detail
    garbled = agent("this is not a dsn")
    assert garbled.status == "failed" and "not a PostgreSQL DSN" in garbled.detail
    for r in (wrong, refused, garbled):
        assert "\n" not in r.detail and "wrong-secret" not in r.detail
    assert run(postgres_agent(Case(target=Target("http://127.0.0.1:9/")), [])).status == "skipped"


def test_a_sampler_with_a_wrong_password_gives_up_at_once(pg):
    with sampling(pg.dsn.replace("app-secret", "wrong-secret")) as sampler:
        time.sleep(0.8)
    assert len(sampler.samples) == 1  # one refused attempt, not one per tick
    res = run(postgres_agent(None, [], sampler))
    assert res.status == "failed" and "password authentication failed" in res.detail and "\n" not in res.detail


def test_db_command(pg, cli):
    ok = cli("db", pg.dsn, "-d", "1s", "--interval", "0.2", "--json")
    assert ok.returncode == 0, ok.stderr
    assert '"name": "postgres"' in ok.stdout and "pg:idle_session_timeout_set" in ok.stdout
    wrong = cli("db", pg.dsn.replace("app-secret", "nope-secret"), "-d", "1s")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "password authentication failed" in wrong.stderr and "nope-secret" not in wrong.stderr
    refused = cli("db", f"postgresql://app:x@127.0.0.1:{servers.free_port()}/app", "-d", "1s")
    assert refused.returncode == 3 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("tracehound: error: cannot connect to PostgreSQL")
