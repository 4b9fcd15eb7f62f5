"""The traffic agent on synthetic multi-run inputs: each failure structure gives its signals, a healthy service none."""

from __future__ import annotations

import asyncio

import numpy as np
import pyarrow as pa
import pytest

from tracehound.agents.base import AgentResult
from tracehound.agents.traffic import analyze, traffic_agent
from tracehound.analysis.synthetic import FakeRun, experiment, table
from tracehound.diagnosis.signals import REGISTRY

FAILURE_SIGNALS = {name for name, d in REGISTRY.items() if d.source == "traffic"} - {
    "slow_when_sequential", "latency_varies_by_request", "latency_scales_with_body_size",
    "latency_rises_with_concurrency", "throughput_flat_under_concurrency", "unrelated_endpoint_slows_under_load"}

SEC = 10**9


def signals(res) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in res.signals:
        out[s.name] = max(out.get(s.name, 0.0), s.strength)
    return out


def closed(n, c, *, at_s, seed, latency_ms=None, **kw):
    """A closed-model run of n requests at concurrency c that begins at second ``at_s`` of the investigation."""
    rng = np.random.default_rng(seed)
    lat = latency_ms if latency_ms is not None else rng.lognormal(np.log(20), 0.2, n)
    return table(n, concurrency=c, latency_ms=lat, seed=seed, epoch_ns=1_700_000_000 * SEC + int(at_s * SEC), **kw)


def run(t, kind, c=None, name=None, **kw):
    return FakeRun(t, experiment(kind, c, **kw), name=name or f"{kind}-c{c}")


def elapsed(t):
    s = t.column("start_ns").to_numpy()
    return (s - s.min()) / 1e9


# -- scenarios ----------------------------------------------------------------------------------


def pool_exhaustion(seed=0, canary_slow=False):
    rng = np.random.default_rng(seed)
    runs = [run(closed(30, 1, at_s=0, seed=seed, latency_ms=rng.normal(150, 10, 30), inflight=np.ones(30)),
                "baseline", 1)]
    runs.append(FakeRun(closed(20, 2, at_s=4, seed=seed + 1, latency_ms=rng.normal(2, 0.2, 20), status=404,
                               path="/__canary__"), experiment("canary", role="canary", during="idle"), "canary-idle"))
    at = 8.0
    for c, p_fail in ((4, 0.0), (12, 0.45), (32, 0.75)):
        n = 60 * c
        fail = rng.random(n) < p_fail
        lat = np.where(fail, rng.normal(1003, 3, n), rng.normal(75 * c, 10, n).clip(20))
        t = closed(n, c, at_s=at, seed=seed + c, latency_ms=lat, status=np.where(fail, 500, 200))
        runs.append(run(t, "sweep", c))
        span = elapsed(t).max()
        can_lat = rng.normal(300 if canary_slow else 2, 20 if canary_slow else 0.2, 30).clip(0.5)
        runs.append(FakeRun(closed(30, 2, at_s=at, seed=seed + 100 + c, latency_ms=can_lat, status=404,
                                   path="/__canary__"),
                            experiment("canary", c, role="canary", during="load"), f"canary-load-c{c}"))
        at += span + 2
    return runs


def test_pool_exhaustion_gives_load_signals_and_a_plateau():
    res = analyze(pool_exhaustion())
    s = signals(res)
    assert s["failures_rise_with_concurrency"] > 0.7
    assert s["failures_absent_when_sequential"] > 0.6
    assert s["status_500"] == pytest.approx(1.0)
    assert s["failure_latency_plateau"] > 0.8
    plateau = next(x for x in res.signals if x.name == "failure_latency_plateau")
    assert plateau.value == pytest.approx(1.0, abs=0.02)
    assert s["latency_rises_with_concurrency"] > 0.5
    # The canary did not slow: tested, not emitted.
    assert "unrelated_endpoint_slows_under_load" in res.tested
    assert "unrelated_endpoint_slows_under_load" not in s
    assert "failures_present_when_sequential" not in s
    assert "failures_start_after_elapsed_time" not in s
    assert "failures_periodic" not in s
    # Exemplars name the failing requests.
    assert any("500 after 10" in e for e in plateau.exemplars)


def test_a_canary_that_slows_under_load_is_reported():
    s = signals(analyze(pool_exhaustion(canary_slow=True)))
    assert s["unrelated_endpoint_slows_under_load"] > 0.8


def token_expiry(seed=0, life_s=5.0):
    """A flow per VU: login once, then create+load; every call fails 401 once the VU's token is life_s old."""
    rng = np.random.default_rng(seed)
    runs = []
    at = 0.0
    for kind, c, secs in (("baseline", 1, 3.0), ("sweep", 4, 8.0), ("sweep", 12, 8.0), ("low_rate", 2, 15.0)):
        per_vu = int(secs / 0.1)
        n = per_vu * c
        vu = np.repeat(np.arange(c), per_vu)
        age = np.tile(np.arange(per_vu) * 0.1, c) + rng.uniform(0, 0.05, n)
        expired = age > life_s
        steps = np.tile(np.r_[0, np.tile([1, 2], per_vu)][:per_vu], c)
        steps[np.tile(np.arange(per_vu), c) == 0] = 0
        status = np.where(steps == 0, 200, np.where(expired, 401, 200))
        lat = np.where(status == 401, rng.normal(3, 0.3, n), rng.normal(60, 5, n))
        t = table(n, concurrency=c, vu=vu, start_s=age, latency_ms=lat, status=status, seed=seed + c,
                  step=(steps.astype(np.int32), ["login", "create_module", "load_module"]),
                  method=((steps > 1).astype(np.int32), ["POST", "GET"]),
                  path=(steps.astype(np.int32), ["/auth/login", "/modules", "/modules/7/load"]),
                  inflight=np.full(n, c), epoch_ns=1_700_000_000 * SEC + int(at * SEC))
        runs.append(run(t, kind, c, rate=4.0 if kind == "low_rate" else None))
        at += secs + 2
    return runs


def test_token_expiry_is_an_onset_not_load():
    res = analyze(token_expiry())
    s = signals(res)
    assert s["status_401"] == pytest.approx(1.0)
    assert s["failures_start_after_elapsed_time"] > 0.7
    onset = next(x for x in res.signals if x.name == "failures_start_after_elapsed_time")
    assert 4.5 <= onset.value <= 5.5
    assert s["failures_fast"] > 0.8
    assert s["failures_vanish_with_fresh_login"] > 0.8
    assert "failures_rise_with_concurrency" not in s
    assert "failures_persist_after_load" not in s
    assert "failure_latency_plateau" not in s


def stale_connection(seed=0):
    """Requests after a quiet second fail once (500); steady traffic never does."""
    rng = np.random.default_rng(seed)
    runs = [run(closed(30, 1, at_s=0, seed=seed, inflight=np.ones(30)), "baseline", 1)]
    runs.append(run(closed(400, 8, at_s=5, seed=seed + 1), "sweep", 8))
    # An idle-gap probe: pauses of 0, 0.5, 1.5, 3 s, two steps each; the first step after a long pause fails.
    gaps = [0.0, 0.5, 1.5, 3.0]
    starts, status, t0 = [], [], 0.0
    for g in gaps:
        t0 += g
        starts += [t0, t0 + 0.05]
        status += [500 if g >= 1.0 else 200, 200]
        t0 += 0.1
    t = table(len(starts), concurrency=1, vu=np.zeros(len(starts)), start_s=np.array(starts), status=np.array(status),
              latency_ms=np.full(len(starts), 20.0), inflight=np.ones(len(starts)),
              epoch_ns=1_700_000_000 * SEC + 20 * SEC, seed=seed + 2)
    runs.append(run(t, "idle_gap", 1, gap_s=3.0))
    # A low-rate probe, 0.75 req/s with jitter: gaps around a second.
    n = 40
    st = np.cumsum(rng.exponential(1.3, n))
    quiet = np.r_[10.0, np.diff(st)]
    status = np.where((quiet > 1.0) & (rng.random(n) < 0.9), 500, 200)
    t = table(n, concurrency=2, vu=np.arange(n) % 2, start_s=st, status=status, inflight=np.ones(n),
              latency_ms=np.full(n, 20.0), epoch_ns=1_700_000_000 * SEC + 40 * SEC, seed=seed + 3)
    runs.append(run(t, "low_rate", 2, rate=0.75))
    return runs


def test_stale_connections_fail_after_idle_gaps():
    res = analyze(stale_connection())
    s = signals(res)
    assert s["failures_after_idle_gap"] > 0.5
    assert "failures_rise_with_concurrency" not in s
    assert "failures_after_idle_gap" in res.tested


def rate_limited(seed=0, seconds=8, rps=30, limit=20):
    rng = np.random.default_rng(seed)
    n = seconds * rps
    st = np.sort(rng.uniform(0, seconds, n))
    sec = np.floor(st).astype(int)
    rank_in_sec = np.r_[0, np.cumsum(sec[1:] == sec[:-1])]
    first = np.flatnonzero(np.r_[True, sec[1:] != sec[:-1]])
    grp = np.cumsum(np.r_[True, sec[1:] != sec[:-1]]) - 1
    rank_in_sec = np.arange(n) - first[grp]
    limited = rank_in_sec >= limit
    status = np.where(limited, 429, 200)
    lat = np.where(limited, rng.normal(2, 0.2, n), rng.normal(25, 3, n))
    retry = (limited.astype(np.int32) - 1, ["1"])
    t = table(n, concurrency=16, start_s=st, status=status, latency_ms=lat, inflight=rng.integers(1, 3, n),
              headers={"retry-after": retry}, seed=seed)
    return [FakeRun(t, {}, "user-probe")]


def test_rate_limiting_gives_429_retry_after_and_bursts():
    res = analyze(rate_limited())
    s = signals(res)
    assert s["status_429"] == pytest.approx(1.0)
    assert s["retry_after_header"] > 0.9
    assert s["failures_bursty"] > 0.3
    assert "failures_uniform" not in s


def race_empty_bodies(seed=0):
    rng = np.random.default_rng(seed)
    n = 1500
    burst = np.zeros(n, bool)
    for s0 in rng.choice(n - 10, 12, replace=False):
        burst[s0 : s0 + 6] = True
    body = (burst.astype(np.int32), ['{"sso_login": true, "audit_log": true, "export": false}', "{}"])
    bytes_in = np.where(burst, 160, 210)
    err = (np.where(burst, 0, -1).astype(np.int32), ["capture"])
    t = table(n, concurrency=16, body_sample=body, bytes_in=bytes_in, error_kind=err,
              body_hash=(burst.astype(np.int32), ["aaaa", "bbbb"]), step="tenant_features", seed=seed)
    return [run(t, "sweep", 16)]


def test_empty_bodies_with_200_are_an_anomaly():
    res = analyze(race_empty_bodies())
    s = signals(res)
    assert s["ok_status_body_anomaly"] > 0.8
    sig = next(x for x in res.signals if x.name == "ok_status_body_anomaly")
    assert "{}" in sig.detail
    assert not any(k.startswith("status_") for k in s)


def read_after_write(seed=0, old_value=False):
    """A write, then a read of it, without and with a pause: the read misses (a 404, or with
    ``old_value`` a 200 with the old value, which the step's expect marks wrong) only without one."""
    rng = np.random.default_rng(seed)
    runs = []
    for delay, p_miss in ((0.0, 0.35), (1.0, 0.0)):
        iters = 150
        n = iters * 2
        step = np.tile([0, 1], iters).astype(np.int32)
        miss = (step == 1) & (rng.random(n) < p_miss)
        if old_value:
            answer = {"status": np.where(step == 0, 204, 200),
                      "error_kind": (np.where(miss, 0, -1).astype(np.int32), ["wrong_body"])}
        else:
            answer = {"status": np.where(miss, 404, np.where(step == 0, 201, 200))}
        t = table(n, concurrency=4, step=(step, ["create_module", "load_module"]), method=(step, ["POST", "GET"]),
                  path=(step, ["/modules", "/modules/{id}"]), seed=seed + int(delay),
                  epoch_ns=1_700_000_000 * SEC + int(delay * 100 * SEC), **answer)
        runs.append(run(t, "flow_delay", 4, delay_s=delay, name=f"flow-delay-{delay:g}"))
    return runs


def test_old_answers_after_writes_are_misses_too():
    s = signals(analyze(read_after_write(old_value=True)))
    assert s["read_after_write_miss"] > 0.6 and s["failures_vanish_with_delay"] > 0.6


def test_reads_after_writes_miss_without_a_pause():
    res = analyze(read_after_write())
    s = signals(res)
    assert s["read_after_write_miss"] > 0.6
    assert s["failures_vanish_with_delay"] > 0.6
    assert s["status_404"] == pytest.approx(1.0)


def connection_leak(seed=0):
    """A baseline that passes, then failures that begin under load and never leave."""
    rng = np.random.default_rng(seed)
    runs = [run(closed(30, 1, at_s=0, seed=seed, inflight=np.ones(30)), "baseline", 1)]
    n = 800
    fail = np.arange(n) >= 500
    lat = np.where(fail, rng.normal(3002, 3, n), rng.normal(30, 3, n))
    runs.append(run(closed(n, 4, at_s=5, seed=seed + 1, latency_ms=lat, status=np.where(fail, 500, 200)), "sweep", 4))
    n = 60
    fail = rng.random(n) < 0.9
    lat = np.where(fail, rng.normal(3002, 3, n), rng.normal(30, 3, n))
    t = table(n, concurrency=2, start_s=np.arange(n) * 0.25, latency_ms=lat, status=np.where(fail, 500, 200),
              inflight=np.ones(n), epoch_ns=1_700_000_000 * SEC + 200 * SEC, seed=seed + 2)
    runs.append(run(t, "low_rate", 2, rate=4.0))
    return runs


def test_a_leak_persists_after_the_load():
    res = analyze(connection_leak())
    s = signals(res)
    assert s["failures_persist_after_load"] > 0.6
    assert s["failure_latency_plateau"] > 0.8
    # The first loaded run shows an onset, the low-rate run fails from its start: weak onset at most,
    # and fresh sessions fail like old ones.
    assert s.get("failures_start_after_elapsed_time", 0) < 0.8
    assert "failures_vanish_with_fresh_login" in res.tested
    assert "failures_vanish_with_fresh_login" not in s


def bad_backend(seed=0, n=3000, c=6):
    """Round robin over three backends behind a proxy, one of them failing; the send order is jittered."""
    rng = np.random.default_rng(seed)
    t = table(n, concurrency=c, seed=seed)
    start = t.column("start_ns").to_numpy()
    arrival = np.argsort(np.argsort(start + rng.exponential(300_000, n)))
    status = pa.array(np.where(arrival % 3 == 2, 500, 200).astype(np.int16))
    return [FakeRun(t.set_column(t.schema.get_field_index("status"), "status", status), {}, "user-probe")]


def test_round_robin_over_a_bad_backend_is_periodic():
    res = analyze(bad_backend())
    s = signals(res)
    assert s["failures_periodic"] > 0.8
    per = next(x for x in res.signals if x.name == "failures_periodic")
    assert per.value == 3
    assert "failures_bursty" not in s


def test_a_bad_backend_named_in_a_header_is_one_server():
    rng = np.random.default_rng(3)
    n = 1200
    node = rng.integers(0, 3, n).astype(np.int32)
    status = np.where((node == 2) & (rng.random(n) < 0.8), 500, 200)
    t = table(n, concurrency=8, status=status, headers={"x-served-by": (node, ["node-0", "node-1", "node-2"])}, seed=3)
    res = analyze([FakeRun(t, {}, "probe")])
    s = signals(res)
    assert s["failures_on_one_server"] > 0.5
    assert "node-2" in next(x for x in res.signals if x.name == "failures_on_one_server").detail


def test_a_slow_step_concentrates_failures():
    rng = np.random.default_rng(4)
    n = 1500
    step = np.tile(np.arange(5), n // 5).astype(np.int32)
    fail = (step == 0) & (rng.random(n) < 0.6) | (rng.random(n) < 0.02)
    lat = np.where(step == 0, rng.normal(1500, 100, n), rng.normal(40, 5, n))
    lat = np.where(fail, 2001 + rng.normal(0, 2, n), lat)
    names = [f"profile_user{i}" for i in range(1, 6)]
    t = table(n, concurrency=8, step=(step, names), path=(step, [f"/api/users/{i}/profile" for i in range(1, 6)]),
              status=np.where(fail, 504, 200), latency_ms=lat, seed=4)
    res = analyze([run(t, "sweep", 8)])
    s = signals(res)
    assert s["failures_concentrated_on_attribute"] > 0.4
    assert s["latency_varies_by_request"] > 0.8
    assert s["status_504"] == pytest.approx(1.0)
    assert next(x for x in res.signals if x.name == "failure_latency_plateau").value == pytest.approx(2.0, abs=0.03)


def test_client_timeouts_and_resets_on_reused_connections():
    rng = np.random.default_rng(5)
    n = 2000
    reused = np.ones(n, bool)
    reused[rng.choice(n, 200, replace=False)] = False
    timeout = rng.random(n) < 0.03
    reset = reused & ~timeout & (rng.random(n) < 0.05)
    kind = np.where(timeout, 0, np.where(reset, 1, -1)).astype(np.int32)
    status = np.where(timeout | reset, 0, 200)
    lat = np.where(timeout, 10_000 + rng.normal(0, 2, n), np.where(reset, 1.0, rng.normal(30, 3, n)))
    t = table(n, concurrency=8, status=status, latency_ms=lat, error_kind=(kind, ["timeout", "remote_disconnected"]),
              conn_reused=reused, conn_id=np.arange(n) // 10, seed=5)
    res = analyze([FakeRun(t, {}, "probe")])
    s = signals(res)
    assert s["client_timeouts"] > 0.2
    assert s["connection_errors"] > 0.5
    assert s["reset_on_reused_connection"] > 0.5
    assert next(x for x in res.signals if x.name == "client_timeouts").value == pytest.approx(10.0, abs=0.1)


def test_uniform_random_failures_are_uniform_and_nothing_else():
    rng = np.random.default_rng(6)
    n = 4000
    fail = rng.random(n) < 0.05
    runs = [run(closed(30, 1, at_s=0, seed=1, inflight=np.ones(30), status=np.where(rng.random(30) < 0.05, 502, 200)),
                "baseline", 1)]
    for i, c in enumerate((4, 16)):
        m = n // 2
        fail = rng.random(m) < 0.05
        runs.append(run(closed(m, c, at_s=10 + 100 * i, seed=7 + i, status=np.where(fail, 502, 200)), "sweep", c))
    s = signals(analyze(runs))
    assert s["failures_uniform"] > 0.5
    for name in ("failures_bursty", "failures_periodic", "failures_rise_with_concurrency", "failures_grow_over_time",
                 "failures_start_after_elapsed_time", "failures_concentrated_on_attribute", "failure_latency_plateau"):
        assert name not in s, name


def healthy(seed=0):
    rng = np.random.default_rng(seed)
    runs = [run(closed(30, 1, at_s=0, seed=seed, inflight=np.ones(30)), "baseline", 1)]
    runs.append(FakeRun(closed(20, 2, at_s=4, seed=seed + 1, latency_ms=rng.normal(2, 0.2, 20), status=404, path="/c"),
                        experiment("canary", role="canary", during="idle"), "canary-idle"))
    at = 8.0
    for c in (4, 12, 32):
        t = closed(100 * c, c, at_s=at, seed=seed + c)
        runs.append(run(t, "sweep", c))
        runs.append(FakeRun(closed(30, 2, at_s=at, seed=seed + 50 + c, latency_ms=rng.normal(2.5, 0.3, 30), status=404,
                                   path="/c"), experiment("canary", c, role="canary", during="load"), f"canary-{c}"))
        at += elapsed(t).max() + 2
    t = table(60, concurrency=2, start_s=np.arange(60) * 0.25, inflight=np.ones(60), seed=seed + 9,
              epoch_ns=1_700_000_000 * SEC + int((at + 5) * SEC))
    runs.append(run(t, "low_rate", 2, rate=4.0))
    return runs


@pytest.mark.parametrize("seed", range(5))
def test_a_healthy_service_emits_no_signal(seed):
    res = analyze(healthy(seed))
    assert res.failures == 0
    assert signals(res) == {}


@pytest.mark.parametrize("seed", range(3))
def test_healthy_canary_404s_are_not_failures(seed):
    res = analyze(healthy(seed))
    assert not any(k.startswith("status_") for k in signals(res))


def test_agent_result_carries_findings_and_tested():
    res = asyncio.run(traffic_agent(None, pool_exhaustion()))
    assert isinstance(res, AgentResult)
    assert res.status == "ok"
    assert "failures_rise_with_concurrency" in res.tested
    assert {"status_500", "failures_rise_with_concurrency"} <= {s.name for s in res.signals}
    for s in res.signals:
        assert s.exemplars, s.name
        assert s.detail
        assert 0 < s.strength <= 1
    # Only the signals the data could show are tested: no flow-delay or idle-gap runs here.
    assert "read_after_write_miss" not in res.tested


def test_agent_without_runs_is_skipped():
    res = asyncio.run(traffic_agent(None, []))
    assert res.status == "skipped"
    assert res.detail


def test_every_emitted_signal_is_tested_and_has_exemplars():
    for runs in (pool_exhaustion(), token_expiry(), stale_connection(), rate_limited(), race_empty_bodies(),
                 read_after_write(), connection_leak(), bad_backend(), upstream_timeout()):
        res = analyze(runs)
        assert {s.name for s in res.signals} <= set(res.tested)
        for s in res.signals:
            assert s.exemplars and s.detail and 0 < s.strength <= 1, s.name


def upstream_timeout(seed=0):
    """A fixed share of calls hit a slow upstream and are cut at 1 s, whatever the load."""
    rng = np.random.default_rng(seed)
    runs, at = [], 0.0
    for kind, c, n in (("baseline", 1, 30), ("sweep", 4, 400), ("sweep", 12, 1200), ("sweep", 32, 2400)):
        slow = rng.random(n) < 0.08
        lat = np.where(slow, 1002 + rng.exponential(3, n), rng.lognormal(np.log(60), 0.2, n))
        t = closed(n, c, at_s=at, seed=seed + c, latency_ms=lat, status=np.where(slow, 504, 201),
                   inflight=np.full(n, c))
        runs.append(run(t, kind, c))
        at += elapsed(t).max() + 3
    n = 80
    slow = rng.random(n) < 0.08
    t = table(n, concurrency=2, start_s=np.arange(n) * 0.25, inflight=np.ones(n), status=np.where(slow, 504, 201),
              latency_ms=np.where(slow, 1003.0, 60.0), epoch_ns=1_700_000_000 * SEC + int((at + 5) * SEC), seed=seed)
    runs.append(run(t, "low_rate", 2, rate=4.0))
    return runs


def test_an_upstream_timeout_fails_alone_evenly_at_one_duration():
    res = analyze(upstream_timeout())
    s = signals(res)
    assert s["status_504"] == pytest.approx(1.0)
    assert s["failure_latency_plateau"] > 0.8
    assert s["failures_present_when_sequential"] > 0.3
    assert s["failures_uniform"] > 0.7
    for name in ("failures_rise_with_concurrency", "failures_absent_when_sequential", "failures_bursty",
                 "failures_periodic", "failures_fast"):
        assert name not in s, name


def test_a_canary_that_fails_under_load_is_reported():
    runs = pool_exhaustion()
    for r in runs:
        if r.meta.experiment.role == "canary" and r.meta.experiment.during == "load":
            t = r.table
            status = pa.array(np.where(np.arange(t.num_rows) % 3 == 0, 503, 404).astype(np.int16))
            r.table = t.set_column(t.schema.get_field_index("status"), "status", status)
    s = signals(analyze(runs))
    assert s["unrelated_endpoint_fails_under_load"] > 0.5
    assert "unrelated_endpoint_fails_under_load" not in signals(analyze(pool_exhaustion()))


def test_one_kind_of_request_slow_even_alone_is_slow_when_sequential():
    # Sent one at a time, four steps answer in 20 ms and one in 900 ms: the median of them all is
    # fast, but one kind of request is slow with nothing else in flight.
    rng = np.random.default_rng(6)
    n = 100
    step = np.tile(np.arange(5), n // 5).astype(np.int32)
    lat = np.where(step == 0, rng.normal(900, 50, n), rng.normal(20, 2, n))
    names = [f"step{i}" for i in range(5)]
    t = table(n, concurrency=1, step=(step, names), latency_ms=lat, seed=6)
    s = signals(analyze([run(t, "baseline", 1)]))
    assert s["slow_when_sequential"] > 0.8
    # All alike and fast alone: nothing.
    even = table(n, concurrency=1, step=(step, names), latency_ms=rng.normal(20, 2, n), seed=7)
    assert "slow_when_sequential" not in signals(analyze([run(even, "baseline", 1)]))


def test_a_busy_service_does_not_rule_out_idle_connections_its_few_failures_cannot_test():
    # Sixteen users keep the service busy (no quiet time at all) while each one's connection
    # idles about 2.5 s between its requests; three of those requests are reset. The service's
    # quiet time, tested, shows nothing; each connection's idle time has too few failures to
    # decide. Neither may mark the idle-gap signal absent, which would count against a
    # keep-alive race that simply shows once in ten tries.
    n = 400
    rng = np.random.default_rng(5)
    reused = np.ones(n, np.int8)
    idle = np.where(np.arange(n) % 2 == 0, rng.uniform(2000, 3200, n), rng.uniform(1, 50, n))
    status = np.full(n, 200)
    status[[10, 90, 250]] = 0
    t = table(n, concurrency=16, vu=np.arange(n) % 16, start_s=np.sort(rng.uniform(0, 12, n)), status=status,
              latency_ms=np.full(n, 5.0), inflight=np.full(n, 4), conn_reused=reused, conn_idle_ms=idle, seed=6)
    # One user pausing 1.5 and 3 s, later, with the service otherwise quiet: none fails.
    quiet = table(6, concurrency=1, vu=np.zeros(6), start_s=np.array([0.0, 1.6, 4.7, 6.3, 9.4, 11.0]),
                  status=np.full(6, 200), latency_ms=np.full(6, 5.0), inflight=np.ones(6),
                  epoch_ns=1_700_000_000 * SEC + 40 * SEC, seed=8)
    runs = [run(closed(30, 1, at_s=0, seed=7, inflight=np.ones(30)), "baseline", 1),
            run(t, "idle_gap", 16, gap_s=2.0), run(quiet, "idle_gap", 1, gap_s=3.0)]
    res = analyze(runs)
    assert "failures_after_idle_gap" not in signals(res)
    assert "failures_after_idle_gap" not in res.tested


# -- the pace of requests sent one at a time -----------------------------------------------------------------------


def _paced(fail_fast: np.ndarray, fail_slow: np.ndarray):
    """A baseline of 30 back-to-back requests (2 ms each), then 40 requests at 4 a second."""
    fast = closed(30, 1, at_s=0, seed=1, latency_ms=np.full(30, 2.0), start_s=np.arange(30) * 0.0025,
                  status=np.where(fail_fast, 503, 200))
    slow = closed(40, 1, at_s=10, seed=2, latency_ms=np.full(40, 2.0), start_s=np.arange(40) * 0.25,
                  status=np.where(fail_slow, 503, 200))
    return [run(fast, "baseline", 1), run(slow, "low_rate", 2, rate=4.0)]


def test_failures_of_back_to_back_requests_that_a_slow_pace_avoids_follow_the_request_rate():
    res = analyze(_paced(np.arange(30) % 2 == 1, np.zeros(40, bool)))
    assert "failures_follow_request_rate" in res.tested
    s = signals(res)
    assert s.get("failures_follow_request_rate", 0) > 0.5, sorted(s)
    # A service that fails its share whatever the pace (a bad copy behind a balancer): tested, not seen.
    even = analyze(_paced(np.arange(30) % 3 == 0, np.arange(40) % 3 == 0))
    assert "failures_follow_request_rate" in even.tested
    assert "failures_follow_request_rate" not in signals(even)


# -- time that grows with the size of the answer -----------------------------------------------------------------


def test_latency_that_grows_with_the_answers_size_is_seen_within_a_request():
    rng = np.random.default_rng(3)
    size = rng.integers(1_000, 40_000, 200)
    lat = 5 + size / 400 + rng.normal(0, 2, 200)
    t = closed(200, 1, at_s=0, seed=3, latency_ms=lat, bytes_in=size)
    s = signals(analyze([run(t, "baseline", 1)]))
    assert s.get("latency_scales_with_body_size", 0) > 0.5, sorted(s)


def test_a_flow_step_both_larger_and_slower_than_another_is_not_items_that_cost_time():
    # The second step answers eight times more bytes and takes ten times longer than the first;
    # within each step size and time are unrelated. That is which step it is, not its items.
    rng = np.random.default_rng(4)
    n = 200
    second = np.arange(n) % 2 == 1
    size = np.where(second, rng.integers(7_800, 8_200, n), rng.integers(480, 520, n))
    lat = np.where(second, rng.normal(100, 10, n), rng.normal(10, 1, n))
    t = closed(n, 1, at_s=0, seed=4, latency_ms=lat, bytes_in=size,
               step=np.where(second, "tickets", "customer").tolist())
    res = analyze([run(t, "baseline", 1)])
    s = signals(res)
    assert "latency_scales_with_body_size" not in s, s
    assert s.get("latency_varies_by_request", 0) > 0.5, sorted(s)


def test_a_flow_steps_latency_rise_is_seen_when_its_slow_step_fails_out_of_the_successes():
    # Two steps: a cheap one (5 ms) and a slow one whose time grows with load and which mostly
    # fails at the top level. The successes up there are nearly all the cheap step, so their
    # median over both steps does not rise; the slow step's own does.
    rng = np.random.default_rng(6)
    runs = []
    for k, c in enumerate((1, 4, 16)):
        n = 200
        slow = np.arange(n) % 2 == 1
        lat = np.where(slow, 100 * c ** 0.8 * rng.lognormal(0, 0.1, n), rng.normal(5, 0.5, n))
        fails = slow & (rng.random(n) < (0.9 if c == 16 else 0.0))
        t = closed(n, c, at_s=10 * k, seed=10 + k, latency_ms=lat, inflight=np.full(n, c),
                   status=np.where(fails, 500, 200), step=np.where(slow, "report", "summary").tolist())
        runs.append(run(t, "sweep", c))
    res = analyze(runs)
    s = signals(res)
    assert s.get("latency_rises_with_concurrency", 0) > 0.3, sorted(s)
    rise = next(x for x in res.signals if x.name == "latency_rises_with_concurrency")
    assert "success p50 of report grows" in rise.detail, rise.detail
