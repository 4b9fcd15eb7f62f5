"""App processes: an ASGI or WSGI app from a folder, under uvicorn or gunicorn, or a service that
serves itself (``python``: its ``module:function`` is called and listens on ``PORT``)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.errors import ServerFailed
from tracehound.lab.servers._ports import HOST, READY_TIMEOUT, Launch, http_ready, start_listening
from tracehound.lab.servers._process import Process


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
    if server == "python":
        # A service with its own server (the standard library's, say): the function listens on PORT.
        name, func = module.split(":", maxsplit=1)
        return [sys.executable, "-c", f"from {name} import {func}; {func}()", *args]
    raise ServerFailed(f"unknown app server {server!r} (expected uvicorn, gunicorn or python)")


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

    proc, port = start_listening(make, ready_timeout)
    try:
        yield AppServer(port, log, proc)
    finally:
        proc.stop()
