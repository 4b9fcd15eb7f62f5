"""Running a probe: configuration, the event loop, progress, interruption, and the run folder."""

from __future__ import annotations

import asyncio
import math
import signal
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tracehound.errors import BadFlow, TargetUnreachable, TracehoundError
from tracehound.flow import Flow
from tracehound.probe import engine as eng
from tracehound.probe.records import DEFAULT_HEADERS, ERROR_KINDS, I_KIND, I_STATUS, NI, RecordBuffer
from tracehound.probe.run import (
    Run,
    base_meta,
    iso,
    prepare_run_dir,
    utc_now,
    write_batches,
    write_meta,
    write_table,
)
from tracehound.probe.shapes import LoadShape, Stage
from tracehound.probe.target import Endpoint, Target, split_url
from tracehound.redact import redact_headers, redact_url


@dataclass
class ProbeConfig:
    """Everything a probe needs. Give ``target``, or ``flow`` with ``base_url``."""

    shape: LoadShape
    target: Target | None = None
    flow: Flow | None = None
    base_url: str | None = None
    timeout: float = 10.0
    connect_timeout: float = 3.0
    keepalive: bool = True
    insecure: bool = False
    ca_file: str | None = None
    record_headers: tuple[str, ...] = ()
    workers: int = 1
    #: ``native`` (asyncio, this machine) or ``locust`` (Locust's master and workers, see :mod:`.distributed`).
    engine: str = "native"
    #: Locust: workers on other machines to wait for, the master's listening address, and how long to wait.
    remote_workers: int = 0
    master_bind: str | None = None
    wait_workers: float | None = None
    out: Path | None = None
    label: str | None = None
    #: Extra keys written into ``run.json`` (an experiment's kind and purpose, for instance).
    annotations: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*DEFAULT_HEADERS, *(h.lower() for h in self.record_headers)]))

    def endpoint(self) -> tuple[Endpoint, str]:
        if self.target is not None:
            return self.target.endpoint, self.target.path
        base = self.base_url or (self.flow.base_url if self.flow else None)
        if not base:
            raise BadFlow("a flow needs a base URL: pass the URL or set base_url: in the flow")
        ep, path = split_url(base)
        return ep, path.split("?", 1)[0]

    def slug(self) -> str:
        if self.label:
            return self.label
        ep, path = self.endpoint()
        if self.target is not None:
            return f"{self.target.method}-{ep.host}-{ep.port}{path.split('?', 1)[0]}"
        return f"flow-{ep.host}-{ep.port}"


@dataclass
class Progress:
    """A live snapshot, every half second or so."""

    elapsed_s: float
    planned_s: float | None
    issued: int
    completed: int
    inflight: int
    rps: float
    failed: int
    failures: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None
    window_ms: list[float] | None = field(default=None, repr=False)


class _ProgressTracker:
    """Cumulative failure counts and windowed latency, read from the buffer's new tail."""

    def __init__(self, buf: RecordBuffer) -> None:
        self.buf = buf
        self.pos = 0
        self.failures: dict[str, int] = {}
        self.failed = 0
        self.last_t = time.perf_counter()

    def snapshot(self, engine: eng.Engine | None, planned: float | None, t0: float) -> Progress:
        b = self.buf
        n = len(b)
        lo = self.pos
        self.pos = n
        now = time.perf_counter()
        dt = max(now - self.last_t, 1e-6)
        self.last_t = now
        p50 = p99 = None
        window: list[float] | None = None
        if n > lo:
            rows = b.rows(lo, n)
            ts = b.timestamps(lo, n)
            status = rows[:, I_STATUS]
            kinds = rows[:, I_KIND]
            total = (ts[:, 2] - ts[:, 0]) / 1e6
            for k, c in zip(*np.unique(kinds[kinds >= 0], return_counts=True)):
                name = ERROR_KINDS[int(k)]
                if name != "cancelled":
                    self.failures[name] = self.failures.get(name, 0) + int(c)
                    self.failed += int(c)
            http = status[(kinds < 0) & (status >= 400)]
            for s_, c in zip(*np.unique(http, return_counts=True)):
                key = f"http_{int(s_)}"
                self.failures[key] = self.failures.get(key, 0) + int(c)
                self.failed += int(c)
            p50, p99 = (float(x) for x in np.percentile(total, [50, 99]))
            window = total[:: max(1, total.size // 2000)].tolist()
        return Progress(
            elapsed_s=time.perf_counter() - t0,
            planned_s=planned,
            issued=engine.issued if engine else n,
            completed=n,
            inflight=engine.inflight if engine else 0,
            rps=(n - lo) / dt,
            failed=self.failed,
            failures=dict(self.failures),
            p50_ms=p50,
            p99_ms=p99,
            window_ms=window,
        )


async def _preflight(ep: Endpoint) -> None:
    loop = asyncio.get_running_loop()
    try:
        await loop.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: {e.strerror}", hint="check the URL") from None
    except UnicodeError:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: not a valid host name") from None


async def run_engine(
    config: ProbeConfig,
    buf: RecordBuffer,
    on_progress: Callable[[Progress], None] | None = None,
    progress_every: float = 0.5,
    install_signals: bool = True,
) -> dict[str, Any]:
    """Run the load in the current event loop, filling ``buf``; returns counts and flags."""
    shape = config.shape
    ep, base_path = config.endpoint()
    await _preflight(ep)
    e = eng.Engine(
        buf,
        shape,
        timeout=config.timeout,
        connect_timeout=config.connect_timeout,
        keepalive=config.keepalive,
        insecure=config.insecure,
        ca_file=config.ca_file,
    )
    loop = e.loop
    tasks: list[asyncio.Task] = [loop.create_task(e.sweeper())]
    tracker = _ProgressTracker(buf)
    t_start = time.perf_counter()
    stop_reason = "bounds"
    previous: dict[int, Any] = {}
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, e.stop, True)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
    flow_pool: eng.FlowPool | None = None
    max_conns = shape.open_connections
    try:
        if config.flow is None:
            assert config.target is not None
            spec = eng.Spec(buf, config.target.request_bytes(config.keepalive), ep, config.target.method, config.target.path)
            if shape.open_model:
                tasks.append(loop.create_task(eng.OpenDispatcher(e, spec, max_conns).run()))
            elif shape.stages:
                ctl = eng.ClosedController(e, lambda i: eng.ClosedVU(e, i, spec))
                tasks.append(loop.create_task(ctl.run()))
            else:
                for i in range(shape.concurrency):
                    eng.ClosedVU(e, i, spec).start()
        else:
            flow = config.flow
            if shape.open_model:
                flow_pool = eng.FlowPool(e, flow, ep, base_path, max_conns)
                tasks.append(loop.create_task(eng.OpenDispatcher(e, None, max_conns, flow_pool).run()))
            elif shape.stages:
                ctl = eng.ClosedController(e, lambda i: eng.FlowVU(e, i, flow, ep, base_path))
                tasks.append(loop.create_task(ctl.run()))
            else:
                for i in range(shape.concurrency):
                    eng.FlowVU(e, i, flow, ep, base_path).start()

        # Hard wall: the send window, then the slowest in-flight request's timeout, then a grace.
        hard_deadline = t_start + shape.stop_after + config.timeout + config.connect_timeout + 2.0
        while not e.done.done():
            try:
                await asyncio.wait_for(asyncio.shield(e.done), timeout=progress_every)
            except TimeoutError:
                pass
            if on_progress is not None:
                on_progress(tracker.snapshot(e, shape.planned_duration, t_start))
            if time.perf_counter() > hard_deadline and not e.done.done():
                stop_reason = "hard_deadline"
                e.stop(interrupted=True)
                e.interrupted = False
                break
    except asyncio.CancelledError:
        e.stop(interrupted=True)
        raise
    finally:
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.remove_signal_handler(sig)
                    if previous.get(sig) is not None:
                        signal.signal(sig, previous[sig])  # give the caller's handler back
                except (NotImplementedError, RuntimeError, ValueError, TypeError):
                    pass
        if flow_pool is not None:
            flow_pool.close()
        now = eng.perf_ns()
        for c in e.busy_conns():
            c.cancel(now)
        e.stopping = True
        current = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not current]
        for t in others:
            t.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        e.close_all()
        await asyncio.sleep(0)
    if on_progress is not None:
        on_progress(tracker.snapshot(e, shape.planned_duration, t_start))
    if e.interrupted:
        stop_reason = "interrupted"
    elif stop_reason != "hard_deadline":
        stop_reason = "requests" if e.issued >= e.limit else "duration"
    return {
        "issued": e.issued,
        "completed": len(buf),
        "dropped": e.dropped,
        "retried_on_new_connection": e.retried,
        "interrupted": e.interrupted,
        "stop_reason": stop_reason,
        "connections": next(e.conn_ids),
        "elapsed_s": time.perf_counter() - t_start,
    }


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a dependency; kept for odd platforms
        return asyncio.new_event_loop()


def raise_nofile_limit(wanted: int) -> None:
    """Raise the open-files soft limit toward ``wanted`` (connections are file descriptors)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = min(max(soft, wanted), hard)
        if target > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ImportError, ValueError, OSError):
        pass


def describe_target(config: ProbeConfig) -> dict[str, Any]:
    if config.target is not None:
        t = config.target
        return {
            "url": redact_url(t.url),
            "method": t.method,
            "headers": redact_headers(t.headers),
            "body_bytes": len(t.body) if t.body is not None else 0,
        }
    ep, base_path = config.endpoint()
    flow = config.flow
    assert flow is not None
    return {
        "url": redact_url(ep.origin + base_path),
        "flow": {
            "source": flow.source,
            "setup": [s.name for s in flow.setup],
            "steps": [s.name for s in flow.steps],
            "target_step": flow.last_step.name,
        },
    }


def probe(
    config: ProbeConfig,
    on_progress: Callable[[Progress], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Run:
    """Run a probe to its bounds (or Ctrl-C) and write its run folder; returns the :class:`Run`.

    Raises :class:`~tracehound.errors.TracehoundError` subclasses for bad input. A target that
    never accepted a connection still gets its run folder written before
    :class:`TargetUnreachable` is raised. ``on_notice`` receives lines meant for the person
    running the probe (the command remote Locust workers need; default: stderr).
    """
    from tracehound.errors import BadShape

    config.shape.validate()
    locust = config.engine == "locust"
    if config.engine not in ("native", "locust"):
        raise BadShape(f"unknown engine {config.engine!r}: choose native or locust")
    if not locust and (config.remote_workers or config.master_bind):
        raise BadShape("--master-bind and --remote-workers need --engine locust")
    if config.workers < (0 if locust and config.remote_workers else 1):
        raise BadShape("--workers must be >= 1")
    if not config.shape.open_model and not config.shape.stages and config.workers > config.shape.concurrency:
        # Every worker runs at least one VU: more workers than VUs would run more VUs than asked.
        config = replace(config, workers=max(0, config.shape.concurrency - config.remote_workers) if locust
                         else config.shape.concurrency)
    if locust:
        from tracehound.probe.distributed import check

        check(config)
    ep, _ = config.endpoint()
    try:
        socket.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: {e.strerror}", hint="check the URL") from None
    except UnicodeError:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: not a valid host name") from None
    started = utc_now()
    path = prepare_run_dir(config.out, config.slug(), started)
    run_id = path.name if config.out is None else f"{started:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:8]}"
    meta = base_meta("probe", run_id, started)
    meta["target"] = describe_target(config)
    meta["shape"] = config.shape.describe()
    meta["options"] = {
        "timeout_s": config.timeout,
        "connect_timeout_s": config.connect_timeout,
        "keepalive": config.keepalive,
        "workers": config.workers,
        "engine": config.engine,
        "record_headers": list(config.headers),
        "tls_verify": not config.insecure,
    }
    meta.update(config.annotations)
    write_meta(path, meta)
    raise_nofile_limit(config.shape.peak_concurrency * 2 + 256)

    meta["engine"] = config.engine
    if locust or config.workers > 1:
        if locust:
            from tracehound.probe.distributed import run_locust

            try:
                table, counts = run_locust(config, path, run_id, on_progress, on_notice)
            except (TracehoundError, KeyboardInterrupt):
                meta.update(status="failed", complete=False, ended_at=iso(utc_now()))
                write_meta(path, meta)
                raise
            meta["locust"] = counts.pop("engine")
        else:
            from tracehound.probe.workers import run_workers

            table, counts = run_workers(config, path, run_id, on_progress)
        write_table(path, table)
        rows = table.num_rows
        status = table.column("status").to_numpy(zero_copy_only=False)
        kinds = table.column("error_kind").cast(pa.string()).drop_null().to_pylist()
        reach = _reachability(status, {k for k in kinds})
        del table
    else:
        buf = RecordBuffer(run_id, config.headers)
        loop = _new_loop()
        try:
            counts = loop.run_until_complete(run_engine(config, buf, on_progress))
        except TargetUnreachable:
            meta.update(status="failed", complete=False, ended_at=iso(utc_now()))
            write_meta(path, meta)
            raise
        except KeyboardInterrupt:
            counts = {"interrupted": True, "stop_reason": "interrupted", "issued": len(buf), "completed": len(buf)}
        finally:
            loop.close()
        counts["body_samples_capped"] = buf.samples_capped
        rows = len(buf)
        if rows:
            m = np.frombuffer(buf.ints, dtype=np.int32).reshape(-1, NI)  # a view: no copy of the rows
            status_col = m[:, I_STATUS]
            reach = (
                _reachability(status_col, {ERROR_KINDS[k] for k in np.unique(m[:, I_KIND]) if k >= 0})
                if not status_col.any() else None
            )
            del m, status_col
        else:
            reach = None
        write_batches(path, buf.schema(), buf.batches())
        del buf  # give the record memory back before anyone reads the run
    ended = utc_now()
    interrupted = bool(counts.get("interrupted"))
    partial = bool(counts.get("partial"))
    if partial:
        meta.update(partial=True, partial_reason=counts.get("partial_reason"))
    meta.update(
        status="interrupted" if interrupted else ("partial" if partial else "complete"),
        complete=not interrupted and not partial,
        interrupted=interrupted,
        ended_at=iso(ended),
        duration_s=round(counts.get("elapsed_s") or (ended - started).total_seconds(), 6),
        stop_reason=counts.get("stop_reason"),
        counts={
            "requests": rows,
            "issued": counts.get("issued"),
            "dropped": counts.get("dropped", 0),
            "connections": counts.get("connections"),
            "retried_on_new_connection": counts.get("retried_on_new_connection", 0),
        },
        body_samples_capped=bool(counts.get("body_samples_capped")),
    )
    write_meta(path, meta)
    run = Run(path, meta)
    if reach is not None and not interrupted:
        raise TargetUnreachable(
            f"{ep.host}:{ep.port} is unreachable: {reach} ({rows} attempts recorded in {run.path})",
            hint="is the service running on that port?",
        )
    return run


def _reachability(status: np.ndarray, kinds: set[str]) -> str | None:
    """Why the target is unreachable, when not one request got a response; None otherwise."""
    if status.size == 0:
        return None
    if (status == 0).all() and kinds and kinds <= {"connect_refused", "connect_timeout", "dns", "tls", "other"}:
        what = {
            "connect_refused": "every connection was refused",
            "connect_timeout": "every connection attempt timed out",
            "dns": "the host did not resolve",
            "tls": "every TLS handshake failed",
            "other": "no connection could be made",
        }
        return what[sorted(kinds)[0]]
    return None


def split_config(config: ProbeConfig, index: int, n: int) -> ProbeConfig:
    """The share of a run that worker ``index`` of ``n`` carries."""

    def share(total: int) -> int:
        return total // n + (1 if index < total % n else 0)

    s = config.shape
    stages, vu_share = s.stages, None
    if s.stages and s.open_model:
        stages = [Stage(st.duration, st.target / n, st.ramp) for st in s.stages]  # rates divide exactly
    elif s.stages:
        # VUs do not: each worker takes whole VUs of the run's level at every instant. Dividing the
        # targets by n and rounding up in each worker ran up to n - 1 VUs too many.
        vu_share = (index, n)
    shape = replace(
        s,
        concurrency=max(1, share(s.concurrency)) if not s.open_model else max(1, math.ceil(s.concurrency / n)),
        requests=share(s.requests) if s.requests is not None else None,
        rate=s.rate / n if s.rate is not None else None,
        stages=stages,
        vu_share=vu_share,
        max_requests=max(1, share(s.max_requests)),
        max_connections=math.ceil(s.max_connections / n) if s.max_connections else None,
    )
    return replace(config, shape=shape, workers=1)
