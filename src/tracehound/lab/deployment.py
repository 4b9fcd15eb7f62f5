"""What runs for one version of a lab scenario: the app, the services it calls, and the servers it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AppSpec:
    """How to serve one app process (or several identical copies)."""

    module: str
    server: str = "uvicorn"
    workers: int = 1
    worker_class: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    instances: int = 1
    instance_env: dict[int, dict[str, str]] = field(default_factory=dict)
    ready: str = "/"
    env_var: str | None = None


@dataclass(frozen=True)
class PostgresSpec:
    """The scenario's PostgreSQL: schema files run in order, and server settings."""

    schema: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RedisSpec:
    """The scenario's Redis: extra ``redis-server`` arguments."""

    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class NginxSpec:
    """The scenario's nginx: the file holding its ``http {}`` body."""

    config: str


@dataclass(frozen=True)
class Deployment:
    """What runs for one version of a scenario: the app, its services and the servers."""

    app: AppSpec
    services: dict[str, AppSpec] = field(default_factory=dict)
    postgres: PostgresSpec | None = None
    redis: RedisSpec | None = None
    nginx: NginxSpec | None = None

    def files(self) -> set[str]:
        """The scenario files this deployment names (module files, nginx template, schema)."""
        out = {module_file(a.module) for a in (self.app, *self.services.values())}
        if self.nginx is not None:
            out.add(self.nginx.config)
        if self.postgres is not None:
            out.update(self.postgres.schema)
        return out


def module_file(module: str) -> str:
    """The file of ``module:attribute``, relative to the scenario folder."""
    return module.split(":", maxsplit=1)[0].replace(".", "/") + ".py"
