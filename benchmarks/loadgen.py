"""How fast tracehound's prober drives a trivial server, and what a recorded request costs in memory.

A script, not a test: it starts nginx (Debian's package) on 127.0.0.1 with a throwaway config
that answers every request with a fixed 6-byte body, then

* throughput (default): runs ``tracehound probe -c 32 -d Ns``, ``wrk -t1 -c32 -dNs`` and
  ``hey -c 32 -z Ns`` (GOMAXPROCS=1) in turn for several rounds, each a single process on one
  core, and prints requests/s per round, the median of each tool and the ratios of the medians;
* engines (``--engines``): requests per CPU-second ("per core") of ``tracehound probe`` on the native
  engine (one process) and on ``--engine locust`` (master + one worker), and the rate reached with the
  master plus two local workers (and, beside it, the native engine with ``--workers 2``); the CPU
  time is the whole process tree's (``wait4`` counts reaped children), less that of a run of
  ``-n 32`` (start-up: interpreters, imports, Locust's handshake);
* memory (``--memory``): runs ``tracehound probe -c 32 -n N`` and reads the child's peak resident
  set size from the kernel, once with N requests and once with a small N for the fixed cost of
  the interpreter and libraries, and checks that the run folder holds N rows;
* data (``--data``): the same probe with and without data: ``tracehound probe URL`` against
  ``tracehound probe URL/customers/{id} --data-file F`` with F a CSV of ``--data-rows`` rows (100,000
  by default), in turn for several rounds, their medians and ratio; then, as ``--memory`` does, the
  bytes per record of each (with ``--requests N``), and that every data row's value is recorded.

Every load goes to 127.0.0.1 only and is bounded in time and count; nginx and the run folders are
removed at the end, also on an error or Ctrl-C. Exit status: 0 when everything ran, 1 when a run
failed or gave a wrong result, 2 when a tool is missing.

    .venv/bin/python benchmarks/loadgen.py                       # 5 rounds of 5 s
    .venv/bin/python benchmarks/loadgen.py --rounds 3 --seconds 3
    .venv/bin/python benchmarks/loadgen.py --engines --rounds 3 --seconds 8
    .venv/bin/python benchmarks/loadgen.py --memory --requests 1000000
    .venv/bin/python benchmarks/loadgen.py --data --rounds 5 --seconds 5 --requests 2000000
    .venv/bin/python benchmarks/loadgen.py --all
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONNECTIONS = 32
TRACEHOUND = [sys.executable, "-m", "tracehound"]
DEBIAN_PACKAGE = {"nginx": "nginx", "wrk": "wrk", "hey": "hey"}

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type text/plain;
            return 200 "hello\\n";
        }}
    }}
}}
"""


class BenchError(Exception):
    """Something the benchmark needs could not run; the message says what."""

    exit_code = 1


class MissingTool(BenchError):
    exit_code = 2


# -- processes ---------------------------------------------------------------------------------


def find_tool(name: str) -> str:
    """Path of ``name`` (also looked for in /usr/sbin, where Debian puts nginx)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        pkg = DEBIAN_PACKAGE[name]
        raise MissingTool(f"{name} not found: install the Debian package {pkg} (apt-get install {pkg}, or make deps)")
    return path


try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _LIBC = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when this script dies, even by SIGKILL (Linux)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop ``proc`` and its process group: ``sig``, then SIGKILL after 5 s."""
    try:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def nginx_server(tmp: Path, attempts: int = 3) -> Iterator[str]:
    """nginx on a free port of 127.0.0.1 answering ``hello``; yields its URL; always stopped."""
    binary = find_tool("nginx")
    for attempt in range(attempts):
        port = free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        log = tmp / "error.log"
        with open(tmp / "nginx.out", "ab") as out:
            proc = subprocess.Popen(
                [binary, "-p", str(tmp), "-c", str(conf), "-e", str(log)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads here
            )
        try:
            if wait_listening(port, proc):
                yield f"http://127.0.0.1:{port}/"
                return
            if proc.poll() is not None and attempt + 1 < attempts:
                continue  # most likely the port was taken in between: try another
            lines = [ln for f in (log, tmp / "nginx.out") if f.exists()
                     for ln in f.read_text(errors="replace").splitlines() if ln.strip()]
            raise BenchError(f"nginx did not start on 127.0.0.1:{port}: {lines[-1] if lines else 'no output'}")
        finally:
            stop(proc)


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_bytes: int
    #: user + system CPU seconds of the process and of every child it reaped
    cpu_seconds: float = 0.0


def run_measured(cmd: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd`` to completion; its own peak RSS comes from ``wait4`` (ru_maxrss, KiB on Linux)."""
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f, env=env,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509 - no threads here
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - t0 > timeout:
                    raise BenchError(f"`{' '.join(cmd[:4])} …` did not finish within {timeout:g}s")
                time.sleep(0.02)
        except BaseException:
            proc.kill()
            with contextlib.suppress(ChildProcessError):
                os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - t0
        out_f.seek(0)
        err_f.seek(0)
        stdout = out_f.read().decode(errors="replace")
        stderr = err_f.read().decode(errors="replace")
    return Measured(proc.returncode, stdout, stderr, seconds, usage.ru_maxrss * 1024,
                    usage.ru_utime + usage.ru_stime)


def _check(m: Measured, what: str) -> Measured:
    if m.returncode != 0:
        tail = (m.stderr.strip() or m.stdout.strip()).splitlines()[-3:]
        raise BenchError(f"{what} exited with {m.returncode}: {' | '.join(tail) or 'no output'}")
    return m


# -- the three load generators -----------------------------------------------------------------


@dataclass
class Result:
    rps: float
    requests: int
    errors: int


def _counted(out: Path) -> tuple[int, float]:
    """The requests and seconds a run folder's ``run.json`` recorded."""
    from tracehound.probe.meta import read_meta

    meta = read_meta(out)
    return meta.counts.requests or 0, float(meta.duration_s or "nan")


def tracehound_throughput(url: str, seconds: int, out: Path, extra: Sequence[str] = ()) -> Result:
    cmd = [*TRACEHOUND, "probe", url, "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--quiet", "--out", str(out),
           *extra]
    _check(run_measured(cmd, timeout=seconds + 60), "tracehound probe")
    requests, seconds = _counted(out)
    status = _status_column(out)
    shutil.rmtree(out, ignore_errors=True)
    return Result(requests / seconds, requests, int((status != 200).sum()))


def wrk_throughput(url: str, seconds: int) -> Result:
    cmd = [find_tool("wrk"), "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url]
    m = _check(run_measured(cmd, timeout=seconds + 30), "wrk")
    rps = _number(r"^Requests/sec:\s*([\d.]+)", m.stdout, "wrk")
    requests = int(_number(r"^\s*(\d+) requests in", m.stdout, "wrk"))
    errors = int(_number(r"Non-2xx or 3xx responses:\s*(\d+)", m.stdout, "wrk", default=0))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", m.stdout)
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return Result(rps, requests, errors)


def hey_throughput(url: str, seconds: int) -> Result:
    cmd = [find_tool("hey"), "-c", str(CONNECTIONS), "-z", f"{seconds}s", url]
    env = {**os.environ, "GOMAXPROCS": "1"}  # one thread, like wrk -t1 and tracehound's one process
    m = _check(run_measured(cmd, timeout=seconds + 30, env=env), "hey")
    rps = _number(r"^\s*Requests/sec:\s*([\d.]+)", m.stdout, "hey")
    codes = {int(c): int(n) for c, n in re.findall(r"^\s*\[(\d+)\]\s+(\d+) responses", m.stdout, re.MULTILINE)}
    errors = sum(n for c, n in codes.items() if c != 200)
    dist = m.stdout.split("Error distribution:", 1)
    if len(dist) == 2:
        errors += sum(int(n) for n in re.findall(r"^\s*\[(\d+)\]", dist[1], re.MULTILINE))
    return Result(rps, sum(codes.values()), errors)


def _number(pattern: str, text: str, tool: str, default: float | None = None) -> float:
    m = re.search(pattern, text, re.MULTILINE)
    if m is None:
        if default is not None:
            return default
        raise BenchError(f"cannot read {pattern!r} in {tool}'s output: {text.strip()[:200]!r}")
    return float(m.group(1))


def _status_column(run: Path) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(run / "requests.parquet", columns=["status"]).column("status").to_numpy()


# -- the two engines --------------------------------------------------------------------------


@dataclass
class EngineResult:
    rps: float
    requests: int
    errors: int
    cpu_seconds: float


ENGINE_SETUPS = {
    "native": ["--engine", "native"],
    "native-2w": ["--engine", "native", "--workers", "2"],
    "locust-1w": ["--engine", "locust", "--workers", "1"],
    "locust-2w": ["--engine", "locust", "--workers", "2"],
}


def engine_run(url: str, setup: str, bound: list[str], out: Path) -> EngineResult:
    cmd = [*TRACEHOUND, "probe", url, "-c", str(CONNECTIONS), *bound, *ENGINE_SETUPS[setup], "--quiet",
           "--out", str(out)]
    m = _check(run_measured(cmd, timeout=180), f"tracehound probe ({setup})")
    requests, seconds = _counted(out)
    status = _status_column(out)
    shutil.rmtree(out, ignore_errors=True)
    return EngineResult(requests / seconds, requests, int((status != 200).sum()), m.cpu_seconds)


def engines(url: str, tmp: Path, rounds: int, seconds: int) -> bool:
    setups = tuple(ENGINE_SETUPS)
    print(f"## engines: {rounds} rounds x {seconds}s per setup, -c {CONNECTIONS}, keep-alive; the order rotates "
          "every round; per core = requests / CPU-seconds of the whole process tree, less a -n 32 run's")
    with open("/proc/loadavg") as f:
        print(f"   load average before: {' '.join(f.read().split()[:3])}")
    fixed = {t: engine_run(url, t, ["-n", str(CONNECTIONS)], tmp / f"fixed-{t}") for t in setups}
    print("   fixed cost (-n 32): " + ", ".join(f"{t} {fixed[t].cpu_seconds:.2f} CPU-s" for t in setups))
    results: dict[str, list[EngineResult]] = {t: [] for t in setups}
    print(f"{'round':>5}  " + "  ".join(f"{t:>22}" for t in setups) + "   req/s (req per CPU-s)")
    for r in range(rounds):
        order = setups[r % len(setups):] + setups[: r % len(setups)]
        for t in order:
            results[t].append(engine_run(url, t, ["-d", f"{seconds}s"], tmp / f"engines-{r}-{t}"))
        print(f"{r + 1:>5}  " + "  ".join(
            f"{results[t][-1].rps:>10,.0f} ({_per_core(results[t][-1], fixed[t]):>8,.0f})" for t in setups), flush=True)
    ok = True
    for t in setups:
        rps = statistics.median(x.rps for x in results[t])
        per_core = statistics.median(_per_core(x, fixed[t]) for x in results[t])
        errors = sum(x.errors for x in results[t])
        print(f"{t}_median_rps={rps:.1f}  {t}_median_rps_per_core={per_core:.1f}  {t}_errors={errors}")
        if errors:
            print(f"WARNING: {t} saw {errors:,} failed requests against nginx; the figures are suspect")
            ok = False
    with open("/proc/loadavg") as f:
        print(f"   load average after: {' '.join(f.read().split()[:3])}")
    return ok


def _per_core(x: EngineResult, fixed: EngineResult) -> float:
    cpu = x.cpu_seconds - fixed.cpu_seconds
    return (x.requests - fixed.requests) / cpu if cpu > 0 else float("nan")


# -- the modes ---------------------------------------------------------------------------------


def throughput(url: str, tmp: Path, rounds: int, seconds: int) -> bool:
    tools = ("tracehound", "wrk", "hey")
    for t in ("wrk", "hey"):
        find_tool(t)
    print(f"## throughput: {rounds} rounds x {seconds}s per tool, {CONNECTIONS} connections, keep-alive, "
          f"one process on one core each (wrk -t1, hey GOMAXPROCS=1); the order rotates every round")
    from tracehound.probe import schema

    print(f"   tracehound records every request (one row of {len(schema())} columns, written to Parquet); "
          "wrk records none (counters and a latency histogram); hey records none to disk "
          "(it keeps six timings per request in memory, up to 1M, for its summary)")
    results: dict[str, list[Result]] = {t: [] for t in tools}
    print(f"{'round':>5}  {'tracehound':>12}  {'wrk':>12}  {'hey':>12}   req/s")
    for r in range(rounds):
        order = tools[r % 3:] + tools[: r % 3]
        for t in order:
            if t == "tracehound":
                res = tracehound_throughput(url, seconds, tmp / f"throughput-{r}")
            elif t == "wrk":
                res = wrk_throughput(url, seconds)
            else:
                res = hey_throughput(url, seconds)
            results[t].append(res)
        print(f"{r + 1:>5}  " + "  ".join(f"{results[t][-1].rps:>12,.0f}" for t in tools)
              + f"   (order: {', '.join(order)})", flush=True)
    med = {t: statistics.median(x.rps for x in results[t]) for t in tools}
    print(f"{'median':>5}  " + "  ".join(f"{med[t]:>12,.0f}" for t in tools))
    ok = True
    for t in tools:
        errors = sum(x.errors for x in results[t])
        total = sum(x.requests for x in results[t])
        print(f"{t}_median_rps={med[t]:.1f}  {t}_requests={total}  {t}_errors={errors}")
        if errors:
            print(f"WARNING: {t} saw {errors:,} failed requests against nginx; the figures are suspect")
            ok = False
    print(f"ratio_vs_wrk={med['tracehound'] / med['wrk']:.3f}")
    print(f"ratio_vs_hey={med['tracehound'] / med['hey']:.3f}")
    return ok


def memory(url: str, tmp: Path, requests: int, baseline_requests: int, extra: Sequence[str] = (),
           label: str = "") -> bool:
    import pyarrow.parquet as pq

    print(f"## memory{label}: peak RSS of `tracehound probe -c {CONNECTIONS} -n N` (the child's ru_maxrss from wait4)")

    def one(n: int) -> tuple[Measured, int]:
        out = tmp / f"memory-{n}"
        cmd = [*TRACEHOUND, "probe", url, "-c", str(CONNECTIONS), "-n", str(n), "--max-requests", str(n),
               "--quiet", "--out", str(out), *extra]
        m = _check(run_measured(cmd, timeout=120 + n / 2_000), f"tracehound probe -n {n}")
        rows = pq.read_metadata(out / "requests.parquet").num_rows
        if extra:
            _check_data_column(out, rows)
        shutil.rmtree(out, ignore_errors=True)
        print(f"   N={n:,}: peak RSS {m.max_rss_bytes / 2**20:,.1f} MiB, {rows:,} rows, {m.seconds:.1f}s "
              f"({n / m.seconds:,.0f} req/s including start-up and writing)", flush=True)
        return m, rows

    base, base_rows = one(baseline_requests)
    peak, rows = one(requests)
    print(f"requests={requests}")
    print(f"rows_written={rows}")
    print(f"peak_rss_bytes={peak.max_rss_bytes}")
    print(f"baseline_rss_bytes={base.max_rss_bytes}  (N={baseline_requests})")
    print(f"bytes_per_record={(peak.max_rss_bytes - base.max_rss_bytes) / requests:.1f}")
    print(f"bytes_per_record_total={peak.max_rss_bytes / requests:.1f}")
    ok = rows == requests and base_rows == baseline_requests
    if not ok:
        print(f"WARNING: expected {requests:,} and {baseline_requests:,} rows, found {rows:,} and {base_rows:,}")
    return ok


DATA_COLUMN = "data_customers"


def data_csv(tmp: Path, rows: int) -> Path:
    """A CSV of ``rows`` customers (id, name), as a user's data file would be."""
    path = tmp / "customers.csv"
    with open(path, "w") as f:
        f.write("id,name\n")
        f.writelines(f"{i},customer {i:07d}\n" for i in range(1, rows + 1))
    return path


def _check_data_column(run: Path, rows: int) -> None:
    import pyarrow.parquet as pq

    col = pq.read_table(run / "requests.parquet", columns=[DATA_COLUMN]).column(DATA_COLUMN)
    if col.null_count or len(col) != rows:
        raise BenchError(f"{run}: {col.null_count} of {len(col)} requests have no recorded value")


def _probe(url: str, bound: list[str], out: Path, extra: Sequence[str]) -> EngineResult:
    cmd = [*TRACEHOUND, "probe", url, "-c", str(CONNECTIONS), *bound, "--quiet", "--out", str(out), *extra]
    m = _check(run_measured(cmd, timeout=180), "tracehound probe")
    requests, seconds = _counted(out)
    if extra:
        _check_data_column(out, requests)
    status = _status_column(out)
    shutil.rmtree(out, ignore_errors=True)
    return EngineResult(requests / seconds, requests, int((status != 200).sum()), m.cpu_seconds)


def data(url: str, tmp: Path, rounds: int, seconds: int, rows: int, requests: int, baseline_requests: int) -> bool:
    """tracehound probe with and without data, in turn; then the bytes per record of each."""
    csv = data_csv(tmp, rows)
    data_url = url.rstrip("/") + "/customers/{id}"
    setups = {"plain": (url, []), "data": (data_url, ["--data-file", str(csv)])}
    print(f"## data: {rounds} rounds x {seconds}s each, -c {CONNECTIONS}; `tracehound probe URL` against "
          f"`tracehound probe URL/customers/{{id}} --data-file customers.csv` ({rows:,} rows, drawn in order); "
          "the order alternates every round; per core = requests / CPU-seconds, less a -n 32 run's (start-up, "
          "reading the data file)")
    with open("/proc/loadavg") as f:
        print(f"   load average before: {' '.join(f.read().split()[:3])}")
    fixed = {t: _probe(u, ["-n", str(CONNECTIONS)], tmp / f"data-fixed-{t}", x) for t, (u, x) in setups.items()}
    print("   fixed cost (-n 32): " + ", ".join(f"{t} {fixed[t].cpu_seconds:.2f} CPU-s" for t in setups))
    results: dict[str, list[EngineResult]] = {t: [] for t in setups}
    print(f"{'round':>5}  {'plain':>22}  {'data':>22}   req/s (req per CPU-s)")
    for r in range(rounds):
        order = ("plain", "data") if r % 2 == 0 else ("data", "plain")
        for t in order:
            u, x = setups[t]
            results[t].append(_probe(u, ["-d", f"{seconds}s"], tmp / f"data-{r}-{t}", x))
        print(f"{r + 1:>5}  " + "  ".join(
            f"{results[t][-1].rps:>10,.0f} ({_per_core(results[t][-1], fixed[t]):>8,.0f})" for t in setups)
            + f"   (order: {', '.join(order)}; ratio {results['data'][-1].rps / results['plain'][-1].rps:.3f})",
            flush=True)
    ok = True
    med: dict[str, float] = {}
    core: dict[str, float] = {}
    for t in setups:
        med[t] = statistics.median(x.rps for x in results[t])
        core[t] = statistics.median(_per_core(x, fixed[t]) for x in results[t])
        errors = sum(x.errors for x in results[t])
        print(f"{t}_median_rps={med[t]:.1f}  {t}_median_rps_per_core={core[t]:.1f}  {t}_errors={errors}")
        if errors:
            print(f"WARNING: {t} saw {errors:,} failed requests against nginx; the figures are suspect")
            ok = False
    print(f"ratio_data_vs_plain={med['data'] / med['plain']:.3f}")
    print(f"ratio_data_vs_plain_per_core={core['data'] / core['plain']:.3f}")
    per_round = [d.rps / p.rps for p, d in zip(results["plain"], results["data"], strict=True)]
    print(f"ratio_data_vs_plain_per_round={','.join(f'{x:.3f}' for x in per_round)}")
    with open("/proc/loadavg") as f:
        print(f"   load average after: {' '.join(f.read().split()[:3])}")
    ok &= memory(url, tmp, requests, baseline_requests, label=" (plain)")
    ok &= memory(data_url, tmp, requests, baseline_requests, extra=setups["data"][1], label=" (with data)")
    return ok


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--memory", action="store_true", help="memory per record instead of throughput")
    mode.add_argument("--all", action="store_true", help="throughput, then memory")
    mode.add_argument("--engines", action="store_true",
                      help="native engine vs --engine locust: req/s per core, and master + 2 workers")
    mode.add_argument("--data", action="store_true",
                      help="tracehound probe with and without a data file: req/s, their ratio, bytes per record")
    p.add_argument("--data-rows", type=int, default=100_000, help="--data: rows of the data file (default 100,000)")
    p.add_argument("--rounds", type=int, default=5, help="throughput rounds (default 5)")
    p.add_argument("--seconds", type=int, default=5, help="seconds per tool per round (default 5)")
    p.add_argument("--requests", type=int, default=5_000_000, help="memory mode: N (default 5,000,000)")
    p.add_argument("--baseline-requests", type=int, default=10_000, help="memory mode: the small N (default 10,000)")
    a = p.parse_args(argv)
    if not (1 <= a.rounds <= 100 and 1 <= a.seconds <= 600):
        p.error("--rounds must be 1..100 and --seconds 1..600")
    if not (1 <= a.baseline_requests < a.requests <= 50_000_000):
        p.error("need 1 <= --baseline-requests < --requests <= 50,000,000")
    if not 1 <= a.data_rows <= 2_000_000:
        p.error("--data-rows must be 1..2,000,000")
    return a


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="tracehound-bench-"))
    try:
        try:
            import tracehound
        except ImportError:
            raise MissingTool("tracehound is not importable: run with the project's venv "
                              "(make venv; .venv/bin/python benchmarks/loadgen.py)") from None
        find_tool("nginx")
        if not args.memory and not args.engines and not args.data:
            find_tool("wrk")
            find_tool("hey")
        print(f"# tracehound {tracehound.__version__}, Python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, {platform.platform()}")
        ok = True
        with nginx_server(tmp) as url:
            print(f"# target: nginx (1 worker, access_log off) at {url}")
            if args.engines:
                ok &= engines(url, tmp, args.rounds, args.seconds)
            elif args.data:
                ok &= data(url, tmp, args.rounds, args.seconds, args.data_rows, args.requests, args.baseline_requests)
            elif not args.memory:
                ok &= throughput(url, tmp, args.rounds, args.seconds)
            if args.memory or args.all:
                ok &= memory(url, tmp, args.requests, args.baseline_requests)
        return 0 if ok else 1
    except BenchError as e:
        print(f"loadgen: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("loadgen: interrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
