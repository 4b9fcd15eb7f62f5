"""Load shapes on real servers: the open model's schedule, coordinated omission, stages."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest

from tracehound.probe import LoadShape, ProbeConfig, Stage, Target, probe
from tracehound.probe.summary import summarize_run


def test_open_model_keeps_its_arrival_rate(faulty, tmp_path):
    run = probe(ProbeConfig(LoadShape(rate=400, duration=5, concurrency=64), Target(f"{faulty.base_url}/ok"),
                            out=tmp_path / "r"))
    t = run.table
    intended = np.sort(t.column("intended_start_ns").to_numpy())
    n = len(intended)
    assert t.column("status").to_numpy().tolist() == [200] * n
    # A busy machine may make the client itself late for an arrival or two at the end of the window:
    # those are counted as dropped, never lost.
    dropped = run.meta.counts.dropped or 0
    assert dropped <= 4 and n + dropped == 2000
    span_s = (intended[-1] - intended[0]) / 1e9
    by_span = n / span_s
    by_count = n / 5.0
    by_sends = summarize_run(run).achieved_rps  # from the actual send times
    print(f"open model at 400/s: {n} requests, {by_span:.2f}/s over the intended span, {by_count:.2f}/s "
          f"over the duration, {by_sends:.2f}/s actually sent")
    assert abs(by_span - 400) / 400 < 0.02
    assert abs(by_count - 400) / 400 < 0.02
    assert abs(by_sends - 400) / 400 < 0.02
    gaps = np.diff(intended)
    assert np.abs(gaps - 2_500_000).max() <= 1_000  # 2.5 ms apart, to the microsecond


def test_open_model_stages_follow_the_ramp(faulty, tmp_path):
    """0 → 200 req/s over 2 s, then 400 req/s for 1 s: 200 + 400 arrivals, request k of the ramp
    due at sqrt(k / 50) s (its cumulative count is 50 t²)."""
    shape = LoadShape(stages=[Stage(2, 200), Stage(1, 400, ramp=False)], open_model=True, concurrency=64)
    run = probe(ProbeConfig(shape, Target(f"{faulty.base_url}/ok"), out=tmp_path / "r"))
    intended = np.sort(run.table.column("intended_start_ns").to_numpy())
    offsets = (intended - intended[0]) / 1e9  # the first arrival is due at 0
    k = np.arange(offsets.size)
    due = np.where(k < 200, np.sqrt(k / 50), 2 + (k - 200) / 400)
    assert np.abs(offsets - due).max() < 1e-6
    # Exactly 600 unless the client itself lags at the very end of the window (see the next test).
    assert abs(offsets.size + run.meta.counts.dropped - 600) <= 6


def test_open_model_accounts_for_every_arrival_when_the_client_stalls(faulty, tmp_path):
    """Every arrival due inside the send window is sent (late) or counted as dropped, even when the
    prober's own event loop is blocked across the end of the window (a GC pause, a busy core).

    The first progress callback runs on the prober's loop about 0.5 s in; blocking it for 0.8 s
    holds the dispatcher past the end of the 1 s window while ~200 arrivals fall due.
    """
    calls: list[float] = []

    def stall_once(p) -> None:  # type: ignore[no-untyped-def]
        calls.append(p.elapsed_s)
        if len(calls) == 1:
            time.sleep(0.8)  # deliberately blocking the prober's loop: the fault under test

    run = probe(ProbeConfig(LoadShape(rate=400, duration=1, concurrency=64), Target(f"{faulty.base_url}/ok"),
                            out=tmp_path / "r"), on_progress=stall_once)
    assert calls[0] < 0.9  # the stall did straddle the end of the window
    rows, counts = run.table.num_rows, run.meta.counts
    assert rows + (counts.dropped or 0) == counts.issued
    assert counts.issued == 400, f"{rows} recorded + {counts.dropped} dropped of 400 due"


def test_open_model_sees_the_stall_the_closed_model_hides(faulty_stall, tmp_path):
    """The wrk2/vegeta argument: a closed loop waits out a stall and records one slow request per
    user; an open model keeps sending on schedule, so every request due during the stall is slow."""
    url = f"{faulty_stall.base_url}/stall-every"
    mark = faulty_stall.mark()
    open_run = probe(ProbeConfig(LoadShape(rate=200, duration=6, concurrency=400), Target(url),
                                 out=tmp_path / "open"))
    closed_run = probe(ProbeConfig(LoadShape(concurrency=4, duration=6), Target(url), out=tmp_path / "closed"))
    stalls = faulty_stall.events(mark, kinds=("stall",))

    def latency(run):  # type: ignore[no-untyped-def]
        t = run.table
        assert t.column("status").to_numpy().tolist() == [200] * t.num_rows
        return t.column("total_ms").to_numpy().astype(np.float64), t.column("intended_start_ns").to_numpy()

    open_ms, open_intended = latency(open_run)
    closed_ms, _ = latency(closed_run)
    open_p99, closed_p99 = np.percentile(open_ms, 99), np.percentile(closed_ms, 99)
    open_slow, closed_slow = (open_ms > 200).mean(), (closed_ms > 200).mean()
    print(f"stall 1 s every 2 s: open p99 {open_p99:.0f} ms, {100 * open_slow:.1f}% > 200 ms "
          f"({open_ms.size} requests); closed p99 {closed_p99:.1f} ms, {100 * closed_slow:.2f}% > 200 ms "
          f"({closed_ms.size} requests)")
    assert len(stalls) >= 5  # both runs spanned stalls
    assert open_p99 > 500
    assert open_slow > 0.05
    assert closed_ms.max() > 500  # the closed model did meet the stalls...
    assert closed_slow < open_slow / 5  # ...but recorded them in a handful of requests
    # The open model's slow requests are those due during a stall (or queued right behind one).
    windows = np.array([(s["t0_ns"], s["t1_ns"]) for s in stalls])
    due = open_intended[open_ms > 200]
    inside = ((due[:, None] >= windows[:, 0] - 50_000_000) & (due[:, None] <= windows[:, 1] + 250_000_000)).any(1)
    assert inside.mean() > 0.95


def test_stages_ramp_the_virtual_users(faulty, tmp_path):
    mark = faulty.mark()
    shape = LoadShape(stages=[Stage(2, 4), Stage(2, 8, ramp=False)])
    run = probe(ProbeConfig(shape, Target(f"{faulty.base_url}/delay/20"), out=tmp_path / "r"))
    rows = run.table.to_pylist()
    t0 = datetime.fromisoformat(run.meta.started_at).timestamp()  # <= the engine's start
    first: dict[int, float] = {}
    for r in sorted(rows, key=lambda r: r["start_ns"]):
        first.setdefault(r["vu"], r["start_ns"] / 1e9 - t0)
    assert sorted(first) == list(range(8))
    # 0→4 VUs over 2 s: VU k joins once the target passes k, at k/2 s; then 8 at once at 2 s.
    for vu, t in first.items():
        due = vu / 2 if vu < 4 else 2.0
        assert due <= t < due + 0.4, (vu, t)
    assert [v for v, _ in sorted(first.items(), key=lambda kv: kv[1])][:4] == [0, 1, 2, 3]
    assert max(r["inflight"] for r in rows) <= 8
    assert all(r["status"] == 200 for r in rows)
    assert len({r["conn_id"] for r in rows}) == len({e["client_port"] for e in faulty.events(mark)}) == 8


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_worker_shares_of_staged_vus_add_up_to_the_whole(workers):
    stages = [Stage(2, 7), Stage(1, 3, ramp=False), Stage(2, 0)]
    whole = LoadShape(stages=stages)
    parts = [replace(whole, vu_share=(i, workers)) for i in range(workers)]
    for t in np.linspace(0, 5.5, 111):
        vus = max(0, math.ceil(whole.level_at(t) - 1e-9))
        assert sum(p.level_at(t) for p in parts) == vus, t
        assert all(p.level_at(t) == int(p.level_at(t)) >= 0 for p in parts)
