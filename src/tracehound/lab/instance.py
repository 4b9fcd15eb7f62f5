"""A running scenario: its servers started in order, its wiring, its logs; all torn down on exit."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.lab import servers
from tracehound.lab.deployment import AppSpec
from tracehound.lab.family import resolve
from tracehound.lab.scenario import Scenario


@dataclass
class Instance:
    """One version (faulty or fixed) of a scenario, up on 127.0.0.1."""

    scenario: Scenario
    fixed: bool
    url: str
    app_urls: list[str]
    log_dir: Path
    logs: dict[str, Path]
    code_dir: Path
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    service_urls: dict[str, str] = field(default_factory=dict)
    postgres: servers.Postgres | None = field(default=None, repr=False)
    processes: dict[str, servers.Process] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def db_dsn(self) -> str | None:
        """The PostgreSQL DSN (``postgresql://…``), None without PostgreSQL."""
        return self.postgres.dsn if self.postgres is not None else None

    @property
    def app_log(self) -> Path:
        """The (first) app process's log: its own logging, stdout and stderr, tracebacks included."""
        return self.logs["app"]

    def dead(self) -> list[str]:
        """Names of the processes that have exited while they should be running."""
        return [name for name, p in self.processes.items() if not p.alive()]


@contextlib.contextmanager
def up(scenario: str | Scenario, fixed: bool = False, log_dir: Path | None = None) -> Iterator[Instance]:
    """Start a scenario or a family's variant (``family/variant``; its fixed twin with ``fixed=True``)
    and yield it; everything stops on exit.

    Logs go to ``log_dir`` (kept) or to a temp folder (removed afterwards).
    """
    sc = scenario if isinstance(scenario, Scenario) else resolve(scenario)
    dep = sc.deployment(fixed)
    with contextlib.ExitStack() as stack:
        if log_dir is None:
            log_dir = servers.temp_dir(f"lab-{sc.slug}-logs")
            stack.callback(shutil.rmtree, log_dir, True)
        else:
            log_dir = Path(log_dir)
            log_dir.mkdir(parents=True, exist_ok=True)
        data_dir = servers.temp_dir(f"lab-{sc.slug}-data")
        stack.callback(shutil.rmtree, data_dir, True)
        # A neutral folder name: the scenario's own name would hint at its cause to a code reviewer.
        code_dir = servers.temp_dir(f"lab-{sc.slug}-code") / "service"
        stack.callback(shutil.rmtree, code_dir.parent, True)
        for f in sc.code_files(fixed):
            dest = code_dir / f.relative_to(sc.folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, dest)
        logs: dict[str, Path] = {}
        procs: dict[str, servers.Process] = {}
        env: dict[str, str] = {"DATA_DIR": str(data_dir)}
        pg = None
        redis_url = None
        if dep.postgres is not None:
            pg = stack.enter_context(
                servers.postgres(log_dir, dep.postgres.settings, [code_dir / f for f in dep.postgres.schema])
            )
            env["DATABASE_URL"] = pg.dsn
            logs["postgres"] = pg.log
            _track(procs, "postgres", pg.process)
        else:
            env["DATABASE_URL"] = f"sqlite:///{data_dir / 'app.db'}"
        if dep.redis is not None:
            rd = stack.enter_context(servers.redis(log_dir, dep.redis.args))
            redis_url = env["REDIS_URL"] = rd.url
            logs["redis"] = rd.log
            _track(procs, "redis", rd.process)
        service_urls = {}
        for sname, spec in dep.services.items():
            srv = stack.enter_context(_serve(spec, sc, code_dir, log_dir / f"{sname}.log", env, sname))
            assert spec.env_var is not None
            env[spec.env_var] = service_urls[sname] = srv.url
            logs[sname] = srv.log
            _track(procs, sname, srv.process)
        apps = []
        for i in range(dep.app.instances):
            name = "app" if i == 0 else f"app-{i}"
            ienv = {"APP_INSTANCE": str(i), **dep.app.instance_env.get(i, {})}
            srv = stack.enter_context(_serve(dep.app, sc, code_dir, log_dir / f"{name}.log", env, name, ienv))
            apps.append(srv)
            logs[name] = srv.log
            _track(procs, name, srv.process)
        url = apps[0].url
        if dep.nginx is not None:
            conf = code_dir / dep.nginx.config
            ng = stack.enter_context(
                servers.nginx(log_dir, conf.read_text(), [a.address for a in apps], source=str(conf))
            )
            url = ng.url
            logs["nginx_error"] = ng.error_log
            logs["nginx_access"] = ng.access_log
            _track(procs, "nginx", ng.process)
        yield Instance(
            scenario=sc,
            fixed=fixed,
            url=url,
            app_urls=[a.url for a in apps],
            log_dir=log_dir,
            logs=logs,
            code_dir=code_dir,
            data_dir=data_dir,
            database_url=env["DATABASE_URL"],
            redis_url=redis_url,
            service_urls=service_urls,
            postgres=pg,
            processes=procs,
        )


def _track(procs: dict[str, servers.Process], name: str, proc: servers.Process | None) -> None:
    """Watch a server's process under ``name`` (every server started here has one)."""
    if proc is not None:
        procs[name] = proc


def _serve(
    spec: AppSpec, sc: Scenario, code_dir: Path, log: Path, env: dict[str, str], name: str,
    instance_env: dict[str, str] | None = None,
) -> AbstractContextManager[servers.AppServer]:
    """Serve one app process; its environment is the wiring, then the app's ``env``, then the
    instance's own (the most specific wins)."""
    return servers.app_server(
        spec.module,
        code_dir,
        log,
        env={**env, **spec.env, **(instance_env or {})},
        server=spec.server,
        workers=spec.workers,
        worker_class=spec.worker_class,
        args=spec.args,
        ready_path=spec.ready,
        name=f"{sc.name} {name}",
    )
