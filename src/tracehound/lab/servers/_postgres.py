"""A throwaway PostgreSQL: its own cluster copied from one made per process, one database, one app role."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.errors import MissingBinary, ServerFailed
from tracehound.lab.servers._binaries import postgres_bindir
from tracehound.lab.servers._folders import give_away, temp_dir, unprivileged_ids
from tracehound.lab.servers._ports import HOST, Launch, start_listening
from tracehound.lab.servers._process import Arg, Process, first_line

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
        argv: list[Arg] = [
            bindir / "initdb", "-D", data, "-U", "postgres", "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions",
        ]
        proc = Process("initdb", argv, log, env=_pg_env(), ids=ids).start()
        popen = proc.popen
        assert popen is not None  # started
        try:
            popen.wait(120)
        except subprocess.TimeoutExpired:
            raise ServerFailed("initdb did not finish within 120s") from None
        finally:
            proc.stop(grace=0)
        if popen.returncode != 0:
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

    def psql(self, sql: str | None = None, file: Path | None = None, *, user: str = "postgres",
             database: str | None = None) -> str:
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
            done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120, env=_pg_env(),
                                  stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise MissingBinary("psql is not installed", hint="install the Debian package postgresql-client") from None
        except subprocess.TimeoutExpired:
            raise ServerFailed(f"psql did not finish within 120s ({file or sql})") from None
        if done.returncode != 0:
            what = str(file) if file is not None else (sql or "")[:120]
            raise ServerFailed(f"psql failed on {what}: {first_line(done.stderr)}")
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
    ids = unprivileged_ids()
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
            argv: list[Arg] = [bindir / "postgres", "-D", data, "-p", str(port)]
            for k, v in conf.items():
                argv += ["-c", f"{k}={v}"]
            # SIGINT is PostgreSQL's fast shutdown: sessions end, no waiting for clients.
            proc = Process("postgres", argv, log, env=_pg_env(), ids=ids, stop_signal=signal.SIGINT, grace=10.0)
            return proc, lambda: _pg_ready(bindir, root, port), "accepting connections"

        proc, port = start_listening(make)
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
    done = subprocess.run(argv, check=False, env=_pg_env(), stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=10)
    return done.returncode == 0
