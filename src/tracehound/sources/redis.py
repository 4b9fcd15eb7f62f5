"""Sampling Redis: connections, evictions, slow commands and outages while the experiments ran.

:class:`RedisSampler` polls ``INFO`` on its own connection (client name ``tracehound``) every
tick: connected, blocked and rejected clients against ``maxclients``, evicted keys, keyspace hits
and misses, memory against ``maxmemory``, and the server's run id (a restart changes it). Heavy
ticks add ``SLOWLOG GET`` and ``LATENCY LATEST``. ``CONFIG GET`` is read once, where the server
allows it (managed services often rename it away). A connection that fails mid-run is recorded
as a failed sample: a Redis that goes away is an observation, not a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tracehound.errors import BadSource, SourceUnreachable
from tracehound.redact import redact_text, redact_url
from tracehound.sources.sampler import Sampler, one_line

if TYPE_CHECKING:
    import redis

CLIENT_NAME = "tracehound"
CONFIG_KEYS = ("maxclients", "timeout", "maxmemory", "maxmemory-policy", "slowlog-log-slower-than",
               "latency-monitor-threshold", "tcp-keepalive")
#: The server is up but full: our own reconnect was refused. Counted as a rejection, not an outage.
FULL = "max number of clients reached"
#: Commands whose arguments are credentials or settings, never shown.
SECRET_COMMANDS = ("AUTH", "HELLO", "CONFIG", "ACL", "MIGRATE", "MASTERAUTH")


@dataclass(frozen=True)
class RedisInfo:
    """Read once on connecting (``config`` where CONFIG GET is allowed), and what could not be read."""

    where: str
    version: str | None = None
    config: Mapping[str, str] = field(default_factory=dict)
    config_missing: str | None = None
    slowlog_missing: str | None = None
    latency_missing: str | None = None


@dataclass(frozen=True)
class SlowCommand:
    """A SLOWLOG entry: its id, when it started (epoch s), how long it took (µs), and the command."""

    id: int
    started_s: int
    duration_us: int
    command: str


@dataclass(frozen=True)
class LatencyEvent:
    """A LATENCY LATEST line: the event, when it last fired (epoch s), its latest and its worst (ms)."""

    event: str
    latest_s: int
    latest_ms: int
    max_ms: int


@dataclass(frozen=True)
class RedisReading:
    """One INFO read (0 where INFO lacks a field); the slow log and latency events on heavy samples."""

    clients: int = 0
    blocked: int = 0
    maxclients: int = 0
    rejected: int = 0
    evicted: int = 0
    hits: int = 0
    misses: int = 0
    used_memory: int = 0
    maxmemory: int = 0
    connections_received: int = 0
    commands: int = 0
    expired: int = 0
    uptime: int = 0
    run_id: str | None = None
    policy: str | None = None
    slowlog: tuple[SlowCommand, ...] | None = None
    latency: tuple[LatencyEvent, ...] | None = None


#: INFO's field for each counter and gauge of :class:`RedisReading`.
INFO_FIELDS = {"connected_clients": "clients", "blocked_clients": "blocked", "maxclients": "maxclients",
               "rejected_connections": "rejected", "evicted_keys": "evicted", "keyspace_hits": "hits",
               "keyspace_misses": "misses", "used_memory": "used_memory", "maxmemory": "maxmemory",
               "total_connections_received": "connections_received", "total_commands_processed": "commands",
               "expired_keys": "expired", "uptime_in_seconds": "uptime"}


def connect_error(url: str, e: BaseException) -> BadSource | SourceUnreachable:
    """A connection failure as the error a user can act on: wrong credentials (2), unreachable (3)."""
    msg = one_line(e)
    where = redact_url(url)
    low = msg.lower()
    if any(k in low for k in ("auth", "wrongpass", "password", "invalid username", "noperm", "db index")):
        return BadSource(f"Redis at {where} rejected the connection: {msg}",
                         hint="check the password and database in the URL")
    return SourceUnreachable(f"cannot connect to Redis at {where}: {msg}", hint="is the server running and reachable?")


class RedisSampler(Sampler["redis.Redis", RedisReading, RedisInfo]):
    """Polls a Redis server on its own connection; see :class:`~tracehound.sources.sampler.Sampler`."""

    source = "Redis"

    def __init__(self, url: str, interval_s: float = 0.5, heavy_every_s: float = 5.0) -> None:
        super().__init__(interval_s, heavy_every_s)
        try:
            import redis
            from redis.connection import parse_url
        except ImportError:  # pragma: no cover - redis is a dependency of the lab and test extras
            raise BadSource("the Redis inspector needs redis-py", hint="pip install 'redis>=5'") from None
        self.url = self.address = url.strip()
        try:
            parse_url(self.url)  # type: ignore[no-untyped-call]  # redis-py leaves parse_url unannotated
        except ValueError as e:
            raise BadSource(f"not a Redis URL: {one_line(e)}", hint="give redis://[:password@]host:port/db") from None
        self.driver_errors = (redis.RedisError, OSError)
        self._info = RedisInfo(redact_url(self.url))
        self._read_once = False

    def info(self) -> RedisInfo:
        return self._info

    def connect_error(self, error: BaseException) -> BadSource | SourceUnreachable:
        return connect_error(self.url, error)

    def _connect(self) -> redis.Redis:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(self.url, socket_connect_timeout=3, socket_timeout=3, client_name=CLIENT_NAME,
                                      retry=Retry(NoBackoff(), 0), single_connection_client=True,
                                      decode_responses=True)
        try:
            client.ping()
            if not self._read_once:
                self._read_info(client)
        except BaseException:
            client.close()
            raise
        return client

    def _read_info(self, client: redis.Redis) -> None:
        import redis

        server: dict[str, Any] = client.info("server")
        config: dict[str, str] = {}
        missing = None
        try:
            for key in CONFIG_KEYS:
                config.update({str(k): str(v) for k, v in client.config_get(key).items()})
        except redis.ResponseError as e:
            missing = one_line(e)
        self._info = replace(self._info, version=server.get("redis_version"), config=config, config_missing=missing)
        self._read_once = True

    def _read(self, conn: redis.Redis, heavy: bool) -> RedisReading:
        import redis

        raw: dict[str, Any] = conn.info()
        counts = {short: _int(raw.get(k)) for k, short in INFO_FIELDS.items()}
        slowlog = latency = None
        if heavy and self._info.slowlog_missing is None:
            try:
                slowlog = tuple(SlowCommand(int(e["id"]), int(e["start_time"]), int(e["duration"]),
                                            _command(e.get("command"))) for e in conn.slowlog_get(32))
            except redis.ResponseError as e:
                self._info = replace(self._info, slowlog_missing=one_line(e))
        if heavy and self._info.latency_missing is None:
            try:
                latency = tuple(LatencyEvent(str(ev[0]), int(ev[1]), int(ev[2]), int(ev[3]))
                                # redis-py 5 has no latency_latest(); execute_command is unannotated
                                for ev in conn.execute_command("LATENCY", "LATEST"))  # type: ignore[no-untyped-call]
            except redis.ResponseError as e:
                self._info = replace(self._info, latency_missing=one_line(e))
        return RedisReading(**counts, run_id=raw.get("run_id"), policy=raw.get("maxmemory_policy"),
                            slowlog=slowlog, latency=latency)


def _command(cmd: Any) -> str:
    """A slow command as its name and first key, no values (they may be secrets or large)."""
    text = cmd.decode("utf-8", "replace") if isinstance(cmd, bytes) else str(cmd or "")
    parts = text.split()
    if not parts:
        return ""
    if parts[0].upper() in SECRET_COMMANDS:
        return parts[0] + (" …" if len(parts) > 1 else "")
    return redact_text(" ".join(parts[:2])[:80] + (" …" if len(parts) > 2 else ""))


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


__all__ = ["FULL", "LatencyEvent", "RedisInfo", "RedisReading", "RedisSampler", "SlowCommand", "connect_error"]
