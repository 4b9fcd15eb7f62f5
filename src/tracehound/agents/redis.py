"""The Redis agent: connections, evictions, slow commands and outages while the experiments ran.

The sampling itself is :class:`tracehound.sources.redis.RedisSampler`. :func:`analyze_redis` turns
its recording into findings and ``redis:`` signals; counters are summed over consecutive samples
of one server life, so a restart does not make them negative.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tracehound.agents.base import AgentResult, Analysis, Finding, RecordedRun
from tracehound.agents.sampled import (
    aligned,
    during,
    inspect_for,
    load_window,
    recording_result,
    request_times,
    sampler_or_snapshot,
)
from tracehound.case import Case
from tracehound.diagnosis.signals import Signal, register, signal
from tracehound.sources.redis import (
    FULL,
    LatencyEvent,
    RedisInfo,
    RedisReading,
    RedisSampler,
    SlowCommand,
    connect_error,
)
from tracehound.sources.sampler import Recording, Sample, clock

NAME = "redis"

SIGNALS = {
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
for _name, _desc in SIGNALS.items():
    register(_name, _desc, NAME)
#: Signals that hold whenever they are read: a snapshot taken after the requests still tests them.
TIMELESS = ("redis:timeout_set",)


class RedisAnalysis(Analysis):
    """What :func:`analyze_redis` found."""


@dataclass
class _View:
    rec: Recording[RedisReading, RedisInfo]
    ok: list[Sample[RedisReading]]
    now: list[Sample[RedisReading]]
    window: tuple[int, int] | None
    covers_load: bool
    out: RedisAnalysis = field(default_factory=RedisAnalysis)
    signals: list[Signal] = field(default_factory=list)

    @property
    def config(self) -> dict[str, str]:
        return dict(self.rec.info.config)

    def tested(self, *names: str) -> None:
        # Samples taken after the requests say nothing of them, except for the settings.
        self.out.tested.extend(n for n in names if self.covers_load or n in TIMELESS)

    def add(self, title: str, detail: str, new: list[Signal], exemplars: list[str] | None = None) -> None:
        self.signals.extend(new)
        self.out.findings.append(Finding(title, detail, exemplars if exemplars is not None else
                                         [e for s in new for e in s.exemplars][:5], new))


def analyze_redis(rec: Recording[RedisReading, RedisInfo], times: np.ndarray) -> RedisAnalysis:
    """Findings and ``redis:`` signals from a recording and the sorted start times (ns) of the probed requests."""
    ok = rec.ok_samples
    if not ok:
        out = RedisAnalysis()
        out.detail = f"no sample could be read: {rec.first_error() or rec.crash or 'nothing sampled'}"
        return out
    window = load_window(times)
    v = _View(rec, ok, during(ok, window) or ok, window, window is None or bool(during(ok, window)))
    for section in (_clients, _memory, _slow_commands, _latency_events, _settings, _availability):
        section(v)
    span = (ok[-1].t_ns - ok[0].t_ns) / 1e9
    v.out.detail = (f"{len(rec.samples)} samples of {rec.info.where} over {span:.1f} s "
                    f"({aligned(len(during(ok, window)), window)}); {len(v.signals)} signal(s)")
    return v.out


def _clients(v: _View) -> None:
    """Clients against maxclients, and connections refused."""
    ok, now = v.ok, v.now
    maxclients = ok[-1].data.maxclients or _int(v.config.get("maxclients"))
    peak = max(now, key=lambda s: s.data.clients)
    clients = peak.data.clients
    rejected = _increase(ok, lambda d: d.rejected)
    refused_own = [s for s in v.rec.samples if s.error and FULL in s.error.lower()]
    blocked = max(s.data.blocked for s in now)
    detail = (f"peak {clients} connected clients" + (f" of maxclients {maxclients}" if maxclients else "")
              + f"; {rejected} connection(s) rejected while sampling; up to {blocked} blocked client(s)")
    new: list[Signal] = []
    if len(ok) >= 2:
        v.tested("redis:rejected_connections")
        if rejected or refused_own:
            n = max(rejected, len(refused_own))
            ex = [f"rejected_connections +{rejected} while sampling (maxclients {maxclients or '?'}, peak {clients} "
                  "connected)"]
            ex += [f"{clock(s.t_ns)}: the inspector's own connection was refused: {s.error}" for s in refused_own[:2]]
            new.append(signal("redis:rejected_connections", 0.5 + math.log10(1 + n) / 4, detail, ex, value=n))
    if maxclients:
        v.tested("redis:clients_near_max")
        share = clients / maxclients
        if share >= 0.8:
            new.append(signal("redis:clients_near_max", (share - 0.7) / 0.25, detail,
                              [f"{clients}/{maxclients} clients at {clock(peak.t_ns)}"], value=share))
    v.add("Redis clients", detail, new)


def _memory(v: _View) -> None:
    """Memory and evictions, and how often lookups missed."""
    ok, now = v.ok, v.now
    evicted = _increase(ok, lambda d: d.evicted)
    maxmemory = ok[-1].data.maxmemory
    used = max(s.data.used_memory for s in now)
    policy = ok[-1].data.policy or v.config.get("maxmemory-policy") or "?"
    detail = (f"peak used memory {used / 2**20:.1f} MiB"
              + (f" of maxmemory {maxmemory / 2**20:.1f} MiB" if maxmemory else " (no maxmemory)")
              + f", policy {policy}; {evicted} key(s) evicted while sampling")
    new: list[Signal] = []
    if len(ok) >= 2:
        v.tested("redis:evictions")
        if evicted:
            new.append(signal("redis:evictions", 0.3 + math.log10(1 + evicted) / 3, detail,
                              [f"evicted_keys +{evicted} (maxmemory-policy {policy})"], value=evicted))
    if maxmemory:
        v.tested("redis:memory_near_max")
        share = used / maxmemory
        if share >= 0.9:
            new.append(signal("redis:memory_near_max", (share - 0.8) / 0.2, detail,
                              [f"{used / 2**20:.1f}/{maxmemory / 2**20:.1f} MiB (policy {policy})"], value=share))
    hits, misses = _increase(now, lambda d: d.hits), _increase(now, lambda d: d.misses)
    if hits + misses >= 100:
        v.tested("redis:cache_misses_high")
        share = misses / (hits + misses)
        detail += f"; {hits + misses} lookups, {share:.0%} missed"
        if share >= 0.5:
            new.append(signal("redis:cache_misses_high", (share - 0.3) / 0.6,
                              f"{misses} of {hits + misses} key lookups ({share:.0%}) missed while requests ran",
                              value=share))
    v.add("Redis memory and keys", detail, new)


def _slow_commands(v: _View) -> None:
    """Slow commands since the first sample."""
    ok = v.ok
    with_log = [s.data.slowlog for s in ok if s.data.slowlog is not None]
    if v.rec.info.slowlog_missing is not None or not with_log:
        return
    v.tested("redis:slowlog")
    t_first = ok[0].t_ns / 1e9
    seen = {e.id for e in with_log[0]}
    entries: dict[int, SlowCommand] = {}
    for log in with_log:
        for e in log:
            if e.id not in seen and e.started_s >= t_first - 1:
                entries[e.id] = e
    if not entries:
        return
    worst = max(entries.values(), key=lambda e: e.duration_us)
    limit = v.config.get("slowlog-log-slower-than")
    d = (f"{len(entries)} command(s) slower than {_us(limit)} while sampling; slowest {_us(worst.duration_us)}: "
         f"{worst.command}")
    ex = [f"{clock(e.started_s * 10**9)} {_us(e.duration_us)}: {e.command}"
          for e in sorted(entries.values(), key=lambda e: -e.duration_us)[:5]]
    strength = 0.3 + 0.35 * math.log10(max(worst.duration_us, 10_000) / 10_000)
    v.add("Redis slow commands", d, [signal("redis:slowlog", strength, d, ex, value=worst.duration_us / 1000)])


def _latency_events(v: _View) -> None:
    """Latency-monitor events since the first sample."""
    threshold = _int(v.config.get("latency-monitor-threshold"))
    if not threshold or v.rec.info.latency_missing is not None:
        return
    v.tested("redis:latency_spikes")
    t_first = v.ok[0].t_ns / 1e9
    events: dict[str, LatencyEvent] = {}
    for s in v.ok:
        for ev in s.data.latency or ():
            if ev.latest_s >= t_first - 1:
                events[ev.event] = ev
    if not events:
        return
    worst = max(events.values(), key=lambda ev: ev.max_ms)
    d = f"latency events above {threshold} ms while sampling: " + ", ".join(
        f"{ev.event} latest {ev.latest_ms} ms (max {ev.max_ms} ms)" for ev in events.values())
    strength = 0.3 + 0.35 * math.log10(max(worst.max_ms, 10) / 10)
    v.add("Redis latency events", d, [signal("redis:latency_spikes", strength, d, [d], value=float(worst.max_ms))])


def _settings(v: _View) -> None:
    info = v.rec.info
    if info.config_missing is not None:
        v.out.findings.append(Finding("Redis settings not read", f"CONFIG GET is not allowed ({info.config_missing}): "
                                      "timeout and maxclients come from INFO where it has them"))
        return
    config = v.config
    if not config:
        return
    v.tested("redis:timeout_set")
    timeout = _int(config.get("timeout"))
    shown = ", ".join(f"{k} {val}" for k, val in config.items())
    new: list[Signal] = []
    if timeout > 0:
        strength = 1.0 if timeout <= 60 else 0.7 if timeout <= 600 else 0.4
        new.append(signal("redis:timeout_set", strength, f"timeout {timeout} s: Redis closes clients idle that long",
                          [f"timeout = {timeout} s"], value=timeout))
    v.add("Redis settings", shown, new)


def _availability(v: _View) -> None:
    """Failed samples (other than a full server) and restarts."""
    samples, ok = v.rec.samples, v.ok
    first_ok = next(i for i, s in enumerate(samples) if s.ok)
    inside = during(samples[first_ok:], v.window)
    if len(inside) < 3:
        return
    v.tested("redis:unavailable_during_run")
    failed = [s for s in inside if s.error and FULL not in s.error.lower()]
    restarts = [b for a, b in zip(ok, ok[1:], strict=False) if a.data.run_id and b.data.run_id != a.data.run_id]
    if not failed and not restarts:
        return
    share = len(failed) / len(inside)
    parts = []
    if failed:
        parts.append(f"the inspector's connection failed in {len(failed)} of {len(inside)} samples, first at "
                     f"{clock(failed[0].t_ns)}: {failed[0].error}")
    if restarts:
        parts.append(f"the server restarted {len(restarts)} time(s) (new run id at {clock(restarts[0].t_ns)})")
    d = "; ".join(parts)
    ex = [f"{clock(s.t_ns)} ({s.phase}): {s.error}" for s in failed[:5]]
    ex += [f"{clock(s.t_ns)}: new run id, uptime {s.data.uptime} s" for s in restarts[:2]]
    v.add("Redis unavailable", d, [signal("redis:unavailable_during_run", 0.5 + share, d, ex, value=share)])


def _increase(samples: Sequence[Sample[RedisReading]], counter: Callable[[RedisReading], int]) -> int:
    """How much a counter grew over consecutive samples of the same server life (restarts reset counters)."""
    total = 0
    for a, b in zip(samples, samples[1:], strict=False):
        if a.data.run_id == b.data.run_id:
            total += max(0, counter(b.data) - counter(a.data))
    return total


def _int(v: str | None) -> int:
    try:
        return int(v or 0)
    except ValueError:
        return 0


def _us(v: str | int | None) -> str:
    us = v if isinstance(v, int) else _int(v)
    return f"{us / 1e6:.2f} s" if us >= 1_000_000 else f"{us / 1000:.1f} ms"


# -- the agent and the command -----------------------------------------------------------------------


async def redis_agent(case: Case | None, runs: Sequence[RecordedRun],
                      sampler: RedisSampler | None = None) -> AgentResult:
    """The Redis agent: the sampler's recording (or, without one, a snapshot taken now) against the runs."""
    url = case.sources.redis if case is not None else None
    got = await sampler_or_snapshot(NAME, url, "--redis", sampler, RedisSampler)
    if isinstance(got, AgentResult):
        return got
    return await asyncio.to_thread(_result, got, request_times(runs))


def _result(sampler: RedisSampler, times: np.ndarray) -> AgentResult:
    return recording_result(NAME, sampler.recording(), sampler.address, lambda rec: analyze_redis(rec, times),
                            connect_error)


def inspect_redis(url: str, duration_s: float = 10.0, interval_s: float = 0.5) -> AgentResult:
    """Sample a server for ``duration_s`` and analyse it (``tracehound db redis://…``); connection errors raise."""
    sampler = RedisSampler(url, interval_s=interval_s, heavy_every_s=max(interval_s, min(5.0, duration_s / 4)))
    return inspect_for(sampler, duration_s, lambda s: _result(s, np.zeros(0, np.int64)))


__all__ = ["NAME", "SIGNALS", "RedisAnalysis", "RedisSampler", "analyze_redis", "connect_error", "inspect_redis",
           "redis_agent"]
