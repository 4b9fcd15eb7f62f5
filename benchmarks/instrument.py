"""What tracehound.instrument costs: a trivial endpoint, with and without it, in the same run.

A script, not a test: it writes one FastAPI app with a trivial endpoint twice, as is and with
``instrument(app)`` as installed by default (Server-Timing on every response, the loop-lag monitor,
/metrics), serves each with uvicorn (one worker, pinned to a core of its own) on 127.0.0.1, and
loads them in turn with tracehound's prober (closed model, ``--concurrency`` users, ``--seconds``
per round, on the other core), alternating which goes first, for ``--rounds`` rounds.

It does so twice. First both apps are served by one process, on two ports: two fresh processes of
the same code differ by a few per cent in CPU per request for their whole life (layout, hash
seed), as much as what is measured, and one process serving both takes that out. Then each app
gets a process of its own, fresh every round, as a cross-check that includes that luck. The
overhead is the median over rounds of the instrumented app's CPU time per request over the
plain one's, minus one; the figure held to the bar (5 %) is the one-process figure plus the loop
monitor's ticking, measured as the process's CPU while idle. The exit status is 1 above the bar,
2 when a run failed.

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
import subprocess
import sys
import tempfile
import time
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

#: Both apps in one server process, each on its own port (``python both.py PLAIN_PORT INSTRUMENTED_PORT``).
BOTH = '''
import asyncio
import contextlib
import sys

import uvicorn
from fastapi import FastAPI

from tracehound.instrument import instrument


def make() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict:
        return {"ok": True}

    return app


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # two servers share the process: SIGTERM simply ends it
        yield


async def main() -> None:
    apps = (make(), instrument(make()))
    configs = [uvicorn.Config(app, host="127.0.0.1", port=int(port), log_level="warning")
               for app, port in zip(apps, sys.argv[1:3])]
    await asyncio.gather(*(Server(c).serve() for c in configs))


try:
    import uvloop
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
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


def same_process(tmp: Path, rounds: int, concurrency: int, seconds: float,
                 core: int | None) -> tuple[float, float, float]:
    """Both apps served by one process.

    Returns the median of the rounds' CPU-per-request ratios (instrumented over plain), the plain
    app's median CPU µs per request, and the process's CPU while idle as a share of the plain
    app's CPU at its rate. A fresh process runs a few per cent faster or slower than an identical
    one for its whole life (memory layout, hash seed); serving both apps from one process takes
    that out of the comparison. The loop monitor ticks while either app is loaded, so the ratio
    leaves its cost out; the idle share (with uvicorn's own idle ticks) is there to add it back.
    """
    (tmp / "both.py").write_text(BOTH)
    ports = [servers.free_port(), servers.free_port()]
    log = (tmp / "both.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(tmp / "both.py"), *map(str, ports)], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if core is not None:
            os.sched_setaffinity(proc.pid, {core})
        deadline = time.monotonic() + 30
        while not all(servers.http_ready(p, "/ping") for p in ports):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the two-app server did not start: {(tmp / 'both.log').read_text()[-300:]}")
            time.sleep(0.1)
        urls = {"plain": f"http://127.0.0.1:{ports[0]}", "instrumented": f"http://127.0.0.1:{ports[1]}"}
        for url in urls.values():
            measure(url, proc.pid, concurrency, 1.0, tmp / "warmup")
        ratios, plain = [], []
        print(f"{'round':>5}  {'one process':<13}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}")
        for r in range(rounds):
            rows = {}
            for name in (list(urls) if r % 2 == 0 else list(reversed(urls))):
                rows[name] = row = measure(urls[name], proc.pid, concurrency, seconds, tmp / "runs")
                print(f"{r + 1:>5}  {name:<13}{row[0]:>9.0f}{row[1]:>9.2f}{row[2]:>9.2f}{row[3]:>12.1f}", flush=True)
            ratios.append(rows["instrumented"][3] / rows["plain"][3])
            plain.append(rows["plain"])
        cpu0 = cpu_seconds(proc.pid)
        time.sleep(3.0)
        idle = (cpu_seconds(proc.pid) - cpu0) / 3.0
        # The idle cost as a share of the plain app's CPU per request at its rate.
        rps = statistics.median(r[0] for r in plain)
        us = statistics.median(r[3] for r in plain)
        return statistics.median(ratios), us, idle * 1e6 / rps / us
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--mode", choices=("both", "same", "separate"), default="both",
                    help="both apps in one server process (the figure held to the bar), one process each "
                         "(fresh every round, a cross-check that includes each process's own luck), or both")
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
    same: tuple[float, float, float] | None = None
    try:
        if args.mode in ("both", "same"):
            same = same_process(tmp, args.rounds, args.concurrency, args.seconds, cores[-1] if pin else None)
            print()
        for name, (imp, install) in VARIANTS.items():
            (tmp / name).mkdir()
            (tmp / name / "svc.py").write_text(APP.format(import_line=imp, install_line=install))
        print(f"{'round':>5}  {'variant':<13}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}")
        for r in range(args.rounds if args.mode != "same" else 0):
            # Fresh server processes every round: one process's memory layout can make it a few per
            # cent faster or slower than an identical one for its whole life.
            with contextlib.ExitStack() as stack:
                served: dict[str, tuple[str, int]] = {}
                for name in VARIANTS:
                    # Both servers of a round share a hash seed (a new one each round): string hashing
                    # lays out every dict, and one seed can make a process a few per cent slower.
                    srv = stack.enter_context(servers.app_server(
                        "svc:app", tmp / name, tmp / f"{name}.log", ready_path="/ping",
                        name=f"bench {name}", env={"PYTHONHASHSEED": str(r + 1)}))
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
                    print(f"{r + 1:>5}  {name:<13}{row[0]:>9.0f}{row[1]:>9.2f}{row[2]:>9.2f}{row[3]:>12.1f}",
                          flush=True)
    except (RuntimeError, OSError, TracehoundError) as e:
        print(f"instrument benchmark: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    overhead = None
    if results["plain"]:
        med = {name: tuple(statistics.median(x[i] for x in rows) for i in range(4)) for name, rows in results.items()}
        plain, inst = med["plain"], med["instrumented"]
        # The server's CPU time per request is the cost itself; requests/s also moves with whatever
        # else this (shared) machine runs during a round. Paired by round (same seed, same minute of
        # the machine's life): the median of the rounds' ratios, which one slow round cannot move.
        paired = statistics.median(i[3] / p[3] for i, p in zip(results["instrumented"], results["plain"], strict=True))
        for name, (rps, p50, p99, cpu) in med.items():
            print(f"median {name:<13}{rps:>9.0f} req/s   p50 {p50:.2f} ms   p99 {p99:.2f} ms   "
                  f"{cpu:.1f} CPU µs/request")
        print(f"one process each: instrumented/plain requests/s {inst[0] / plain[0]:.3f}, "
              f"p50 {inst[1] / plain[1]:.3f}, "
              f"p99 {inst[2] / plain[2]:.3f}; CPU per request {paired - 1:+.1%} (median of {len(results['plain'])} "
              f"paired rounds; medians differ by {inst[3] - plain[3]:+.1f} µs)")
        overhead = paired - 1
    if same is not None:
        ratio, us, idle_share = same
        overhead = ratio - 1 + idle_share
        print(f"one process for both: CPU per request {ratio - 1:+.1%} over {us:.1f} µs "
              f"(median of {args.rounds} rounds), "
              f"plus the idle process's ticking {idle_share:+.2%}: overhead {overhead:+.1%}")
    assert overhead is not None
    print(f"overhead {overhead:+.1%} of the server's CPU per request; bar {BAR:.0%}")
    return 0 if overhead < BAR else 1

if __name__ == "__main__":
    sys.exit(main())
