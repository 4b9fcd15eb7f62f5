"""Throwaway real servers on 127.0.0.1: PostgreSQL, Redis, nginx and app processes.

Every child starts in its own process group and is registered; stopping one kills its whole
group. The registry is emptied at interpreter exit, on SIGTERM/SIGHUP (which then unwind the
program like Ctrl-C), and — for children started from the main thread — by the kernel if this
process dies without cleaning up (``PR_SET_PDEATHSIG``). Each server is a context manager that tears itself down on exit,
whatever ended the block::

    with postgres(log_dir) as pg, app_server("app:app", code_dir, log_dir / "app.log",
                                               env={"DATABASE_URL": pg.url()}) as app:
        ...
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import glob
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.errors import MissingBinary, ServerFailed

HOST = "127.0.0.1"
READY_TIMEOUT = 20.0
_PR_SET_PDEATHSIG = 1
_BIND_FAILURES = ("address already in use", "could not bind", "bind() to", "errno 98")

# -- supervision ------------------------------------------------------------------------------

_live: dict[int, Process] = {}
_lock = threading.RLock()  # a signal handler may need it while the main thread holds it
_guarded = False


def _libc_prctl():  # type: ignore[no-untyped-def]
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


_prctl = _libc_prctl() if sys.platform.startswith("linux") else None


def stop_all() -> None:
    """Kill every child this process started and has not stopped yet."""
    with _lock:
        procs = list(_live.values())
    for p in procs:
        p.stop(grace=1.0)


def _on_signal(signum: int, frame: object) -> None:
    # Children first, at once; then unwind like Ctrl-C so every `with` block cleans up and the
    # program stops (a SystemExit would only fail the current test under pytest). A second
    # signal gets the default action.
    stop_all()
    signal.signal(signum, signal.SIG_DFL)
    raise KeyboardInterrupt(f"signal {signum}")


def guard() -> None:
    """Make sure children die with us: at exit, and on SIGTERM/SIGHUP when nothing else handles them.

    Idempotent; call it again after code that may have reset the signal handlers (an asyncio
    loop's ``remove_signal_handler`` restores the default).
    """
    global _guarded
    if not _guarded:
        atexit.register(stop_all)
        _guarded = True
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _on_signal)
        except (ValueError, OSError):  # pragma: no cover - not in the main thread of the main interpreter
            pass


def temp_dir(kind: str) -> Path:
    """A new temp folder named after this process, so a later run can sweep it if we are killed."""
    _sweep_stale()
    return Path(tempfile.mkdtemp(prefix=f"tracehound-{os.getpid()}-{kind}-"))


_swept = False


def _sweep_stale() -> None:
    """Remove temp folders left by lab processes that were killed (SIGKILL skips every cleanup)."""
    global _swept
    if _swept:
        return
    _swept = True
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "tracehound-*-*")):
        m = re.match(r"tracehound-(\d+)-", os.path.basename(d))
        if m and int(m.group(1)) != os.getpid() and not os.path.exists(f"/proc/{m.group(1)}"):
            shutil.rmtree(d, ignore_errors=True)


def _unprivileged_ids() -> tuple[int, int] | None:
    """(uid, gid) to run servers as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        raise ServerFailed("running as root, and there is no 'nobody' user to run servers as") from None
    return pw.pw_uid, pw.pw_gid


def give_away(path: Path, ids: tuple[int, int] | None) -> None:
    """Hand ``path`` (and everything under it) to the unprivileged user, when there is one."""
    if ids is None:
        return
    for root, _dirs, files in os.walk(path):
        os.chown(root, *ids)
        for name in files:
            os.chown(os.path.join(root, name), *ids)


class Process:
    """A child process in its own process group, its output appended to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ids: tuple[int, int] | None = None,
        stop_signal: int = signal.SIGTERM,
        grace: float = 5.0,
    ) -> None:
        self.name = name
        self.grace = grace
        self.argv = [str(a) for a in argv]
        self.log = Path(log)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.ids = ids
        self.stop_signal = stop_signal
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> Process:
        guard()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        parent = os.getpid()
        ids = self.ids
        pdeath = _prctl is not None and threading.current_thread() is threading.main_thread()

        def child() -> None:
            if ids is not None:
                os.setgroups([])
                os.setgid(ids[1])
                os.setuid(ids[0])
            if pdeath:
                _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # type: ignore[misc]
                if os.getppid() != parent:
                    os._exit(1)

        with open(self.log, "ab") as out:
            try:
                self.popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    process_group=0,
                    preexec_fn=child,
                    close_fds=True,
                )
            except FileNotFoundError:
                raise MissingBinary(f"{self.argv[0]} is not installed") from None
        with _lock:
            _live[self.popen.pid] = self
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, grace: float | None = None) -> None:
        """Signal the group, wait up to ``grace`` seconds, then kill whatever is left of it."""
        p = self.popen
        if p is None:
            return
        grace = self.grace if grace is None else grace
        try:
            if p.poll() is None:
                _killpg(p.pid, self.stop_signal)
                try:
                    p.wait(grace)
                except subprocess.TimeoutExpired:
                    pass
            _killpg(p.pid, signal.SIGKILL)  # the leader may be gone while its workers are not
            p.wait(5)
        finally:
            with _lock:
                _live.pop(p.pid, None)

    def tail(self, lines: int = 25) -> str:
        try:
            with open(self.log, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 16384))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def failed(self, what: str) -> ServerFailed:
        code = self.popen.returncode if self.popen is not None else None
        why = f"exited with status {code}" if code is not None else "still not ready"
        last = _last_line(self.tail())
        detail = f"; see {self.log}, which ends: {last}" if last else f"; log: {self.log}"
        return ServerFailed(f"{self.name} {why} {what}{detail}")

    def bind_failed(self) -> bool:
        return not self.alive() and any(s in self.tail().lower() for s in _BIND_FAILURES)


def _last_line(text: str) -> str:
    """The last line of a log tail that says something (one line, for a one-line error)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# -- readiness --------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


Ready = Callable[[], bool]
#: What starting a server on a given port needs: the process, its readiness test, and what we wait for.
Launch = tuple[Process, Ready, str]


def wait_until(proc: Process, ready: Ready, what: str, timeout: float = READY_TIMEOUT) -> None:
    """Poll ``ready()`` until it is true; :class:`ServerFailed` if ``proc`` dies or time runs out."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if not proc.alive():
            raise proc.failed(what)
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise proc.failed(f"{what} within {timeout:g}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def http_ready(port: int, path: str = "/") -> bool:
    """True once anything answers HTTP on ``port`` (any status: the server is up)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=2.0)
    try:
        conn.request("GET", path, headers={"User-Agent": "tracehound-lab-readiness"})
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _start_listening(make: Callable[[int], Launch], timeout: float = READY_TIMEOUT, attempts: int = 3) -> tuple[Process, int]:
    """Start ``make(port)`` on a free port, trying another port if the first one was taken meanwhile."""
    for attempt in range(attempts):
        port = free_port()
        proc, ready, what = make(port)
        proc.start()
        try:
            wait_until(proc, ready, what, timeout)
            return proc, port
        except ServerFailed:
            retry = proc.bind_failed() and attempt + 1 < attempts
            proc.stop()
            if not retry:
                raise
        except BaseException:
            proc.stop()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


# -- binaries ---------------------------------------------------------------------------------


def find_binary(name: str, package: str, extra_dirs: Sequence[str] = ()) -> str:
    """The path of ``name`` on PATH or in ``extra_dirs``; :class:`MissingBinary` naming the Debian package."""
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        candidate = os.path.join(d, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise MissingBinary(f"{name} is not installed", hint=f"install the Debian package {package}: apt-get install {package}")


def postgres_bindir() -> Path:
    """The folder holding ``initdb``, ``postgres`` and ``psql``: via PATH, else /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found:
        d = Path(os.path.realpath(found)).parent
        if (d / "postgres").exists():
            return d

    def version(p: str) -> tuple[int, ...]:
        m = re.search(r"/postgresql/(\d+(?:\.\d+)*)/", p)
        return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)

    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "postgres"), os.X_OK):
            return Path(d)
    raise MissingBinary(
        "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)",
        hint="install the Debian package postgresql: apt-get install postgresql",
    )


# -- PostgreSQL -------------------------------------------------------------------------------

_template_lock = threading.Lock()
_templates: dict[str, Path] = {}


def _initdb_template(bindir: Path, ids: tuple[int, int] | None) -> Path:
    """An initdb'd cluster made once per process and copied for every server (initdb is slow)."""
    key = str(bindir)
    with _template_lock:
        if key in _templates and (_templates[key] / "PG_VERSION").exists():
            return _templates[key]
        root = temp_dir("pgtemplate")
        atexit.register(shutil.rmtree, root, True)
        data = root / "data"
        give_away(root, ids)
        log = root / "initdb.log"
        argv = [
            bindir / "initdb", "-D", data, "-U", "postgres", "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions",
        ]
        proc = Process("initdb", argv, log, env=_pg_env(), ids=ids).start()
        try:
            proc.popen.wait(120)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            raise ServerFailed("initdb did not finish within 120s") from None
        finally:
            proc.stop(grace=0)
        if proc.popen.returncode != 0:  # type: ignore[union-attr]
            raise proc.failed("while creating the database cluster")
        _templates[key] = data
        return data


def _pg_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C", TZ="UTC")
    return env


@dataclass
class Postgres:
    """A running PostgreSQL server with one database and one login role for the app."""

    port: int
    socket_dir: Path
    data_dir: Path
    log: Path
    bindir: Path
    database: str = "app"
    user: str = "app"
    password: str = "app-secret"
    process: Process | None = field(default=None, repr=False)

    @property
    def dsn(self) -> str:
        """``postgresql://app:…@127.0.0.1:PORT/app`` (add a driver with :meth:`url`)."""
        return self.url()

    def url(self, driver: str | None = None) -> str:
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{self.user}:{self.password}@{HOST}:{self.port}/{self.database}"

    def psql(self, sql: str | None = None, file: Path | None = None, *, user: str = "postgres", database: str | None = None) -> str:
        """Run SQL through ``psql`` on the unix socket (trusted); :class:`ServerFailed` on any error."""
        argv = [
            str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
            "-p", str(self.port), "-U", user, "-d", database or self.database, "-At",
        ]
        if sql is not None:
            argv += ["-c", sql]
        if file is not None:
            argv += ["-f", str(file)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=_pg_env(), stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise MissingBinary("psql is not installed", hint="install the Debian package postgresql-client") from None
        except subprocess.TimeoutExpired:
            raise ServerFailed(f"psql did not finish within 120s ({file or sql})") from None
        if done.returncode != 0:
            what = str(file) if file is not None else (sql or "")[:120]
            raise ServerFailed(f"psql failed on {what}: {_first_line(done.stderr)}")
        return done.stdout


@contextlib.contextmanager
def postgres(
    log_dir: Path,
    settings: Mapping[str, object] | None = None,
    schema: Sequence[Path] = (),
    database: str = "app",
    user: str = "app",
    password: str = "app-secret",
) -> Iterator[Postgres]:
    """A fresh PostgreSQL on 127.0.0.1 (unix socket in its temp folder), with ``pg_stat_statements``.

    ``schema`` files run as the app role, in order, after the database is created. ``settings``
    are passed as ``-c name=value`` and win over the defaults here.
    """
    bindir = postgres_bindir()
    ids = _unprivileged_ids()
    template = _initdb_template(bindir, ids)
    root = temp_dir("pg")
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "postgres.log"
    try:
        data = root / "data"
        shutil.copytree(template, data, symlinks=True)
        give_away(root, ids)
        os.chmod(data, 0o700)
        conf: dict[str, object] = {
            "listen_addresses": HOST,
            "unix_socket_directories": str(root),
            "shared_preload_libraries": "pg_stat_statements",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": 100,
            "shared_buffers": "128MB",
            "log_line_prefix": "%m [%p] %q%u@%d ",
            "log_min_duration_statement": 1000,
            "log_lock_waits": "on",
            "logging_collector": "off",
            "timezone": "UTC",
        }
        conf.update(settings or {})

        def make(port: int) -> Launch:
            argv = [bindir / "postgres", "-D", data, "-p", str(port)]
            for k, v in conf.items():
                argv += ["-c", f"{k}={v}"]
            # SIGINT is PostgreSQL's fast shutdown: sessions end, no waiting for clients.
            proc = Process("postgres", argv, log, env=_pg_env(), ids=ids, stop_signal=signal.SIGINT, grace=10.0)
            return proc, lambda: _pg_ready(bindir, root, port), "accepting connections"

        proc, port = _start_listening(make)
        try:
            pg = Postgres(port, root, data, log, bindir, database, user, password, proc)
            pg.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'", database="postgres")
            pg.psql(f"CREATE DATABASE {database} OWNER {user}", database="postgres")
            pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            pg.psql(f"GRANT pg_read_all_stats TO {user}")
            for f in schema:
                pg.psql(file=f, user=user)
            yield pg
        finally:
            proc.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _pg_ready(bindir: Path, socket_dir: Path, port: int) -> bool:
    """Accepting connections: not merely listening, which it also does while starting up."""
    if not (socket_dir / f".s.PGSQL.{port}").exists():
        return False
    argv = [str(bindir / "pg_isready"), "-q", "-h", str(socket_dir), "-p", str(port), "-U", "postgres", "-t", "2"]
    return subprocess.run(argv, env=_pg_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=10).returncode == 0


# -- Redis ------------------------------------------------------------------------------------


@dataclass
class Redis:
    """A running Redis server without persistence."""

    port: int
    log: Path
    process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


@contextlib.contextmanager
def redis(log_dir: Path, args: Sequence[str] = ()) -> Iterator[Redis]:
    """A fresh ``redis-server`` on 127.0.0.1, no RDB/AOF; ``args`` are extra ``--option value`` pairs."""
    binary = find_binary("redis-server", "redis-server")
    root = temp_dir("redis")
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "redis.log"
    try:
        def make(port: int) -> Launch:
            argv = [
                binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
                "--dir", str(root), "--daemonize", "no", "--logfile", "", *args,
            ]
            return Process("redis-server", argv, log, cwd=root), lambda: _redis_ready(port), "answering PING"

        proc, port = _start_listening(make)
        try:
            yield Redis(port, log, proc)
        finally:
            proc.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _redis_ready(port: int) -> bool:
    with socket.create_connection((HOST, port), timeout=1.0) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


# -- nginx ------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

_NGINX_MAIN = """\
daemon off;
master_process off;
pid {root}/nginx.pid;
error_log {error_log} info;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    log_format lab '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent '
                   'rt=$request_time urt=$upstream_response_time ua="$upstream_addr" us=$upstream_status';
    access_log {access_log} lab;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
{body}
}}
"""


def render_template(text: str, values: Mapping[str, str], source: str = "template") -> str:
    """Replace ``{{name}}`` placeholders; an unknown name is an error (nginx's own ``$vars`` stay)."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise ServerFailed(f"{source}: unknown placeholder {{{{{name}}}}} (known: {', '.join(sorted(values))})")
        return str(values[name])

    return _PLACEHOLDER.sub(sub, text)


@dataclass
class Nginx:
    """A running nginx; ``url`` is its front door."""

    port: int
    config: Path
    error_log: Path
    access_log: Path
    process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@contextlib.contextmanager
def nginx(log_dir: Path, http_block: str, upstreams: Sequence[str], source: str = "nginx.conf") -> Iterator[Nginx]:
    """nginx in front of ``upstreams`` (``host:port``), configured by the ``http {}`` body a scenario gives.

    Placeholders in ``http_block``: ``{{listen}}`` (``127.0.0.1:PORT``), ``{{upstream}}`` (the first
    upstream), ``{{upstream_servers}}`` (one ``server host:port;`` line per upstream). The main
    context, logs and temp paths are generated here, in a temp folder.
    """
    binary = find_binary("nginx", "nginx", ["/usr/sbin"])
    root = temp_dir("nginx")
    log_dir.mkdir(parents=True, exist_ok=True)
    error_log, access_log = log_dir / "nginx-error.log", log_dir / "nginx-access.log"
    try:

        def make(port: int) -> Launch:
            body = render_template(
                http_block,
                {
                    "listen": f"{HOST}:{port}",
                    "upstream": upstreams[0],
                    "upstream_servers": "\n".join(f"        server {u};" for u in upstreams),
                },
                source,
            )
            conf = root / "nginx.conf"
            conf.write_text(
                _NGINX_MAIN.format(root=root, error_log=error_log, access_log=access_log, body=_indent(body))
            )
            argv = [binary, "-p", str(root), "-c", str(conf), "-e", str(error_log)]
            proc = Process("nginx", argv, error_log, cwd=root, stop_signal=signal.SIGTERM)
            return proc, lambda: http_ready(port), "serving HTTP"

        proc, port = _start_listening(make)
        try:
            yield Nginx(port, root / "nginx.conf", error_log, access_log, proc)
        finally:
            proc.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line.strip() else "" for line in text.splitlines())


# -- app processes ----------------------------------------------------------------------------


@dataclass
class AppServer:
    """A running ASGI/WSGI app under uvicorn or gunicorn."""

    port: int
    log: Path
    process: Process | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"


def app_argv(
    module: str, port: int, code_dir: Path, server: str = "uvicorn", workers: int = 1,
    worker_class: str | None = None, args: Sequence[str] = (),
) -> list[str]:
    """The command line that serves ``module`` (``pkg.mod:attr``) on 127.0.0.1:``port``."""
    if server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", module, "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--app-dir", str(code_dir), "--no-access-log", *args,
        ]
    if server == "gunicorn":
        kind = {"uvicorn": "uvicorn.workers.UvicornWorker", None: "sync"}.get(worker_class, worker_class)
        return [
            sys.executable, "-m", "gunicorn", module, "--bind", f"{HOST}:{port}", "--workers", str(workers),
            "--worker-class", str(kind), "--chdir", str(code_dir), "--error-logfile", "-",
            "--graceful-timeout", "2", *args,
        ]
    raise ServerFailed(f"unknown app server {server!r} (expected uvicorn or gunicorn)")


@contextlib.contextmanager
def app_server(
    module: str,
    code_dir: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    server: str = "uvicorn",
    workers: int = 1,
    worker_class: str | None = None,
    args: Sequence[str] = (),
    ready_path: str = "/",
    ready_timeout: float = READY_TIMEOUT,
    name: str = "app",
) -> Iterator[AppServer]:
    """Serve an app from ``code_dir`` on a free port; ``PORT`` and ``LOG_FILE`` are set for it.

    Its stdout and stderr (tracebacks included) go to ``log``, which is also ``LOG_FILE``. Ready
    once ``ready_path`` answers HTTP at all.
    """

    def make(port: int) -> Launch:
        child_env = dict(os.environ)
        child_env.update(
            PORT=str(port), LOG_FILE=str(log), PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1",
            TZ="UTC",
        )
        child_env.update(env or {})
        argv = app_argv(module, port, code_dir, server, workers, worker_class, args)
        # Requests the client gave up on may still be running; a short grace is enough here.
        proc = Process(name, argv, log, env=child_env, cwd=code_dir, grace=2.0)
        return proc, lambda: http_ready(port, ready_path), f"serving HTTP on {ready_path}"

    proc, port = _start_listening(make, ready_timeout)
    try:
        yield AppServer(port, log, proc)
    finally:
        proc.stop()
