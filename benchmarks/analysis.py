"""How long the traffic analysis takes on 10 million records, and whether it finds what was injected.

A script, not a test. It builds an investigation's worth of synthetic runs in the real record
schema (:mod:`tracehound.analysis.synthetic`): a sequential baseline, three concurrency-sweep
levels and canaries, a four-step flow (log in, list, read an item, update it) with lognormal
latencies per step, keep-alive connections, unique request ids, JSON body samples and a
background of uniform 502s. Injected into it is an intermittent failure: above 16 requests in
flight the item read waits for a pool and gives up after one second (500), with a probability
that grows with the load. Then it times :func:`tracehound.agents.traffic.analyze` — every
analysis the traffic agent runs — over all of it and checks the injected failure was found:
failures rising with concurrency, a plateau at 1.0 s, and the item read singled out.

Exit status 0 when the analysis is under the bar and found the failure, 1 otherwise.

    .venv/bin/python benchmarks/analysis.py                 # 10 million records, bar 20 s
    .venv/bin/python benchmarks/analysis.py --records 1000000
"""

from __future__ import annotations

import argparse
import gc
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracehound.agents.traffic import analyze
from tracehound.analysis.synthetic import EPOCH_NS, FakeRun, experiment, table

STEPS = ["login", "list_items", "read_item", "update_item"]
METHODS = ["POST", "GET", "GET", "PUT"]
PATHS = ["/api/auth/login", "/api/items?page=1", "/api/items/{id}", "/api/items/{id}"]
STEP_MS = np.array([45.0, 30.0, 12.0, 25.0])
BODIES = ['{"access_token": "[redacted]", "expires_in": 3600}',
          '{"items": [{"id": 1, "name": "lamp"}, {"id": 2, "name": "desk"}], "next": 2}',
          '{"id": 42, "name": "lamp", "price": 1999, "stock": 7}',
          '{"id": 42, "updated": true}']
KNEE = 16
PLATEAU_MS = 1000.0


def sweep_run(n: int, c: int, seed: int, at_s: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    step = (np.arange(n) % 4).astype(np.int32)
    lat = STEP_MS[step] * rng.lognormal(0, 0.35, n) * (1 + c / 32)
    # Requests in flight: around the concurrency level, lower at the ramp-up.
    inflight = np.clip(rng.normal(c, max(c / 6, 0.5), n), 1, c).round().astype(np.int32)
    p_pool = np.clip((inflight - KNEE) / 64, 0, 0.6) * (step == 2)
    pool = rng.random(n) < p_pool
    noise = rng.random(n) < 0.0005
    lat = np.where(pool, PLATEAU_MS + rng.exponential(4, n), lat)
    status = np.where(pool, 500, np.where(noise, 502, np.where(step == 0, 201, 200))).astype(np.int16)
    body = np.where(status >= 500, -1, step).astype(np.int32)
    ids = pc.binary_join_element_wise(pa.scalar("req-"), pc.cast(pa.array(np.arange(n) + seed * 10**9), pa.string()),
                                      "")
    vu = (np.arange(n) // 4) % c
    return table(
        n, concurrency=c, vu=vu, latency_ms=lat, status=status, inflight=inflight, seed=seed,
        step=(step, STEPS), method=(step, METHODS), path=(step, PATHS),
        bytes_in=np.array([260, 900, 420, 210])[step] + rng.integers(0, 40, n),
        body_sample=(body, BODIES), body_hash=(np.where(body >= 0, step, 4).astype(np.int32),
                                                ["a1", "b2", "c3", "d4", "e5"]),
        headers={"server": "uvicorn", "x-request-id": ids}, epoch_ns=EPOCH_NS + int(at_s * 1e9),
    )


def canary_run(c: int | None, seed: int, at_s: float, during: str) -> FakeRun:
    rng = np.random.default_rng(seed)
    t = table(40, concurrency=2, latency_ms=rng.lognormal(np.log(2), 0.2, 40), status=404, path="/__canary__",
              seed=seed, epoch_ns=EPOCH_NS + int(at_s * 1e9))
    return FakeRun(t, experiment("canary", c, role="canary", during=during), f"canary-{during}-{c}")


def build(records: int) -> list[FakeRun]:
    runs = [FakeRun(sweep_run(1000, 1, 1, 0.0), experiment("baseline", 1), "01-baseline"),
            canary_run(None, 2, 30.0, "idle")]
    rest = records - 1000
    at = 60.0
    for i, (c, share) in enumerate(((4, 0.2), (16, 0.4), (64, 0.4))):
        n = int(rest * share) if i < 2 else rest - int(rest * 0.2) - int(rest * 0.4)
        t = sweep_run(n, c, 10 + i, at)
        runs.append(FakeRun(t, experiment("sweep", c), f"0{i + 2}-sweep-c{c}"))
        runs.append(canary_run(c, 20 + i, at, "load"))
        at += 4000.0
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--bar", type=float, default=20.0, help="seconds the analysis may take")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    runs = build(args.records)
    total = sum(r.table.num_rows for r in runs)
    print(f"built {total:,} synthetic records in {len(runs)} runs in {time.perf_counter() - t0:.1f} s")
    gc.collect()

    t0 = time.perf_counter()
    res = analyze(runs)
    secs = time.perf_counter() - t0
    sig = {s.name: s for s in res.signals}
    print(f"analysis: {secs:.2f} s for {total:,} records (bar {args.bar:g} s) — {res.detail}")
    for s in sorted(sig.values(), key=lambda s: -s.strength):
        print(f"  {s.name:36s} {s.strength:.2f}  {s.detail[:110]}")
    rise = sig.get("failures_rise_with_concurrency")
    plateau = sig.get("failure_latency_plateau")
    where = sig.get("failures_concentrated_on_attribute")
    found = (rise is not None and rise.strength > 0.5
             and plateau is not None and abs((plateau.value or 0) - PLATEAU_MS / 1000) < 0.05
             and where is not None and "read_item" in where.detail)
    under = secs < args.bar
    print(f"under the bar: {'yes' if under else 'NO'}; injected failure found: {'yes' if found else 'NO'}")
    return 0 if under and found else 1


if __name__ == "__main__":
    sys.exit(main())
