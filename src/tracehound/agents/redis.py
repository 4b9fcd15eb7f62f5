"""The Redis inspector: connections, evictions, slow commands and outages while the experiments ran.

:class:`RedisSampler` polls ``INFO`` on its own connection (client name ``tracehound``) every
tick: connected, blocked and rejected clients against ``maxclients``, evicted keys, keyspace hits
and misses, memory against ``maxmemory``, and the server's run id (a restart changes it). Heavy
ticks add ``SLOWLOG GET`` and ``LATENCY LATEST``. ``CONFIG GET`` is read once, where the server
allows it (managed services often rename it away). A connection that fails mid-run is recorded
as a failed sample: a Redis that goes away is an observation, not a crash.

:func:`analyze_redis` turns the recording into findings and ``redis:`` signals; counters are
summed over consecutive samples of one server life, so a restart does not make them negative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tracehound.agents.base import AgentResult, Finding
from tracehound.agents.sampling import (
    Recording,
    Sample,
    Sampler,
    aligned,
    clock,
    during,
    inspect_for,
    load_window,
    one_line,
    recording_result,
    sampled_agent,
)
from tracehound.diagnosis.signals import Signal, register, signal
from tracehound.errors import BadSource, SourceUnreachable
from tracehound.redact import redact_text, redact_url

NAME = "redis"
CLIENT_NAME = "tracehound"
CONFIG_KEYS = ("maxclients", "timeout", "maxmemory", "maxmemory-policy", "slowlog-log-slower-than",
               "latency-monitor-threshold", "tcp-keepalive")
INFO_FIELDS = {"connected_clients": "clients", "blocked_clients": "blocked", "maxclients": "maxclients",
               "rejected_connections": "rejected", "evicted_keys": "evicted", "keyspace_hits": "hits",
               "keyspace_misses": "misses", "used_memory": "used_memory", "maxmemory": "maxmemory",
               "total_connections_received": "connections_received", "total_commands_processed": "commands",
               "expired_keys": "expired", "uptime_in_seconds": "uptime"}
#: The server is up but full: our own reconnect was refused. Counted as a rejection, not an outage.
FULL = "max number of clients reached"

_SIGNALS = {
    "redis:rejected_connections": "Redis refused connections because maxclients was reached",
    "redis:clients_near_max": "Redis's connected clients came close to maxclients",
    "redis:unavailable_during_run": "Redis stopped answering or restarted while the experiments ran",
    "redis:evictions": "Redis evicted keys to stay under maxmemory while sampling",
    "redis:memory_near_max": "Redis's memory came close to maxmemory",
    "redis:slowlog": "commands slower than slowlog-log-slower-than ran while sampling (SLOWLOG)",
    "redis:latency_spikes": "Redis's latency monitor recorded events while sampling (LATENCY LATEST)",
    "redis:timeout_set": "Redis closes client connections idle for longer than its timeout setting",
    "redis:cache_misses_high": "most key lookups missed while sampling (keyspace misses against hits)",
}
for _name, _desc in _SIGNALS.items():
    register(_name, _desc, "redis")


def connect_error(url: str, e: BaseException) -> BadSource | SourceUnreachable:
    """A connection failure as the error a user can act on: wrong credentials (2), unreachable (3)."""
    msg = one_line(e)
    where = redact_url(url)
    low = msg.lower()
    if any(k in low for k in ("auth", "wrongpass", "password", "invalid username", "noperm", "db index")):
        return BadSource(f"Redis at {where} rejected the connection: {msg}", hint="check the password and database in the URL")
    return SourceUnreachable(f"cannot connect to Redis at {where}: {msg}", hint="is the server running and reachable?")


class RedisSampler(Sampler):
    """Polls a Redis server on its own connection; see :class:`~tracehound.agents.sampling.Sampler`."""

    source = "Redis"

    def __init__(self, url: str, interval_s: float = 0.5, heavy_every_s: float = 5.0) -> None:
        super().__init__(interval_s, heavy_every_s)
        try:
            import redis
        except ImportError:  # pragma: no cover - redis is a dependency of the lab and test extras
            raise BadSource("the Redis inspector needs redis-py", hint="pip install 'redis>=5'") from None
        self.url = self.address = url.strip()
        try:
            redis.connection.parse_url(self.url)
        except ValueError as e:
            raise BadSource(f"not a Redis URL: {one_line(e)}", hint="give redis://[:password@]host:port/db") from None
        self.driver_errors = (redis.RedisError, OSError)
        self._slowlog_ok = True
        self._latency_ok = True

    def _fatal(self, error: BaseException) -> bool:
        return isinstance(connect_error(self.url, error), BadSource)

    def check(self) -> None:
        """Connect once and close: :class:`BadSource` or :class:`SourceUnreachable` when that fails."""
        try:
            conn = self._connect()
        except self.driver_errors as e:
            raise connect_error(self.url, e) from None
        self._close(conn)

    def _connect(self) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(self.url, socket_connect_timeout=3, socket_timeout=3, client_name=CLIENT_NAME,
                                      retry=Retry(NoBackoff(), 0), single_connection_client=True, decode_responses=True)
        try:
            client.ping()
            if not self.info:
                self._read_info(client)
        except BaseException:
            client.close()
            raise
        return client

    def _read_info(self, client: Any) -> None:
        import redis

        server = client.info("server")
        info: dict[str, Any] = {"version": server.get("redis_version"), "where": redact_url(self.url), "config": {}}
        try:
            for key in CONFIG_KEYS:
                info["config"].update(client.config_get(key))
        except redis.ResponseError as e:
            info["config_missing"] = one_line(e)
        self.info = info

    def _read(self, conn: Any, heavy: bool) -> dict[str, Any]:
        import redis

        raw = conn.info()
        data: dict[str, Any] = {short: raw.get(k) for k, short in INFO_FIELDS.items()}
        data["run_id"] = raw.get("run_id")
        data["policy"] = raw.get("maxmemory_policy")
        if heavy and self._slowlog_ok:
            try:
                data["slowlog"] = [[int(e["id"]), int(e["start_time"]), int(e["duration"]), _command(e.get("command"))]
                                   for e in conn.slowlog_get(32)]
            except redis.ResponseError as e:
                self._slowlog_ok = False
                self.info["slowlog_missing"] = one_line(e)
        if heavy and self._latency_ok:
            try:
                data["latency"] = [[str(ev[0]), int(ev[1]), int(ev[2]), int(ev[3])]
                                   for ev in conn.execute_command("LATENCY", "LATEST")]
            except redis.ResponseError as e:
                self._latency_ok = False
                self.info["latency_missing"] = one_line(e)
        return data


#: Commands whose arguments are credentials or settings, never shown.
_SECRET_COMMANDS = ("AUTH", "HELLO", "CONFIG", "ACL", "MIGRATE", "MASTERAUTH")


def _command(cmd: Any) -> str:
    """A slow command as its name and first key, no values (they may be secrets or large)."""
    text = cmd.decode("utf-8", "replace") if isinstance(cmd, bytes) else str(cmd or "")
    parts = text.split()
    if not parts:
        return ""
    if parts[0].upper() in _SECRET_COMMANDS:
        return parts[0] + (" …" if len(parts) > 1 else "")
    return redact_text(" ".join(parts[:2])[:80] + (" …" if len(parts) > 2 else ""))


# -- analysis -------------------------------------------------------------------------------------


@dataclass
class RedisAnalysis:
    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def signals(self) -> list[Signal]:
        return [s for f in self.findings for s in f.signals]


def analyze_redis(rec: Recording, times: np.ndarray) -> RedisAnalysis:
    """Findings and ``redis:`` signals from a recording and the sorted start times (ns) of the probed requests."""
    out = RedisAnalysis()
    ok = rec.ok_samples
    if not ok:
        out.detail = f"no sample could be read: {rec.first_error() or rec.crash or 'nothing sampled'}"
        return out
    window = load_window(times)
    now = during(ok, window) or ok
    config: dict[str, Any] = rec.info.get("config", {})
    sigs: list[Signal] = []

    covers_load = window is None or bool(during(ok, window))

    def tested(*names: str) -> None:
        # Samples taken after the requests say nothing of them, except for the settings.
        out.tested.extend(n for n in names if covers_load or n == "redis:timeout_set")

    def add(title: str, detail: str, new: list[Signal], exemplars: list[str] | None = None) -> None:
        sigs.extend(new)
        out.findings.append(Finding(title, detail, exemplars if exemplars is not None else
                                    [e for s in new for e in s.exemplars][:5], new))

    # Clients against maxclients, and connections refused.
    maxclients = _int(ok[-1].data.get("maxclients")) or _int(config.get("maxclients"))
    peak = max(now, key=lambda s: _int(s.data.get("clients")))
    clients = _int(peak.data.get("clients"))
    rejected = _increase(ok, "rejected")
    refused_own = [s for s in rec.samples if s.error and FULL in s.error.lower()]
    blocked = max(_int(s.data.get("blocked")) for s in now)
    detail = (f"peak {clients} connected clients" + (f" of maxclients {maxclients}" if maxclients else "")
              + f"; {rejected} connection(s) rejected while sampling; up to {blocked} blocked client(s)")
    new: list[Signal] = []
    if len(ok) >= 2:
        tested("redis:rejected_connections")
        if rejected or refused_own:
            n = max(rejected, len(refused_own))
            ex = [f"rejected_connections +{rejected} while sampling (maxclients {maxclients or '?'}, peak {clients} connected)"]
            ex += [f"{clock(s.t_ns)}: the inspector's own connection was refused: {s.error}" for s in refused_own[:2]]
            new.append(signal("redis:rejected_connections", 0.5 + math.log10(1 + n) / 4, detail, ex, value=n))
    if maxclients:
        tested("redis:clients_near_max")
        share = clients / maxclients
        if share >= 0.8:
            new.append(signal("redis:clients_near_max", (share - 0.7) / 0.25, detail,
                              [f"{clients}/{maxclients} clients at {clock(peak.t_ns)}"], value=share))
    add("Redis clients", detail, new)

    # Memory and evictions.
    evicted = _increase(ok, "evicted")
    maxmemory = _int(ok[-1].data.get("maxmemory"))
    used = max(_int(s.data.get("used_memory")) for s in now)
    policy = ok[-1].data.get("policy") or config.get("maxmemory-policy") or "?"
    detail = (f"peak used memory {used / 2**20:.1f} MiB" + (f" of maxmemory {maxmemory / 2**20:.1f} MiB" if maxmemory else
                                                            " (no maxmemory)")
              + f", policy {policy}; {evicted} key(s) evicted while sampling")
    new = []
    if len(ok) >= 2:
        tested("redis:evictions")
        if evicted:
            new.append(signal("redis:evictions", 0.3 + math.log10(1 + evicted) / 3, detail,
                              [f"evicted_keys +{evicted} (maxmemory-policy {policy})"], value=evicted))
    if maxmemory:
        tested("redis:memory_near_max")
        share = used / maxmemory
        if share >= 0.9:
            new.append(signal("redis:memory_near_max", (share - 0.8) / 0.2, detail,
                              [f"{used / 2**20:.1f}/{maxmemory / 2**20:.1f} MiB (policy {policy})"], value=share))
    hits, misses = _increase(now, "hits"), _increase(now, "misses")
    if hits + misses >= 100:
        tested("redis:cache_misses_high")
        share = misses / (hits + misses)
        detail += f"; {hits + misses} lookups, {share:.0%} missed"
        if share >= 0.5:
            new.append(signal("redis:cache_misses_high", (share - 0.3) / 0.6,
                              f"{misses} of {hits + misses} key lookups ({share:.0%}) missed while requests ran", value=share))
    add("Redis memory and keys", detail, new)

    # Slow commands and latency events since the first sample.
    t_first = ok[0].t_ns / 1e9
    if "slowlog_missing" not in rec.info and any("slowlog" in s.data for s in ok):
        tested("redis:slowlog")
        first = next(s for s in ok if "slowlog" in s.data)
        seen = {e[0] for e in first.data["slowlog"]}
        entries: dict[int, list[Any]] = {}
        for s in ok:
            for e in s.data.get("slowlog", []):
                if e[0] not in seen and e[1] >= t_first - 1:
                    entries[e[0]] = e
        if entries:
            worst = max(entries.values(), key=lambda e: e[2])
            limit = config.get("slowlog-log-slower-than")
            d = (f"{len(entries)} command(s) slower than {_us(limit)} while sampling; slowest {_us(worst[2])}: {worst[3]}")
            ex = [f"{clock(e[1] * 10**9)} {_us(e[2])}: {e[3]}" for e in sorted(entries.values(), key=lambda e: -e[2])[:5]]
            strength = 0.3 + 0.35 * math.log10(max(worst[2], 10_000) / 10_000)
            add("Redis slow commands", d, [signal("redis:slowlog", strength, d, ex, value=worst[2] / 1000)])
    threshold = _int(config.get("latency-monitor-threshold"))
    if threshold and "latency_missing" not in rec.info:
        tested("redis:latency_spikes")
        events: dict[str, list[Any]] = {}
        for s in ok:
            for ev in s.data.get("latency", []):
                if ev[1] >= t_first - 1:
                    events[ev[0]] = ev
        if events:
            worst_ev = max(events.values(), key=lambda ev: ev[3])
            d = f"latency events above {threshold} ms while sampling: " + ", ".join(
                f"{ev[0]} latest {ev[2]} ms (max {ev[3]} ms)" for ev in events.values())
            add("Redis latency events", d, [signal("redis:latency_spikes", 0.3 + 0.35 * math.log10(max(worst_ev[3], 10) / 10), d,
                                                   [d], value=float(worst_ev[3]))])

    # Settings.
    if "config_missing" in rec.info:
        out.findings.append(Finding("Redis settings not read", f"CONFIG GET is not allowed ({rec.info['config_missing']}): "
                                    "timeout and maxclients come from INFO where it has them"))
    elif config:
        tested("redis:timeout_set")
        timeout = _int(config.get("timeout"))
        shown = ", ".join(f"{k} {v}" for k, v in config.items())
        new = []
        if timeout > 0:
            strength = 1.0 if timeout <= 60 else 0.7 if timeout <= 600 else 0.4
            new.append(signal("redis:timeout_set", strength, f"timeout {timeout} s: Redis closes clients idle that long",
                              [f"timeout = {timeout} s"], value=timeout))
        add("Redis settings", shown, new)

    # Availability: failed samples (other than a full server) and restarts.
    first_ok = next(i for i, s in enumerate(rec.samples) if s.ok)
    inside = during(rec.samples[first_ok:], window)
    if len(inside) >= 3:
        tested("redis:unavailable_during_run")
        failed = [s for s in inside if s.error and FULL not in s.error.lower()]
        restarts = [b for a, b in zip(ok, ok[1:]) if a.data.get("run_id") and b.data.get("run_id") != a.data.get("run_id")]
        if failed or restarts:
            share = len(failed) / len(inside)
            parts = []
            if failed:
                parts.append(f"the inspector's connection failed in {len(failed)} of {len(inside)} samples, first at "
                             f"{clock(failed[0].t_ns)}: {failed[0].error}")
            if restarts:
                parts.append(f"the server restarted {len(restarts)} time(s) (new run id at {clock(restarts[0].t_ns)})")
            d = "; ".join(parts)
            ex = [f"{clock(s.t_ns)} ({s.phase}): {s.error}" for s in failed[:5]]
            ex += [f"{clock(s.t_ns)}: new run id, uptime {s.data.get('uptime')} s" for s in restarts[:2]]
            add("Redis unavailable", d, [signal("redis:unavailable_during_run", 0.5 + share, d, ex, value=share)])

    span = (ok[-1].t_ns - ok[0].t_ns) / 1e9
    out.detail = (f"{len(rec.samples)} samples of {rec.info.get('where', 'Redis')} over {span:.1f} s "
                  f"({aligned(len(during(ok, window)), window)}); {len(sigs)} signal(s)")
    return out


def _increase(samples: Sequence[Sample], key: str) -> int:
    """How much a counter grew over consecutive samples of the same server life (restarts reset counters)."""
    total = 0
    for a, b in zip(samples, samples[1:]):
        if a.data.get("run_id") == b.data.get("run_id"):
            total += max(0, _int(b.data.get(key)) - _int(a.data.get(key)))
    return total


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def _us(v: Any) -> str:
    us = _int(v)
    return f"{us / 1e6:.2f} s" if us >= 1_000_000 else f"{us / 1000:.1f} ms"



# -- the agent and the command -----------------------------------------------------------------------


async def redis_agent(case: Any, runs: Sequence[Any], sampler: RedisSampler | None = None) -> AgentResult:
    """The Redis agent: the sampler's recording (or, without one, a snapshot taken now) against the runs."""
    url = getattr(getattr(case, "sources", None), "redis", None)
    return await sampled_agent(NAME, url, "--redis", sampler, RedisSampler, runs, _result)


def _result(rec: Recording, times: np.ndarray, url: str) -> AgentResult:
    return recording_result(NAME, rec, times, url, analyze_redis, connect_error)


def inspect_redis(url: str, duration_s: float = 10.0, interval_s: float = 0.5) -> AgentResult:
    """Sample a server for ``duration_s`` and analyse it (``tracehound db redis://…``); connection errors raise."""
    sampler = RedisSampler(url, interval_s=interval_s, heavy_every_s=max(interval_s, min(5.0, duration_s / 4)))
    return inspect_for(sampler, duration_s, _result)


__all__ = ["RedisSampler", "analyze_redis", "connect_error", "inspect_redis", "redis_agent"]
