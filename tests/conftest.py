"""Shared fixtures: real servers on 127.0.0.1, torn down after use."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tracehound.demo import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent
#: A server's start is polled until this deadline: generous, as a machine busy with other work may
#: take tens of seconds to start a Python process (a deadline, not a duration: a quiet start is quick).
START_TIMEOUT_S = 60.0

# A suite started in the background by a non-interactive shell (`make test &`, nohup) inherits
# SIGINT ignored, and every process it starts would too: the tests of what Ctrl-C does would see
# nothing. A Python handler is reset to the default at exec, so the children get a plain Ctrl-C.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Property tests (tests/test_fuzz.py): in CI few examples, the same ones every run; at a desk more,
# new ones each time. The deadline catches a parser stuck on one input, not a busy machine.
_FUZZ = {"deadline": 10_000, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                                        HealthCheck.large_base_example]}
settings.register_profile("ci", max_examples=30, derandomize=True, database=None, print_blob=True, **_FUZZ)
settings.register_profile("dev", max_examples=100, **_FUZZ)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


# -- parallel runs: `make test` is `pytest -n 2 --dist loadfile --no-loadscope-reorder` -----------------

#: The slowest test files, slowest first (by their total time in a run with ``--junitxml``). Under
#: pytest-xdist each file runs whole on one worker (its module and session fixtures start once there);
#: a worker takes the next file when it is done with one, in this order, so that no long file starts
#: last and leaves the other worker idle.
SLOWEST_FIRST = ("tests/test_lab.py", "tests/test_lab_families.py", "tests/test_gentest.py", "tests/test_plan.py",
                 "tests/test_browser.py", "tests/test_agents_metrics.py", "tests/test_orchestrator.py",
                 "tests/test_canary.py", "tests/test_probe_locust.py", "tests/test_plan_shapes.py",
                 "tests/test_wrong_body.py", "tests/test_verify.py")
#: The files that reproduce lab scenarios pair by pair: one unit, on one worker, so that two pairs
#: (each a faulty service and its twin under load) never share the two cores; other tests run beside.
LAB_PAIRS = ("tests/test_lab.py", "tests/test_lab_families.py")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """``--dist loadfile``, with the files of :data:`LAB_PAIRS` as one unit.

    (Not ``--dist loadgroup`` and ``xdist_group`` marks: with pytest 9.2 it ignores its groups,
    pytest-dev/pytest-xdist#1386.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LabPairsTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = super()._split_scope(nodeid)
            return "lab pairs" if file in LAB_PAIRS else file

    return LabPairsTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker: the files of :data:`SLOWEST_FIRST` first (every worker collects the same order)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    if gone := [f for f in SLOWEST_FIRST + LAB_PAIRS if not (ROOT / f).is_file()]:
        raise pytest.UsageError(f"tests/conftest.py names test files that are gone: {gone}")

    def rank(item: pytest.Item) -> int:
        file = item.nodeid.split("::", 1)[0]
        return SLOWEST_FIRST.index(file) if file in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file, and of the other files, is kept


@pytest.fixture(scope="module")
def demo_url():
    """The built-in demo service (uvicorn, a 4-slot pool that answers 503 when it runs dry)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tracehound.demo_service", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}/orders"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# -- the faulty app (tests/servers/faulty_app.py) ----------------------------------------------


@dataclass
class FaultyServer:
    """A running faulty app: its base URL and its truth log. Unpacks as ``(base_url, log)``."""

    base_url: str
    log: Path
    ca_file: str | None = None

    def __iter__(self) -> Iterator[object]:
        return iter((self.base_url, self.log))

    def mark(self) -> int:
        """A position in the log; pass it to :meth:`events` to see only what came after."""
        return len(self._lines())

    def events(self, since: int = 0, kinds: tuple[str, ...] = ("response", "reset", "disconnect")) -> list[dict]:
        """What the server did since ``since``: requests by default, or other ``kinds`` of event."""
        return [e for e in map(json.loads, self._lines()[since:]) if e["event"] in kinds]

    def wait_events(self, since: int, count: int, timeout: float = 30.0, **kw: object) -> list[dict]:
        """:meth:`events`, once at least ``count`` of them are logged (or ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.events(since, **kw)  # type: ignore[arg-type]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.02)

    def _lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@contextlib.contextmanager
def faulty_app(workdir: Path, *args: str, tls: tuple[str, str, str] | None = None) -> Iterator[FaultyServer]:
    """Start the faulty app in its own process group on a free port; kill the group afterwards.

    ``tls`` is ``(keyfile, certfile, ca_file)``. Readiness is bounded: the app prints its port once
    listening, then one real request must succeed, all within :data:`START_TIMEOUT_S`.
    """
    log = workdir / "truth.jsonl"
    cmd = [sys.executable, "-m", "tests.servers.faulty_app", "--port", "0", "--log", str(log),
           "--parent", str(os.getpid()), *args]
    if tls:
        cmd += ["--ssl-keyfile", tls[0], "--ssl-certfile", tls[1]]
    with open(workdir / "stderr.log", "ab") as stderr:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                                start_new_session=True)
    try:
        port = _read_port(proc, workdir)
        scheme = "https" if tls else "http"
        server = FaultyServer(f"{scheme}://127.0.0.1:{port}", log, tls[2] if tls else None)
        _wait_http_ok(server, proc, workdir)
        yield server
    finally:
        _kill_group(proc)


def _read_port(proc: subprocess.Popen, workdir: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    out = b""
    fd = proc.stdout.fileno()  # type: ignore[union-attr]
    while b"\n" not in out:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise RuntimeError(f"faulty app did not start: {(workdir / 'stderr.log').read_text()[-2000:]}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                continue
            out += chunk
    return int(out.split(b"\n", 1)[0].rsplit(b":", 1)[1])


def _wait_http_ok(server: FaultyServer, proc: subprocess.Popen, workdir: Path) -> None:
    ctx = ssl.create_default_context(cafile=server.ca_file) if server.ca_file else None
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(server.base_url + "/ok", timeout=1.0, context=ctx) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"faulty app not ready: {(workdir / 'stderr.log').read_text()[-2000:]}")
        time.sleep(0.05)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the app's process group, SIGKILL what is left, and check that nothing is."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group, if any
    if proc.stdout is not None:
        proc.stdout.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return  # the group is empty: no orphan
        if time.monotonic() > deadline:
            raise AssertionError(f"faulty app's process group {proc.pid} survived SIGKILL")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def faulty(tmp_path_factory) -> Iterator[FaultyServer]:
    """The faulty app with every fault off except those chosen by path."""
    with faulty_app(tmp_path_factory.mktemp("faulty")) as server:
        yield server


@pytest.fixture(scope="module")
def faulty_close5(tmp_path_factory) -> Iterator[FaultyServer]:
    """The faulty app closing every connection silently after its 5th response."""
    with faulty_app(tmp_path_factory.mktemp("faulty-close5"), "--close-after", "5") as server:
        yield server


@pytest.fixture(scope="module")
def faulty_stall(tmp_path_factory) -> Iterator[FaultyServer]:
    """The faulty app whose event loop blocks for 1 s once every 2 s."""
    with faulty_app(tmp_path_factory.mktemp("faulty-stall"), "--stall-every", "2", "--stall", "1") as server:
        yield server


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> dict[str, str]:
    """A trustme CA with a certificate for 127.0.0.1, and an unrelated CA."""
    import trustme

    d = tmp_path_factory.mktemp("tls")
    ca, other = trustme.CA(), trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    files = {k: str(d / f"{k}.pem") for k in ("key", "cert", "ca", "wrong_ca")}
    cert.private_key_pem.write_to_path(files["key"])
    cert.cert_chain_pems[0].write_to_path(files["cert"])
    ca.cert_pem.write_to_path(files["ca"])
    other.cert_pem.write_to_path(files["wrong_ca"])
    return files


@pytest.fixture(scope="module")
def faulty_tls(tmp_path_factory, tls_files) -> Iterator[FaultyServer]:
    """The faulty app over HTTPS, with a certificate from a trustme CA (``ca_file``)."""
    tls = (tls_files["key"], tls_files["cert"], tls_files["ca"])
    with faulty_app(tmp_path_factory.mktemp("faulty-tls"), tls=tls) as server:
        yield server


@pytest.fixture(scope="session")
def cli():
    """Run ``python -m tracehound ARGS`` to completion (bounded); returns the CompletedProcess.

    ``cwd`` is the repository unless given; ``env`` adds variables to this process's environment.
    """

    def run(*args: str, timeout: float = 180, cwd: Path = ROOT,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tracehound", *args], capture_output=True, text=True,
                              timeout=timeout, cwd=cwd, env={**os.environ, **env} if env else None, check=False)

    return run


#: Secrets a user hands the shared demo investigation, one per kind of input; tests/test_redact.py
#: searches every file it writes and everything it prints for them.
DEMO_SECRETS = {
    "bearer": "th-demo-bearer-6c1f0a",
    "cookie": "th-demo-cookie-2b9e4d",
    "dsn": "th-demo-dsnpw-8a7c3e",
    "redis": "th-demo-redispw-5d0b1f",
    "logged": "th-demo-logged-9f4a2c",
    "logged_password": "th-demo-logpw-1d2e3f",
    "logged_dsn": "th-demo-logdsn-4a5b6c",
    "logged_api_key": "th-demo-logkey-7c8d9e",
    "logged_jwt": "th-demo-jwtsig-0e1f2a",  # the signature of a JWT the service logged bare
}

#: The lines of the service's log that hold the ``logged*`` secrets, one kind of secret each.
DEMO_LOGGED_LINES = (
    "2026-12-01 10:00:00,000 INFO app: GET /orders with Authorization: Bearer {logged}",
    "2026-12-01 10:00:00,100 INFO app: admin session opened user=alice password={logged_password}",
    "2026-12-01 10:00:00,200 INFO app: settings loaded database_url=postgresql://app:{logged_dsn}@db:5432/shop",
    '2026-12-01 10:00:00,300 INFO app: webhook registered {{"api_key": "{logged_api_key}", "events": 2}}',
    "2026-12-01 10:00:00,400 WARNING app: refresh refused for eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.{logged_jwt}",
)


def leaks(folder: Path, secrets) -> dict[str, list[str]]:
    """The files under ``folder`` that hold any of ``secrets``, with the ones each holds.

    A Parquet file is searched value by value too (its pages are compressed: raw bytes would hide a secret).
    """
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            data += "\n".join(map(str, pq.read_table(path).to_pylist())).encode()
        found = [s for s in secrets if s.encode() in data]
        if found:
            out[str(path.relative_to(folder))] = found
    return out


@dataclass
class DemoInvestigation:
    """One `tracehound investigate` of the lab's demo scenario, shared by the tests that read it."""

    out: Path
    result: subprocess.CompletedProcess
    #: The target's path on the scenario's server, to aim a rerun at another instance.
    path: str
    #: The request's headers, which reports never keep: a rerun gives them again.
    headers: list[str]


@pytest.fixture(scope="session")
def demo_investigation(tmp_path_factory, cli) -> DemoInvestigation:
    """The demo scenario investigated once per session through the CLI (about 45 s).

    Its sources are what a hurried user gives: the service's log beside a binary file and an
    empty one, its code with one file that does not parse, a database DSN with a wrong
    password and a Redis that refuses. Each bad one must cost only its own agent. Every input
    holds a secret (:data:`DEMO_SECRETS`): the Authorization header, a cookie quoted in the
    symptom, the DSN's and Redis URL's passwords, and a token, a password, a DSN password, a JWT and an
    API key the service logged (:data:`DEMO_LOGGED_LINES`).
    """
    from tracehound import lab
    from tracehound.lab import servers

    tmp = tmp_path_factory.mktemp("demo-investigation")
    sc = lab.get_scenario("demo")
    (tmp / "core.bin").write_bytes(bytes(range(256)) * 64)
    (tmp / "empty.log").write_text("")
    headers = [f"Authorization: Bearer {DEMO_SECRETS['bearer']}"]
    symptom = f"{sc.symptom}; reproduced with curl -H 'Cookie: session={DEMO_SECRETS['cookie']}'"
    with lab.up(sc, log_dir=tmp / "logs") as inst:
        (inst.code_dir / "half_written.py").write_text("def handler(:\n    return\n")
        with open(inst.app_log, "a") as log:
            log.writelines(line.format(**DEMO_SECRETS) + "\n" for line in DEMO_LOGGED_LINES)
        try:
            r = cli("investigate", inst.url + sc.target.path, "--out", str(tmp / "inv"), "-H", headers[0],
                    "--symptom", symptom,
                    "--logs", str(inst.app_log), "--logs", str(tmp / "core.bin"), "--logs", str(tmp / "empty.log"),
                    "--code", str(inst.code_dir),
                    "--db", f"postgresql://app:{DEMO_SECRETS['dsn']}@127.0.0.1:{free_port()}/shop",
                    "--redis", f"redis://:{DEMO_SECRETS['redis']}@127.0.0.1:{free_port()}/0", timeout=200)
        finally:
            servers.guard()
    return DemoInvestigation(tmp / "inv", r, sc.target.path, headers)

