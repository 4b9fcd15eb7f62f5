"""The Redis inspector on real throwaway servers: each condition is created for real, then sampled."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest
import redis

from tracehound.agents.base import AgentResult
from tracehound.agents.redis import RedisSampler, redis_agent
from tracehound.case import Case, Sources
from tracehound.lab import servers
from tracehound.probe import Target

pytestmark = pytest.mark.lab

BUSY_SCRIPT = "local i = 0 while i < 4000000 do i = i + 1 end return i"


@pytest.fixture(scope="module")
def rds(tmp_path_factory) -> Iterator[servers.Redis]:
    """A Redis with 8 client slots, 2 MB of memory evicting LRU keys, a 30 s idle timeout and a latency monitor."""
    args = ["--maxclients", "8", "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru", "--timeout", "30",
            "--latency-monitor-threshold", "20"]
    try:
        with servers.redis(tmp_path_factory.mktemp("redis"), args) as r:
            yield r
    except servers.MissingBinary as e:  # pragma: no cover - the suite's make target installs redis-server
        pytest.skip(str(e))


def run(coro) -> AgentResult:
    return asyncio.run(coro)


def names(res: AgentResult) -> set[str]:
    return {s.name for s in res.signals}


def sig(res: AgentResult, name: str):
    return next(s for s in res.signals if s.name == name)


@contextlib.contextmanager
def sampling(url: str, interval_s: float = 0.2) -> Iterator[RedisSampler]:
    sampler = RedisSampler(url, interval_s=interval_s, heavy_every_s=0.5).start()
    try:
        yield sampler
    finally:
        sampler.stop()
    assert not sampler.running and sampler.crash is None


def client(url: str) -> redis.Redis:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_timeout=5)


def test_connections_exhausted_at_maxclients(rds):
    opened: list[redis.Redis] = []
    refused = 0
    with sampling(rds.url) as sampler:
        time.sleep(0.4)
        for _ in range(12):  # 8 slots, one of them the inspector's
            c = client(rds.url)
            try:
                c.ping()
                opened.append(c)
            except redis.ConnectionError:
                refused += 1
                c.close()
        time.sleep(0.6)
        for c in opened:
            c.close()
        time.sleep(0.3)
    assert refused >= 4
    res = run(redis_agent(None, [], sampler))
    assert res.status == "ok", res.detail
    rejected = sig(res, "redis:rejected_connections")
    assert rejected.value >= refused
    assert sig(res, "redis:clients_near_max").value >= 0.8
    assert "redis:evictions" not in names(res) and "redis:unavailable_during_run" not in names(res)


def test_evictions_memory_slow_commands_and_settings(rds):
    with sampling(rds.url) as sampler:
        time.sleep(0.4)
        c = client(rds.url)
        pipe = c.pipeline(transaction=False)
        for i in range(4000):
            pipe.set(f"page:{i}", "x" * 1000)
        pipe.execute()
        c.eval(BUSY_SCRIPT, 0)
        c.close()
        time.sleep(0.8)
    res = run(redis_agent(None, [], sampler))
    got = names(res)
    assert {"redis:evictions", "redis:memory_near_max", "redis:slowlog", "redis:latency_spikes",
            "redis:timeout_set"} <= got
    assert sig(res, "redis:evictions").value > 1000
    assert ("EVAL" in sig(res, "redis:slowlog").exemplars[0]
            and "4000000" not in " ".join(sig(res, "redis:slowlog").exemplars))
    assert sig(res, "redis:timeout_set").value == 30
    assert "redis:rejected_connections" not in got


def test_a_quiet_redis_shows_nothing_wrong(tmp_path):
    with servers.redis(tmp_path / "quiet") as r:
        with sampling(r.url) as sampler:
            c = client(r.url)
            for i in range(200):
                c.set(f"k{i}", i)
                c.get(f"k{i}")
            c.close()
            time.sleep(0.6)
        res = run(redis_agent(None, [], sampler))
    assert res.status == "ok"
    assert names(res) == set(), [s.detail for s in res.signals]
    assert {"redis:rejected_connections", "redis:evictions", "redis:slowlog", "redis:timeout_set",
            "redis:cache_misses_high", "redis:unavailable_during_run"} <= set(res.tested)
    assert "redis:memory_near_max" not in res.tested  # no maxmemory: nothing to be near


def test_a_redis_killed_mid_sampling_is_a_signal_not_a_crash(tmp_path):
    with servers.redis(tmp_path / "doomed") as r, sampling(r.url) as sampler:
        time.sleep(0.6)
        r.process.stop(grace=0)
        time.sleep(1.2)
    res = run(redis_agent(None, [], sampler))
    assert res.status == "ok"
    down = sig(res, "redis:unavailable_during_run")
    assert down.value >= 0.3 and down.exemplars
    assert sum(not s.ok for s in sampler.samples) >= 3  # it kept trying, one failed sample per tick


def test_snapshot_without_a_sampler(rds):
    res = run(redis_agent(Case(target=Target("http://127.0.0.1:9/"), sources=Sources(redis=rds.url)), []))
    assert res.status == "ok"
    assert "redis:timeout_set" in names(res)


def test_bad_sources_fail_in_one_line(tmp_path, cli):
    def agent(url: str) -> AgentResult:
        return run(redis_agent(Case(target=Target("http://127.0.0.1:9/"), sources=Sources(redis=url)), []))

    with servers.redis(tmp_path / "locked") as r:
        # After start: the lab's readiness check pings without a password.
        client(r.url).config_set("requirepass", "right-pass")
        wrong = agent(f"redis://:wrong-pass@127.0.0.1:{r.port}/0")
        assert wrong.status == "failed" and "rejected the connection" in wrong.detail
        assert "wrong-pass" not in wrong.detail
        ok = agent(f"redis://:right-pass@127.0.0.1:{r.port}/0")
        assert ok.status == "ok"
        with sampling(f"redis://:wrong-pass@127.0.0.1:{r.port}/0") as sampler:
            time.sleep(0.6)
        assert len(sampler.samples) == 1  # gave up after one refused attempt
        assert run(redis_agent(None, [], sampler)).status == "failed"
        cmd = cli("db", f"redis://:wrong-pass@127.0.0.1:{r.port}/0", "-d", "1s")
        assert cmd.returncode == 2 and "Traceback" not in cmd.stderr and "wrong-pass" not in cmd.stderr
    refused = agent(f"redis://127.0.0.1:{servers.free_port()}/0")
    assert refused.status == "failed" and "cannot connect to Redis" in refused.detail
    garbled = agent("redis://127.0.0.1:notaport/0")
    assert garbled.status == "failed" and "not a Redis URL" in garbled.detail
    for res in (wrong, refused, garbled):
        assert "\n" not in res.detail
    assert run(redis_agent(Case(target=Target("http://127.0.0.1:9/")), [])).status == "skipped"
    cmd = cli("db", f"redis://127.0.0.1:{servers.free_port()}/0", "-d", "1s")
    assert cmd.returncode == 3 and "Traceback" not in cmd.stderr
