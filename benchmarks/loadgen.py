"""Load-generator speed and memory, measured against wrk and hey in the same run.

Throughput (default): nginx (one worker, small fixed body, keepalive_requests very high) on
127.0.0.1; `tracehound probe -c 32`, `wrk -t1 -c32` and `hey -c 32` (GOMAXPROCS=1) alternate for
several rounds of the same duration, each single-process/single-thread. Prints requests/s per
round, the medians and ``ratio_vs_wrk`` / ``ratio_vs_hey``. tracehound records every request to
Parquet; wrk and hey keep none.

Memory (``--memory``): `tracehound probe -n N` (default 5,000,000) as a child process; peak
resident memory from ``getrusage(RUSAGE_CHILDREN)``, minus the peak of a 10,000-request run
(the interpreter and libraries), divided by N: ``bytes_per_record``.

    python benchmarks/loadgen.py [--rounds 5] [--seconds 5] [--memory] [--requests N] [--all]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

TRACEHOUND = [sys.executable, "-m", "tracehound"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(cmd: str, package: str) -> str:
    path = shutil.which(cmd) or (f"/usr/sbin/{cmd}" if os.path.exists(f"/usr/sbin/{cmd}") else None)
    if not path:
        print(f"loadgen: {cmd} is missing: install the Debian package {package}", file=sys.stderr)
        sys.exit(2)
    return path


class Nginx:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="th-bench-nginx-"))
        self.port = free_port()
        (self.dir / "nginx.conf").write_text(
            f"""worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}; proxy_temp_path {self.dir}; fastcgi_temp_path {self.dir};
  uwsgi_temp_path {self.dir}; scgi_temp_path {self.dir};
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  server {{
    listen 127.0.0.1:{self.port};
    location / {{ default_type text/plain; return 200 "hello\\n"; }}
  }}
}}
"""
        )
        self.proc = subprocess.Popen(
            [need("nginx", "nginx"), "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        sys.exit("loadgen: nginx did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def run_tracehound(url: str, seconds: int, work: Path) -> float:
    out = work / f"th-{time.monotonic_ns()}"
    subprocess.run([*TRACEHOUND, "probe", url, "-c", "32", "-d", f"{seconds}s", "--quiet", "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)
    meta = json.loads((out / "run.json").read_text())
    rows = pq.read_metadata(out / "requests.parquet").num_rows
    shutil.rmtree(out)
    return rows / meta["duration_s"]


def run_wrk(url: str, seconds: int) -> float:
    out = subprocess.run([need("wrk", "wrk"), "-t1", "-c32", f"-d{seconds}s", url],
                         check=True, capture_output=True, text=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def run_hey(url: str, seconds: int) -> float:
    env = {**os.environ, "GOMAXPROCS": "1"}
    out = subprocess.run([need("hey", "hey"), "-c", "32", "-z", f"{seconds}s", url],
                         check=True, capture_output=True, text=True, env=env).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def throughput(url: str, rounds: int, seconds: int, work: Path) -> None:
    print(f"throughput: {rounds} rounds x {seconds}s, -c 32, one process/thread each, nginx on {url}")
    print(f"{'round':>5} {'tracehound':>12} {'wrk':>12} {'hey':>12}")
    th, wrk, hey = [], [], []
    for i in range(rounds):
        th.append(run_tracehound(url, seconds, work))
        wrk.append(run_wrk(url, seconds))
        hey.append(run_hey(url, seconds))
        print(f"{i + 1:>5} {th[-1]:>12,.0f} {wrk[-1]:>12,.0f} {hey[-1]:>12,.0f}", flush=True)
    m_th, m_wrk, m_hey = statistics.median(th), statistics.median(wrk), statistics.median(hey)
    print(f"{'median':>5} {m_th:>12,.0f} {m_wrk:>12,.0f} {m_hey:>12,.0f}")
    print("(tracehound records every request to Parquet; wrk and hey keep no per-request records)")
    print(f"ratio_vs_wrk={m_th / m_wrk:.3f}")
    print(f"ratio_vs_hey={m_th / m_hey:.3f}")


def peak_rss(url: str, n: int, work: Path) -> tuple[int, int]:
    """Peak RSS in bytes of a `tracehound probe -n n` child, and the rows it wrote."""
    out = work / f"mem-{n}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.Popen([*TRACEHOUND, "probe", url, "-c", "32", "-n", str(n), "--max-requests", str(n),
                             "--quiet", "--out", str(out)], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"loadgen: tracehound probe exited with status {status}")
    del before
    rows = pq.read_metadata(out / "requests.parquet").num_rows
    shutil.rmtree(out)
    return usage.ru_maxrss * 1024, rows


def memory(url: str, n: int, work: Path) -> None:
    base, _ = peak_rss(url, 10_000, work)
    t = time.monotonic()
    peak, rows = peak_rss(url, n, work)
    print(f"memory: {n:,} requests in {time.monotonic() - t:.1f}s, rows written {rows:,}")
    print(f"peak_rss_bytes={peak}")
    print(f"baseline_rss_bytes={base}")
    print(f"bytes_per_record={(peak - base) / n:.1f}")
    print(f"bytes_per_record_total={peak / n:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--memory", action="store_true", help="the memory mode only")
    ap.add_argument("--all", action="store_true", help="throughput and memory")
    ap.add_argument("--requests", type=int, default=5_000_000)
    args = ap.parse_args()
    need("nginx", "nginx")
    need("wrk", "wrk")
    need("hey", "hey")
    nginx = Nginx()
    work = Path(tempfile.mkdtemp(prefix="th-bench-"))
    try:
        if not args.memory or args.all:
            throughput(nginx.url, args.rounds, args.seconds, work)
        if args.memory or args.all:
            memory(nginx.url, args.requests, work)
    finally:
        nginx.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
