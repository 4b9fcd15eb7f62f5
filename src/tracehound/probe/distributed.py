"""``probe --engine locust``: the same run on Locust's distributed runner, master and workers as subprocesses.

Locust monkey-patches the standard library with gevent, so it never runs in this process: a
master (``python -m tracehound.locustfile master``) and N local workers are started in their own
sessions (Ctrl-C reaches this process only, which stops them in order), and remote workers join
with ``tracehound locust-worker --master HOST:PORT``. Each worker records every request into the
run schema and ships Parquet shards to the master, which writes them under ``<run>/parts/``; here
they are merged into one ``requests.parquet`` with a ``worker`` column.

Shape mapping: closed model → ``-c`` Locust users (FastHttpUser, no wait), spread over the workers;
``-n`` → per-worker quotas in proportion to each worker's users; ``-d`` → every worker's own clock;
closed ``--stages`` → a LoadTestShape (Locust re-reads it once a second, so a ramp is a staircase of
one-second steps); open model (``--rate``, or ``--open --stages``) → one arrival user per worker
sending its share of the arrivals on tracehound's schedule, each request in its own greenlet (a true
open model: arrivals never wait for answers, latency counts from the intended time).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tracehound.errors import BadShape, EngineUnavailable
from tracehound.probe.config import ProbeConfig
from tracehound.probe.progress import Progress
from tracehound.probe.records import schema
from tracehound.probe.workers import merge_tables

ENGINES = ("native", "locust")
#: Seconds local workers get to connect to the master (the imports of Locust take about one).
LOCAL_CONNECT_S = 30.0
DEFAULT_WAIT_WORKERS = 120.0
INSTALL_HINT = "pip install 'tracehound[locust]'"

Notice = Callable[[str], None]


def locust_available() -> bool:
    """True when Locust can be found (without importing it: that would monkey-patch this process)."""
    try:
        return importlib.util.find_spec("locust") is not None
    except (ImportError, ValueError):
        return False


def worker_command(master: str) -> str:
    """What to run on each remote machine."""
    return f"tracehound locust-worker --master {master}"


def worker_argv(master: str, parent: int | None = None) -> list[str]:
    argv = [sys.executable, "-m", "tracehound.locustfile", "worker", "--master", master]
    return argv + (["--parent", str(parent)] if parent else [])


def parse_bind(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:5557`` for IPv6) → (host, port); :class:`BadShape` otherwise."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BadShape(f"invalid address {text!r}: expected HOST:PORT such as 0.0.0.0:5557")
    return host.strip("[]"), int(port)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _advertised(host: str) -> str:
    """The address remote workers should dial when the master listens on ``host``."""
    if host not in ("0.0.0.0", "*", "::", ""):
        return f"[{host}]" if ":" in host else host
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # a UDP "connect" picks the outgoing interface; nothing is sent
        address: str = s.getsockname()[0]
        return address
    return socket.gethostname()


def spec_of(config: ProbeConfig, run_id: str) -> dict[str, Any]:
    """What every worker needs to send the run's requests (JSON; the flow as a document)."""
    ep, base_path = config.endpoint()
    s = config.shape
    target = None
    if config.target is not None:
        t = config.target
        target = {"method": t.method, "url": t.url, "headers": [list(h) for h in t.headers],
                  "body": t.body.decode("latin-1") if t.body is not None else None}
    return {
        "run_id": run_id,
        "origin": ep.origin,
        "base_path": base_path,
        "target": target,
        "flow": config.flow.to_dict() if config.flow is not None else None,
        "flow_source": config.flow.source if config.flow is not None else None,
        "shape": {"concurrency": s.concurrency, "requests": s.requests, "duration": s.duration, "rate": s.rate,
                  "stages": [vars(st) for st in s.stages] if s.stages else None, "open_model": s.open_model,
                  "max_requests": s.max_requests, "max_duration": s.max_duration,
                  "max_connections": s.max_connections},
        "open_connections": s.open_connections,
        "timeout": config.timeout,
        "connect_timeout": config.connect_timeout,
        "keepalive": config.keepalive,
        "insecure": config.insecure,
        "ca_file": config.ca_file,
        "headers": list(config.headers),
        "expect": list(config.expect.texts) if config.expect else None,
    }


class _Procs:
    """The master and the local workers: started in their own sessions, always reaped.

    Each child also watches this process (``--parent``) and stops by itself within half a second
    if it dies, even by SIGKILL.
    """

    def __init__(self) -> None:
        self.master: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def all(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in [self.master, *self.workers] if p is not None]

    def kill_all(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        for p in self.all():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
        for p in self.all():
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)  # anything left in its group
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
            for f in (p.stdin, p.stdout):
                if f is not None:
                    with contextlib.suppress(OSError):
                        f.close()


def check(config: ProbeConfig) -> None:
    """Bad input for the locust engine, before anything starts: :class:`BadShape` or :class:`EngineUnavailable`."""
    if not locust_available():
        raise EngineUnavailable("the locust engine needs Locust, which is not installed", hint=INSTALL_HINT)
    local, remote = config.workers, config.remote_workers
    if local < 0 or remote < 0:
        raise BadShape("--workers and --remote-workers must be >= 0")
    if remote and not config.master_bind:
        raise BadShape("remote Locust workers need --master-bind HOST:PORT for them to reach the master")
    if config.master_bind:
        parse_bind(config.master_bind)
    if local + remote < 1:
        raise BadShape("the locust engine needs at least one worker: --workers N (local) or --remote-workers N")
    s = config.shape
    if not s.open_model and not s.stages and local + remote > s.concurrency:
        raise BadShape(f"{local + remote} Locust workers for {s.concurrency} users would leave a worker idle",
                       hint="give -c at least the number of workers")


def run_locust(
    config: ProbeConfig,
    path: Path,
    run_id: str,
    on_progress: Callable[[Progress], None] | None = None,
    on_notice: Notice | None = None,
) -> tuple[pa.Table, dict[str, Any]]:
    """Run ``config`` on Locust (master + workers) and merge the workers' shards into one table."""
    check(config)
    notice = on_notice or (lambda line: print(line, file=sys.stderr, flush=True))
    local, remote = config.workers, config.remote_workers
    expect = local + remote
    s = config.shape
    if config.master_bind:
        host, port = parse_bind(config.master_bind)
    else:
        host, port = "127.0.0.1", _free_port()
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    local_master = f"127.0.0.1:{port}" if host in ("0.0.0.0", "*", "") else (f"[::1]:{port}" if host == "::" else bind)
    parts = path / "parts"
    parts.mkdir(exist_ok=True)
    log_path = parts / "locust.log"
    wait_s = (config.wait_workers or DEFAULT_WAIT_WORKERS) if remote else LOCAL_CONNECT_S
    procs = _Procs()
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    interrupted = False
    done: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    started_workers: dict[int, dict[str, Any]] = {}
    lost: dict[int, str] = {}
    dead_local: dict[int, int] = {}  # pid → return code of a local worker that died under the run

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal interrupted
        interrupted = True
        if procs.master is not None and procs.master.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(procs.master.pid, signal.SIGTERM)

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    log = open(log_path, "ab")  # noqa: SIM115 - closed in finally
    t0 = time.monotonic()
    try:
        procs.master = subprocess.Popen(
            [sys.executable, "-m", "tracehound.locustfile", "master", "--bind", bind, "--expect", str(expect),
             "--parts", str(parts), "--wait", f"{wait_s:g}", "--parent", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
        )
        assert procs.master.stdin is not None and procs.master.stdout is not None
        procs.master.stdin.write((json.dumps(spec_of(config, run_id)) + "\n").encode())
        procs.master.stdin.close()
        reader = threading.Thread(target=_read_events, args=(procs.master.stdout, events), daemon=True)
        reader.start()
        hard = t0 + wait_s + s.stop_after + config.timeout + config.connect_timeout + 30.0
        while True:
            try:
                ev = events.get(timeout=0.2)
            except queue.Empty:
                ev = None
            if ev is not None:
                kind = ev.pop("event")
                if kind == "listening":
                    for _ in range(local):
                        procs.workers.append(subprocess.Popen(
                            worker_argv(local_master, os.getpid()), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True))
                    if remote:
                        notice(f"waiting up to {wait_s:g}s for {remote} remote Locust worker(s); on each machine run:")
                        notice(f"  {worker_command(f'{_advertised(host)}:{port}')}")
                elif kind == "worker":
                    started_workers[int(ev["index"])] = ev
                elif kind == "progress" and on_progress is not None:
                    on_progress(Progress(**ev))
                elif kind == "lost":
                    lost[int(ev["index"])] = ev.get("reason") or "lost"
                elif kind == "done":
                    done = ev
                elif kind == "error":
                    error = ev
                elif kind == "eof":
                    break
            for p in procs.workers:
                rc = p.poll()
                if rc is not None and rc != 0 and p.pid not in dead_local and done is None:
                    dead_local[p.pid] = rc
            if time.monotonic() > hard:
                error = error or {"line": "the Locust master did not finish before the hard deadline"}
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            procs.master.wait(timeout=10)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        procs.kill_all(grace=5.0)
        log.close()
    tail = _tail(log_path)
    shards = sorted(parts.glob("worker-*.parquet"))
    if done is None and not shards:
        _cleanup(parts)
        if error is not None:
            if error.get("kind") == "interrupted":
                raise KeyboardInterrupt
            raise EngineUnavailable(error["line"], hint=INSTALL_HINT if error.get("kind") == "missing" else None)
        raise EngineUnavailable("the Locust master stopped without a result" + (f": {tail}" if tail else ""))
    table = _merge(shards, expect, config.headers)
    _cleanup(parts)
    workers_meta: list[dict[str, Any]] = []
    if done is not None:
        for w in done.get("workers", []):
            if w.get("lost"):
                lost.setdefault(int(w["index"]), w["lost"])
    by_pid = {int(w.get("pid") or -1): i for i, w in started_workers.items()}
    for pid, rc in dead_local.items():
        i = by_pid.get(pid)
        if i is not None and (i in lost or done is None or not _reported(done, i)):
            lost[i] = (f"its process {pid} " + (f"was killed by {signal.Signals(-rc).name}" if rc < 0
                                                 else f"exited with status {rc}"))
    rows = _rows_per_worker(table)
    for i, w in sorted(started_workers.items()):
        workers_meta.append({"index": i, "host": w.get("host"), "pid": w.get("pid"),
                             "requests": rows.get(i, 0), "lost": lost.get(i)})
    counts: dict[str, Any] = {
        "issued": sum((_worker_counts(done, i) or {}).get("issued", 0) for i in started_workers)
        + sum(((_worker_stats(done, i) or {}).get("issued", 0)) for i in lost),
        "dropped": sum((_worker_counts(done, i) or {}).get("dropped", 0) for i in started_workers),
        "connections": sum((_worker_counts(done, i) or {}).get("connections", 0) for i in started_workers),
        "retried_on_new_connection": 0,
        "interrupted": interrupted or bool(done and done.get("interrupted")),
        "stop_reason": "interrupted" if interrupted else (done or {}).get("stop_reason", "bounds"),
        "elapsed_s": (done or {}).get("elapsed_s") or time.monotonic() - t0,
        "body_samples_capped": False,
        "engine": {"name": "locust", "version": _locust_version(), "workers": expect, "local_workers": local,
                   "remote_workers": remote, "master": bind, "per_worker": workers_meta},
    }
    if lost:
        reasons = "; ".join(f"worker {i} ({(started_workers.get(i) or {}).get('host', '?')}, pid "
                            f"{(started_workers.get(i) or {}).get('pid', '?')}) died mid-run: {why}; "
                            f"{rows.get(i, 0)} of its requests were flushed and kept"
                            for i, why in sorted(lost.items()))
        counts["partial"] = True
        counts["partial_reason"] = reasons
    elif error is not None and done is None:
        counts["partial"] = True
        counts["partial_reason"] = error["line"]
    return table, counts


def _read_events(stream: Any, out: queue.Queue[dict[str, Any]]) -> None:
    for raw in stream:
        try:
            ev = json.loads(raw)
        except ValueError:
            continue
        if isinstance(ev, dict) and "event" in ev:
            out.put(ev)
    out.put({"event": "eof"})


def _reported(done: dict[str, Any], index: int) -> bool:
    return _worker_counts(done, index) is not None


def _worker_counts(done: dict[str, Any] | None, index: int) -> dict[str, Any] | None:
    for w in (done or {}).get("workers", []):
        if int(w["index"]) == index:
            counts: dict[str, Any] | None = w.get("counts")
            return counts
    return None


def _worker_stats(done: dict[str, Any] | None, index: int) -> dict[str, Any] | None:
    for w in (done or {}).get("workers", []):
        if int(w["index"]) == index:
            stats: dict[str, Any] | None = w.get("stats")
            return stats
    return None


def _merge(shards: list[Path], n: int, headers: tuple[str, ...]) -> pa.Table:
    target = schema(headers)
    tables = []
    for f in shards:
        try:
            tables.append(pq.read_table(f).cast(target))
        except (OSError, pa.ArrowInvalid):
            continue  # a shard cut off by a crash of the master: its rows are lost, the others kept
    if not tables:
        return target.empty_table()
    return merge_tables(tables, max(n, 1)).cast(target)


def _rows_per_worker(table: pa.Table) -> dict[int, int]:
    if table.num_rows == 0:
        return {}
    w = table.column("worker").to_numpy(zero_copy_only=False)
    vals, counts = np.unique(w, return_counts=True)
    return {int(v): int(c) for v, c in zip(vals, counts, strict=True)}


def _cleanup(parts: Path) -> None:
    for f in parts.glob("*"):
        with contextlib.suppress(OSError):
            f.unlink()
    with contextlib.suppress(OSError):
        parts.rmdir()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " / ".join(text[-lines:])[-400:]


def _locust_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("locust")
    except metadata.PackageNotFoundError:
        return None
