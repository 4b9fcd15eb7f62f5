"""One run over several processes: each worker carries a share and writes a part; parts merge."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracehound.errors import TargetUnreachable, TracehoundError
from tracehound.probe.config import ProbeConfig, split_config
from tracehound.probe.local import new_loop, run_engine
from tracehound.probe.progress import Progress, combine
from tracehound.probe.records import RecordBuffer, schema


def _watch_parent(parent: int) -> None:
    """Stop this worker (as Ctrl-C would) if the main process dies without telling it."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGINT)
            return


def _worker(config: ProbeConfig, index: int, path: str, run_id: str, q: Any, parent: int) -> None:
    if config.target is not None:
        config.target.remember_secrets()  # a new process: what the user gave must be masked here too
    buf = RecordBuffer(run_id, config.headers, worker=index, data=config.data)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()

    def progress(p: Progress) -> None:
        q.put(("progress", index, p))

    loop = new_loop()
    try:
        counts = loop.run_until_complete(run_engine(config, buf, progress))
    except TracehoundError as e:
        q.put(("error", index, e.line()))
        return
    except KeyboardInterrupt:
        counts = {"interrupted": True, "issued": len(buf)}
    finally:
        loop.close()
    counts["body_samples_capped"] = buf.samples_capped
    part = Path(path) / "parts" / f"worker-{index}.parquet"
    with pq.ParquetWriter(part, buf.schema(), compression="zstd") as w:
        for batch in buf.batches():
            w.write_batch(batch)
    q.put(("done", index, counts))


def run_workers(
    config: ProbeConfig,
    path: Path,
    run_id: str,
    on_progress: Callable[[Progress], None] | None,
) -> tuple[pa.Table, dict[str, Any]]:
    """Run ``config.workers`` processes and merge their records into one table."""
    n = config.workers
    (path / "parts").mkdir(exist_ok=True)
    ctx = mp.get_context("spawn")
    q: mp.Queue[tuple[str, int, Any]] = ctx.Queue()
    splits = [split_config(config, i, n) for i in range(n)]
    shares = [(i, s) for i, s in enumerate(splits) if s.shape.requests is None or s.shape.requests > 0]
    procs = [ctx.Process(target=_worker, args=(s, i, str(path), run_id, q, os.getpid()), daemon=True)
             for i, s in shares]
    interrupted = False

    def on_signal(signum: int, frame: Any) -> None:
        # Ctrl-C at a terminal reaches the workers too, but a kill of this pid alone (a supervisor,
        # a CI timeout) does not: pass it on as SIGINT so each worker stops and writes its part.
        nonlocal interrupted
        interrupted = True
        for p in procs:
            if p.pid is not None and p.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGINT)

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    latest: dict[int, Progress] = {}
    done: dict[int, dict[str, Any]] = {}
    errors: list[str] = []
    t0 = time.perf_counter()
    try:
        for p in procs:
            p.start()
        while len(done) + len(errors) < len(procs):
            try:
                kind, idx, payload = q.get(timeout=0.5)
            except queue.Empty:
                if all(not p.is_alive() for p in procs):
                    try:
                        kind, idx, payload = q.get(timeout=2.0)
                    except queue.Empty:
                        break
                else:
                    continue
            if kind == "progress":
                latest[idx] = payload
                if on_progress is not None:
                    on_progress(combine(list(latest.values()), time.perf_counter() - t0))
            elif kind == "done":
                done[idx] = payload
            else:
                errors.append(payload)
        for p in procs:
            p.join(timeout=10)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for p in procs:
            if p.is_alive():
                p.terminate()
    if errors and not done:
        raise _error_class(errors[0])
    tables = [pq.read_table(path / "parts" / f"worker-{i}.parquet") for i in sorted(done)]
    for f in (path / "parts").glob("*.parquet"):
        f.unlink()
    (path / "parts").rmdir()
    table = merge_tables(tables, n)
    counts: dict[str, Any] = {
        "issued": sum(c.get("issued", 0) for c in done.values()),
        "dropped": sum(c.get("dropped", 0) for c in done.values()),
        "retried_on_new_connection": sum(c.get("retried_on_new_connection", 0)
                                         for c in done.values()),
        "connections": sum(c.get("connections", 0) or 0 for c in done.values()),
        "interrupted": interrupted or any(c.get("interrupted") for c in done.values()) or len(done) < len(procs),
        "body_samples_capped": any(c.get("body_samples_capped") for c in done.values()),
        "elapsed_s": max((c.get("elapsed_s", 0) for c in done.values()), default=0.0),
    }
    reasons = {c.get("stop_reason") for c in done.values()}
    counts["stop_reason"] = ("interrupted" if counts["interrupted"]
                             else reasons.pop() if len(reasons) == 1 else "bounds")
    return table, counts


def _error_class(line: str) -> TracehoundError:
    return TargetUnreachable(line) if "resolve" in line or "unreachable" in line else TracehoundError(line)


def merge_tables(tables: list[pa.Table], n: int) -> pa.Table:
    """Concatenate worker parts; make seq, vu and conn_id unique across workers."""
    if not tables:
        return schema().empty_table()
    t = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    worker = t.column("worker").to_numpy().astype(np.int64)
    order = np.lexsort((t.column("seq").to_numpy(), worker, t.column("intended_start_ns").to_numpy()))
    t = t.take(pa.array(order))
    worker = worker[order]
    seq = np.arange(len(order), dtype=np.int64)
    vu = t.column("vu").to_numpy().astype(np.int64)
    conn = t.column("conn_id")
    conn_np = pc.fill_null(conn, -1).to_numpy().astype(np.int64)
    new_conn = np.where(conn_np >= 0, conn_np * n + worker, -1).astype(np.int32)
    t = t.set_column(t.schema.get_field_index("seq"), "seq", pa.array(seq))
    new_vu = np.where(vu >= 0, vu * n + worker, vu).astype(np.int32)
    t = t.set_column(t.schema.get_field_index("vu"), "vu", pa.array(new_vu))
    t = t.set_column(t.schema.get_field_index("conn_id"), "conn_id", pa.array(new_conn, mask=new_conn < 0))
    return t

