"""What tracehound.instrument costs: a trivial endpoint, with and without it, in the same run.

A script, not a test: it writes one FastAPI app with a trivial endpoint twice, as is and with
``instrument(app)`` (Server-Timing on every response, the loop-lag monitor, request counters and
histograms, /metrics), serves each with uvicorn (one worker) on 127.0.0.1, and loads them in turn
with tracehound's prober (closed model, ``--concurrency`` users, ``--seconds`` per round),
alternating which goes first, for ``--rounds`` rounds. It prints requests/s and p50/p99 latency
per round, the medians, and the overhead (1 - instrumented/plain requests/s). The bar is 5 %;
the exit status is 1 above it, 2 when a run failed.

    .venv/bin/python benchmarks/instrument.py
    .venv/bin/python benchmarks/instrument.py --rounds 7 --seconds 5 --concurrency 32
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from tracehound.errors import TracehoundError
from tracehound.lab import servers
from tracehound.probe import LoadShape, ProbeConfig, Target, probe
from tracehound.probe.summary import summarize_run

BAR = 0.05
_RUNS = itertools.count()

APP = '''
from fastapi import FastAPI
{import_line}
app = FastAPI()
{install_line}

@app.get("/ping")
async def ping() -> dict:
    return {{"ok": True}}
'''

VARIANTS = {
    "plain": ("", ""),
    "instrumented": ("from tracehound.instrument import instrument", "instrument(app)"),
}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux, /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, pid: int, concurrency: int, seconds: float, out: Path) -> tuple[float, float, float, float]:
    """(requests/s, p50 ms, p99 ms, server CPU µs per request) of one closed-model round; raises when any failed."""
    out = out / f"run{next(_RUNS)}"  # each run in a folder of its own
    cpu0 = cpu_seconds(pid)
    run = probe(ProbeConfig(LoadShape(concurrency=concurrency, duration=seconds), Target(url + "/ping"), out=out))
    cpu = cpu_seconds(pid) - cpu0
    s = summarize_run(run)
    if s.failed or s.latency_ok is None:
        raise RuntimeError(f"{s.failed} of {s.requests} requests failed: {s.status_counts} {s.error_kinds}")
    pct = s.latency_ok.percentiles_ms
    return s.achieved_rps, float(pct["p50"] or 0), float(pct["p99"] or 0), cpu / max(1, s.requests) * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--no-pin", dest="pin", action="store_false",
                    help="let the scheduler move the servers and the prober between cores")
    args = ap.parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))
    # Pinned, the prober keeps one core and the server under test the other: a server that the
    # scheduler moves between cores (or shares one with the prober) costs a few per cent more CPU
    # per request, differently every round, which is as large as what is being measured.
    pin = args.pin and len(cores) >= 2
    if pin:
        os.sched_setaffinity(0, {cores[0]})
    tmp = Path(tempfile.mkdtemp(prefix="tracehound-bench-instrument-"))
    results: dict[str, list[tuple[float, float, float, float]]] = {v: [] for v in VARIANTS}
    try:
        for name, (imp, install) in VARIANTS.items():
            (tmp / name).mkdir()
            (tmp / name / "svc.py").write_text(APP.format(import_line=imp, install_line=install))
        print(f"{'round':>5}  {'variant':<13}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}")
        for r in range(args.rounds):
            # Fresh server processes every round: one process's memory layout can make it a few per
            # cent faster or slower than an identical one for its whole life.
            with contextlib.ExitStack() as stack:
                served: dict[str, tuple[str, int]] = {}
                for name in VARIANTS:
                    srv = stack.enter_context(servers.app_server("svc:app", tmp / name, tmp / f"{name}.log", ready_path="/ping",
                                                                 name=f"bench {name}"))
                    assert srv.process is not None
                    if pin:
                        os.sched_setaffinity(srv.process.pid, {cores[-1]})
                    served[name] = (srv.url, srv.process.pid)
                for url, pid in served.values():  # warm each up before measuring
                    measure(url, pid, args.concurrency, 1.0, tmp / "warmup")
                for name in (list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))):
                    url, pid = served[name]
                    row = measure(url, pid, args.concurrency, args.seconds, tmp / "runs")
                    results[name].append(row)
                    print(f"{r + 1:>5}  {name:<13}{row[0]:>9.0f}{row[1]:>9.2f}{row[2]:>9.2f}{row[3]:>12.1f}", flush=True)
    except (RuntimeError, OSError, TracehoundError) as e:
        print(f"instrument benchmark: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {name: tuple(statistics.median(x[i] for x in rows) for i in range(4)) for name, rows in results.items()}
    plain, inst = med["plain"], med["instrumented"]
    # The server's CPU time per request is the cost itself; requests/s also moves with whatever
    # else this (shared) machine runs during a round, so the bar is held to the CPU figure.
    overhead = inst[3] / plain[3] - 1
    print()
    for name, (rps, p50, p99, cpu) in med.items():
        print(f"median {name:<13}{rps:>9.0f} req/s   p50 {p50:.2f} ms   p99 {p99:.2f} ms   {cpu:.1f} CPU µs/request")
    print(f"instrumented/plain: requests/s {inst[0] / plain[0]:.3f}, p50 {inst[1] / plain[1]:.3f}, p99 {inst[2] / plain[2]:.3f}, "
          f"CPU per request {inst[3] / plain[3]:.3f}; overhead {overhead:+.1%} of the server's CPU per request "
          f"(+{inst[3] - plain[3]:.1f} µs; bar {BAR:.0%})")
    return 0 if overhead < BAR else 1


if __name__ == "__main__":
    sys.exit(main())
