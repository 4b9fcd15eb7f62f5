"""Throwaway real servers on 127.0.0.1: PostgreSQL, Redis, nginx and app processes.

Every child starts in its own process group and is registered; stopping one kills its whole
group. The registry is emptied at interpreter exit, on SIGTERM/SIGHUP (which then unwind the
program like Ctrl-C), and — for children started from the main thread — by the kernel if this
process dies without cleaning up (``PR_SET_PDEATHSIG``). Each server is a context manager that
tears itself down on exit, whatever ended the block::

    with postgres(log_dir) as pg, app_server("app:app", code_dir, log_dir / "app.log",
                                               env={"DATABASE_URL": pg.url()}) as app:
        ...

One private module per noun: ``_process`` (children and their supervision), ``_folders``
(temp folders and who owns them), ``_ports`` (free ports, readiness), ``_binaries``, and one
per server (``_postgres``, ``_redis``, ``_nginx``, ``_app``); the names below are the public surface.
"""

from tracehound.errors import MissingBinary, ServerFailed
from tracehound.lab.servers._app import AppServer, app_argv, app_server
from tracehound.lab.servers._binaries import find_binary, postgres_bindir
from tracehound.lab.servers._folders import give_away, temp_dir
from tracehound.lab.servers._nginx import Nginx, nginx, render_template
from tracehound.lab.servers._ports import HOST, READY_TIMEOUT, Launch, Ready, free_port, http_ready, wait_until
from tracehound.lab.servers._postgres import Postgres, postgres
from tracehound.lab.servers._process import Process, guard, stop_all
from tracehound.lab.servers._redis import Redis, redis

__all__ = [
    "HOST",
    "READY_TIMEOUT",
    "AppServer",
    "Launch",
    "MissingBinary",
    "Nginx",
    "Postgres",
    "Process",
    "Ready",
    "Redis",
    "ServerFailed",
    "app_argv",
    "app_server",
    "find_binary",
    "free_port",
    "give_away",
    "guard",
    "http_ready",
    "nginx",
    "postgres",
    "postgres_bindir",
    "redis",
    "render_template",
    "stop_all",
    "temp_dir",
    "wait_until",
]
