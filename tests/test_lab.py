"""The lab: scenario metadata, throwaway servers (and that nothing outlives them), and checks."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import yaml
from lab_twin import twin_meets

from tracehound import lab
from tracehound.errors import BadScenario, MissingBinary
from tracehound.failure_modes import FAILURE_MODES
from tracehound.lab import servers
from tracehound.lab.scenario import SCENARIO_FILE, load_scenario
from tracehound.lab.verdict import over_range_allowed, twin_verdict
from tracehound.verify import Slo, verify

ROOT = Path(__file__).resolve().parents[1]
FAST = ("demo", "healthy_slow")
#: Checked on the runs tests/test_agents_metrics.py makes of them (faulty in range, twin clean, verify).
INSTRUMENTED = ("demo_instrumented", "login_bcrypt_blocking_instrumented")


# -- process helpers --------------------------------------------------------------------------


def _ppids() -> dict[int, int]:
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    out[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return out


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, grandchildren…)."""
    tree: dict[int, list[int]] = {}
    for child, parent in _ppids().items():
        tree.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for c in tree.get(todo.pop(), []):
            if c not in found:
                found.add(c)
                todo.append(c)
    return found


def alive(pids: set[int]) -> set[int]:
    """The ones still running (zombies count as gone: they hold nothing)."""
    out = set()
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    out.add(p)
        except OSError:
            pass
    return out


def wait_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


@contextmanager
def no_orphans() -> Iterator[set[int]]:
    """Collects our new descendants (add to the set inside the block); after it, all must be gone."""
    # Every process that exists already is not this block's, whoever its parent is now (a
    # session fixture's server can be reparented between the two looks).
    before = descendants(os.getpid()) | set(_ppids())
    seen: set[int] = set()
    try:
        yield seen
    finally:
        seen |= descendants(os.getpid())
        seen -= before
    left = wait_gone(seen)
    assert not left, f"processes outlived their context: {[(pid, _cmdline(pid)) for pid in sorted(left)]}"


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")[:160]
    except OSError:
        return "?"


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("GET", (u.path or "/") + (f"?{u.query}" if u.query else ""))
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def uid_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid line")


HELLO_APP = '''
import os

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = ("hello from " + os.environ.get("GREETING", "nobody")).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
'''


# -- scenario metadata ------------------------------------------------------------------------


def test_every_scenario_folder_loads_and_is_consistent() -> None:
    folders = sorted(p.parent.name for p in lab.SCENARIOS_DIR.glob(f"*/{SCENARIO_FILE}"))
    found = lab.scenarios()
    assert [s.name for s in found] == folders
    assert {"demo", "healthy_fast", "healthy_slow", "tasks_session_leak", "profile_gateway_timeout"} <= set(folders)
    for sc in found:
        assert sc.failure_mode == "none" or sc.failure_mode in FAILURE_MODES, sc.name
        if sc.healthy:
            assert sc.fixed is None and sc.expected_failure_rate == (0.0, 0.0), sc.name
        else:
            assert sc.fixed is not None and sc.fixed != sc.faulty, f"{sc.name} has no fixed twin"
            lo, hi = sc.expected_failure_rate
            assert 0 < lo <= hi <= 1, sc.name
        words = sc.failure_mode.replace("_", " ")
        assert sc.failure_mode not in sc.symptom and words not in sc.symptom.lower(), \
            f"{sc.name}: symptom names the cause"
        assert sc.shape.planned_duration is not None and sc.shape.planned_duration <= 20
        config = sc.probe_config("http://127.0.0.1:9")
        assert (config.flow is None) != (config.target is None)


def test_the_faulty_code_never_shows_its_fix() -> None:
    for sc in lab.scenarios():
        names = {p.name for p in sc.code_files(False)}
        assert SCENARIO_FILE not in names
        if sc.fixed is not None:
            only_fixed = sc.fixed.files() - sc.faulty.files()
            assert not names & only_fixed, sc.name
            assert not {p.name for p in sc.code_files(True)} & (sc.faulty.files() - sc.fixed.files())


def test_demo_needs_no_external_server() -> None:
    demo = lab.get_scenario("demo")
    assert demo.needs == () and demo.failure_mode == "db_pool_exhaustion"


def _write(folder: Path, doc: dict, files: tuple[str, ...] = ("app.py", "app_fixed.py")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f).write_text("app = None\n")
    (folder / SCENARIO_FILE).write_text(yaml.safe_dump(doc))
    return folder


def _valid(name: str) -> dict:
    return {
        "name": name,
        "failure_mode": "db_pool_exhaustion",
        "symptom": "pages fail when busy",
        "app": {"module": "app:app"},
        "target": {"path": "/"},
        "load": {"concurrency": 4, "duration": 2},
        "expected_failure_rate": [0.1, 0.5],
        "fixed": {"module": "app_fixed:app"},
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"failure_mode": "gremlins"}, "unknown failure_mode 'gremlins'"),
        ({"fixed": None}, "needs a 'fixed' twin"),
        ({"name": "other"}, "must be the folder's name"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"load": {"concurrency": 4, "duration": 60}}, "keep a scenario's check under"),
        ({"load": {"concurrency": 4, "requests": 100}}, "needs a time bound"),
        ({"flow": {"steps": [{"name": "a", "path": "/"}]}}, "exactly one of 'target' or 'flow'"),
        ({"app": {"module": "missing:app"}}, "'missing.py' does not exist"),
        ({"expected_failure_rate": [0.5, 0.1]}, "0 <= lo <= hi <= 1"),
        ({"fixed": {"module": "app:app"}}, "changes nothing"),
        ({"nginx": {"config": "nginx.conf"}}, "'needs' does not list nginx"),
        ({"symptom": "one\ntwo"}, "one line"),
        ({"failure_mode": "none", "expected_failure_rate": [0, 0]}, "has no 'fixed' twin"),
        ({"target": {"path": "no-slash"}}, "target.path must start with '/'"),
        ({"load": {"concurrency": 0, "duration": 2}}, "-c must be > 0"),
        ({"expect": ["$.items["]}, "expect '$.items[': not a JSON path"),
        ({"expect": "$.items"}, "'expect' is a list of expectations of the target"),
    ],
)
def test_invalid_scenarios_get_one_clear_error(tmp_path: Path, change: dict, message: str) -> None:
    doc = {**_valid("broken"), **change}
    doc = {k: v for k, v in doc.items() if v is not None}
    folder = _write(tmp_path / "broken", doc)
    with pytest.raises(BadScenario) as e:
        load_scenario(folder)
    assert message in str(e.value)
    assert str(folder / SCENARIO_FILE) in str(e.value)


def test_a_valid_scenario_folder_loads_with_its_twin(tmp_path: Path) -> None:
    doc = _valid("ok_one")
    doc["fixed"] = {"env": {"POOL_SIZE": 20}, "change": "a bigger pool"}
    sc = load_scenario(_write(tmp_path / "ok_one", doc))
    assert sc.fixed is not None and sc.fixed.app.env == {"POOL_SIZE": "20"} and sc.fixed.app.module == "app:app"
    assert sc.fix == "a bigger pool"
    assert lab.scenarios(tmp_path) == [sc]


def test_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(BadScenario) as e:
        lab.get_scenario("no_such_thing")
    assert "demo" in e.value.line()


# -- servers ----------------------------------------------------------------------------------


def test_postgres_is_real_private_and_gone_afterwards(tmp_path: Path) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE things (id serial PRIMARY KEY, name text); "
                      "INSERT INTO things (name) VALUES ('a'), ('b');")
    with (
        no_orphans() as seen,
        servers.postgres(tmp_path / "logs", schema=[schema], settings={"max_connections": 30}) as pg,
    ):
        seen.update(descendants(os.getpid()))
        root = pg.socket_dir
        assert pg.dsn.startswith("postgresql://app:") and f"127.0.0.1:{pg.port}/app" in pg.dsn
        assert pg.psql("SELECT count(*) FROM things", user="app").strip() == "2"
        assert pg.psql("SHOW max_connections").strip() == "30"
        assert pg.psql("SHOW listen_addresses").strip() == "127.0.0.1"
        assert pg.psql("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'").strip() == "1"
        pg.psql("SELECT count(*) FROM pg_stat_statements")
        if os.geteuid() == 0:
            assert uid_of(pg.process.pid) != 0  # type: ignore[union-attr]
        assert os.path.getsize(pg.log) > 0
    assert not root.exists()
    assert "database system is shut down" in (tmp_path / "logs" / "postgres.log").read_text()


def test_redis_answers_and_is_stopped(tmp_path: Path) -> None:
    with no_orphans() as seen, servers.redis(tmp_path) as r:
        seen.update(descendants(os.getpid()))
        with socket.create_connection(("127.0.0.1", r.port), timeout=2) as s:
            s.sendall(b"SET k v\r\nGET k\r\n")
            time.sleep(0.1)
            assert s.recv(100) == b"+OK\r\n$1\r\nv\r\n"
        assert r.url == f"redis://127.0.0.1:{r.port}/0"


def test_app_behind_nginx_logs_everything_and_tears_down_even_on_error(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text(HELLO_APP)
    body = ("server {\n    listen {{listen}};\n"
            "    location / { proxy_pass http://{{upstream}}; proxy_read_timeout 2s; }\n}\n")
    with (
        no_orphans() as seen,
        pytest.raises(RuntimeError, match="boom"),
        servers.app_server("hello:app", tmp_path, tmp_path / "app.log", env={"GREETING": "the lab"}) as a,
        servers.nginx(tmp_path, body, [a.address]) as ng,
    ):
        seen.update(descendants(os.getpid()))
        assert get(a.url + "/") == (200, b"hello from the lab")
        assert get(ng.url + "/x") == (200, b"hello from the lab")
        time.sleep(0.2)
        assert "GET /x" in ng.access_log.read_text()
        raise RuntimeError("boom")
    assert "Uvicorn running" in (tmp_path / "app.log").read_text()


SELF_SERVING_APP = textwrap.dedent(
    """
    import os, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"hello from {os.environ['GREETING']}, argv {sys.argv[1:]}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def serve():
        print("serving", flush=True)
        HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Hello).serve_forever()
    """
)


def test_a_self_serving_app_is_called_on_its_port_and_stopped(tmp_path: Path) -> None:
    (tmp_path / "selfserve.py").write_text(SELF_SERVING_APP)
    with no_orphans() as seen, servers.app_server(
        "selfserve:serve", tmp_path, tmp_path / "app.log", env={"GREETING": "the lab"}, server="python",
        args=["--flag"],
    ) as a:
        seen.update(descendants(os.getpid()))
        assert get(a.url + "/") == (200, b"hello from the lab, argv ['--flag']")
    assert "serving" in (tmp_path / "app.log").read_text()


def test_a_template_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"unknown placeholder \{\{nope\}\}"):
        servers.render_template("listen {{nope}};", {"listen": "x"})


def test_an_app_that_cannot_start_says_why(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise ImportError('no such dependency: frobnicate')\n")
    with (
        no_orphans(),
        pytest.raises(Exception) as e,
        servers.app_server("broken:app", tmp_path, tmp_path / "app.log", ready_timeout=10),
    ):
        pass
    assert "frobnicate" in str(e.value) and "exited" in str(e.value)


def test_a_missing_binary_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingBinary) as e:
        servers.find_binary("redis-server", "redis-server")
    assert "apt-get install redis-server" in e.value.line()


_HOLDER = textwrap.dedent(
    """
    import sys, time, pathlib
    from tracehound.lab import servers
    with servers.redis(pathlib.Path(sys.argv[1])) as r:
        print(r.process.pid, flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_servers_die_with_their_owner(tmp_path: Path, sig: int) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        pid = int(owner.stdout.readline())  # type: ignore[union-attr]
        assert alive({pid})
        owner.send_signal(sig)
        owner.wait(60)
        assert not wait_gone({pid}), f"redis-server outlived its owner after signal {sig}"
    finally:
        if owner.poll() is None:
            os.killpg(owner.pid, signal.SIGKILL)
            owner.wait()


# -- instances and checks ---------------------------------------------------------------------


def test_up_wires_and_removes_an_instance() -> None:
    with no_orphans() as seen:
        with lab.up("healthy_slow") as inst:
            seen.update(descendants(os.getpid()))
            status, body = get(inst.url + "/quote?country=DE&net_cents=1000")
            assert status == 200 and b'"tax_cents":190' in body
            assert {p.name for p in inst.code_dir.iterdir()} == {"app.py"}
            assert inst.app_log.exists() and inst.database_url.startswith("sqlite:///")
            paths = [inst.log_dir, inst.code_dir, inst.data_dir]
        assert not any(p.exists() for p in paths)


def test_instance_env_wins_over_the_app_env(tmp_path: Path) -> None:
    folder = tmp_path / "greeters"
    folder.mkdir()
    (folder / "hello.py").write_text(HELLO_APP)
    (folder / SCENARIO_FILE).write_text(yaml.safe_dump({
        "name": "greeters",
        "failure_mode": "none",
        "symptom": "nothing fails",
        "app": {
            "module": "hello:app",
            "instances": 2,
            "env": {"GREETING": "everybody"},
            "instance_env": {1: {"GREETING": "node one"}},
        },
        "target": {"path": "/"},
        "load": {"concurrency": 1, "duration": 1},
    }))
    with no_orphans(), lab.up(load_scenario(folder)) as inst:
        bodies = [get(u + "/")[1] for u in inst.app_urls]
    assert bodies == [b"hello from everybody", b"hello from node one"]


def _outcome(requests: int, failures: dict[str, int]) -> SimpleNamespace:
    """A run's outcome: ``failures`` by kind (an HTTP status or an error kind), as ``step:kind`` for a flow's."""
    keys = {(k.split(":")[0], k.split(":")[1]) if ":" in k else (None, k): n for k, n in failures.items()}
    failed = sum(failures.values())
    return SimpleNamespace(requests=requests, failed=failed, failure_rate=failed / requests, failures=keys)


@pytest.mark.parametrize(("faulty", "twin", "clean"), [
    ({"502": 3}, {}, True),
    # a worker-crash twin on a starved CPU: its long report outlives the client's timeout, no worker dies
    ({"502": 3}, {"timeout": 2}, True),
    # an event-loop twin on a starved CPU: a few 504s where the faulty version had dozens
    ({"504": 40}, {"504": 2}, True),
    # ... and the flow steps that needed the token of a sign-in that timed out
    ({"504": 60}, {"504": 20, "capture": 5}, True),
    ({"504": 40}, {"capture": 5}, False),
    # a sign-in slow on a starved CPU, where the bug fails the cheap calls behind the sign-ins
    ({"login:504": 10, "me:504": 30}, {"login:504": 4, "me:capture": 4}, True),
    ({"me:504": 30}, {"login:504": 12, "me:capture": 12}, True),
    ({"login:504": 10, "me:504": 30}, {"login:504": 2, "me:504": 25}, False),
    # a twin that is not fixed fails as the faulty version does, busy machine or not
    ({"504": 40}, {"504": 35}, False),
    ({"502": 3}, {"502": 1}, False),
    ({"504": 40}, {"500": 1}, False),
    ({"timeout": 30}, {"timeout": 20, "reset": 1}, False),
])
def test_a_twins_failures_pass_only_as_the_machines(faulty: dict[str, int], twin: dict[str, int],
                                                     clean: bool) -> None:
    problem, note = twin_verdict(_outcome(100, faulty), _outcome(100, twin))
    assert (problem is None) is clean, problem
    assert (note is not None) is (clean and bool(twin)), note
    if problem:
        assert problem.startswith("fixed twin failed") and all(k.split(":")[-1] in problem for k in twin)


@pytest.mark.parametrize(("failures", "allowed"), [
    ({"504": 70}, True),  # a gateway-timeout bug on a busy machine: past 60 %, less than halfway to 100 %
    ({"504": 50, "capture": 25}, True),
    ({"504": 85}, False),
    ({"500": 70}, False),  # an error, not waiting: the scenario fails more than it says
])
def test_a_waiting_bug_may_fail_more_on_a_busy_machine(failures: dict[str, int], allowed: bool) -> None:
    assert over_range_allowed(_outcome(100, failures), 0.6) is allowed


def test_check_reproduces_the_demo_and_passes_the_slow_control(tmp_path: Path) -> None:
    with no_orphans():
        results = lab.check(list(FAST), log_dir=tmp_path)
    by = {r.scenario: r for r in results}
    demo, slow = by["demo"], by["healthy_slow"]
    assert demo.ok, (demo.problems, demo.error, demo.faulty)
    assert demo.faulty and demo.faulty.failed > 0 and demo.twin and demo.twin.failed == 0
    assert "500" in demo.faulty.status_counts
    assert "QueuePool limit" in (tmp_path / "demo" / "faulty" / "logs" / "app.log").read_text()
    assert slow.ok and slow.twin is None and slow.faulty and slow.faulty.failed == 0
    assert slow.faulty.p50_ms is not None and 250 < slow.faulty.p50_ms < 1500  # slow, not stuck


@pytest.mark.lab
@pytest.mark.parametrize("name", [s.name for s in lab.scenarios() if s.name not in FAST + INSTRUMENTED])
def test_scenario_reproduces_and_its_twin_does_not(name: str, tmp_path: Path) -> None:
    with no_orphans():
        (result,) = lab.check([name], log_dir=tmp_path)
    if result.error and "not installed" in result.error:
        pytest.skip(result.error)
    if result.inconclusive:  # a machine too busy to tell a fixed twin from a starved one
        pytest.skip(f"{result.inconclusive}: {'; '.join(result.problems)}")
    assert result.ok, (result.problems, result.error, result.faulty, result.twin)
    if result.healthy:
        return
    # verify, on the same two runs: held to the catalog's criteria for the planted cause, the
    # twin passes (beside the faulty version: the machine may be busy) and the faulty version fails.
    assert result.faulty and result.faulty.run_dir and result.twin and result.twin.run_dir
    slo = Slo.from_catalog(result.failure_mode).text()
    fixed = verify(result.faulty.run_dir, candidate=result.twin.run_dir, slo=slo)
    broken = verify(result.twin.run_dir, candidate=result.faulty.run_dir, slo=slo)
    assert all(twin_meets(c, fixed, bool(result.notes)) for c in fixed.checks), \
        [(c.criterion.text(), c.value, c.before) for c in fixed.checks]
    assert not broken.passed, [(c.criterion.text(), c.value) for c in broken.checks]


# -- the command line -------------------------------------------------------------------------


def test_cli_lab_list(cli) -> None:
    r = cli("lab", "list", timeout=120, env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    for sc in lab.scenarios():
        assert sc.name in r.stdout and sc.failure_mode in r.stdout


def test_cli_lab_list_piped_keeps_each_scenario_on_one_line(cli) -> None:
    """Issue 15, row 19: with no terminal (a pipe, CI) the table was squeezed to a few characters per column."""
    r = cli("lab", "list", timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for sc in lab.scenarios():
        row = [ln for ln in lines if ln.startswith(sc.name + " ")]
        assert len(row) == 1 and sc.failure_mode in row[0] and " ".join(sc.symptom.split()) in row[0], row


def test_cli_lab_check_unknown_scenario(cli) -> None:
    r = cli("lab", "check", "no_such_thing", timeout=120, env={"COLUMNS": "200"})
    assert r.returncode == 2 and "no lab scenario called 'no_such_thing'" in r.stderr


def test_cli_lab_up_until_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracehound", "lab", "up", "healthy_slow"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"}, start_new_session=True,
    )
    children: set[int] = set()
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            if line.startswith("Up."):
                break
        text = "".join(lines)
        url = next(ln.split()[1] for ln in lines if ln.startswith("URL"))
        assert "Code" in text and "app log" in text
        assert get(url + "/quote?country=FR&net_cents=100")[0] == 200
        children = descendants(proc.pid)
        assert children
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert not wait_gone(children)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
