"""Running a probe: checks, the run folder, and the run itself, here or spread over workers."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tracehound.errors import BadData, BadShape, TargetUnreachable, TracehoundError
from tracehound.probe.config import ProbeConfig
from tracehound.probe.distributed import check, run_locust
from tracehound.probe.interrupts import Interrupts
from tracehound.probe.local import new_loop, run_engine
from tracehound.probe.meta import (
    CountsMeta,
    DataPoolMeta,
    FlowMeta,
    LocustMeta,
    OptionsMeta,
    RunMeta,
    ShapeMeta,
    TargetMeta,
    write_meta,
)
from tracehound.probe.progress import Progress
from tracehound.probe.records import ERROR_KINDS, I_KIND, I_STATUS, NI, RecordBuffer, redact_columns
from tracehound.probe.records import schema as records_schema
from tracehound.probe.run import Run, build_meta, iso, prepare_run_dir, utc_now, write_batches, write_table
from tracehound.probe.workers import run_workers
from tracehound.redact import redact_headers, redact_url

#: The most local worker processes one probe starts (each is a Python process of its own).
MAX_WORKERS = 256


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


def describe_target(config: ProbeConfig) -> TargetMeta:
    if config.target is not None:
        t = config.target
        return TargetMeta(url=redact_url(t.url), method=t.method, headers=redact_headers(t.headers),
                          body_bytes=len(t.body) if t.body is not None else 0)
    ep, base_path = config.endpoint()
    flow = config.flow
    assert flow is not None
    meta = TargetMeta(url=redact_url(ep.origin + base_path),
                      flow=FlowMeta(source=flow.source, setup=[s.name for s in flow.setup],
                                    steps=[s.name for s in flow.steps], target_step=flow.last_step.name))
    if flow.data:
        # What each data_<name> column of the records draws from (the values themselves are in the records).
        meta.data = [DataPoolMeta.model_validate(p.describe()) for p in flow.data]
    return meta


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
    # From the first instruction a signal stops the probe (SIGTERM as Ctrl-C does); from the run
    # folder's first byte to its last it is noted, not raised: the run is written whole and marked
    # interrupted (probe.interrupts).
    with Interrupts() as held:
        config, locust = _checked(config)
        held.hold()
        return _record(config, locust, held, on_progress, on_notice)


def _checked(config: ProbeConfig) -> tuple[ProbeConfig, bool]:
    """The config as it will run (workers no more than users), and whether Locust runs it; errors for bad input."""
    config.shape.validate()
    locust = config.engine == "locust"
    if config.engine not in ("native", "locust"):
        raise BadShape(f"unknown engine {config.engine!r}: choose native or locust")
    if not locust and (config.remote_workers or config.master_bind):
        raise BadShape("--master-bind and --remote-workers need --engine locust")
    if config.workers < (0 if locust and config.remote_workers else 1):
        raise BadShape("--workers must be >= 1")
    if config.workers > MAX_WORKERS:
        raise BadShape(f"--workers {config.workers:,} is beyond the most local worker processes a probe starts "
                       f"({MAX_WORKERS})")
    if not config.shape.open_model and not config.shape.stages and config.workers > config.shape.concurrency:
        # Every worker runs at least one VU: more workers than VUs would run more VUs than asked.
        config = replace(config, workers=max(0, config.shape.concurrency - config.remote_workers) if locust
                         else config.shape.concurrency)
    if locust and config.data:
        raise BadData("load that varies its data runs on the native engine", hint="drop --engine locust")
    if locust:
        check(config)
    ep, _ = config.endpoint()
    try:
        socket.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: {e.strerror}", hint="check the URL") from None
    except UnicodeError:
        raise TargetUnreachable(f"cannot resolve host {ep.host!r}: not a valid host name") from None
    return config, locust


def _record(config: ProbeConfig, locust: bool, held: Interrupts, on_progress: Callable[[Progress], None] | None,
            on_notice: Callable[[str], None] | None) -> Run:
    """Write the run folder, run the engine (unless a signal came first), write the records and the outcome."""
    ep, _ = config.endpoint()
    started = utc_now()
    path = prepare_run_dir(config.out, config.slug(), started)
    run_id = path.name if config.out is None else f"{started:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:8]}"
    options = OptionsMeta(timeout_s=config.timeout, connect_timeout_s=config.connect_timeout,
                          keepalive=config.keepalive, workers=config.workers, engine=config.engine,
                          record_headers=list(config.headers), tls_verify=not config.insecure)
    fields: dict[str, Any] = {"target": describe_target(config),
                              "shape": ShapeMeta.model_validate(config.shape.describe()), "options": options}
    if config.expect:
        fields["expect"] = list(config.expect.texts)
    meta = build_meta("probe", run_id, started, {**fields, **config.annotations})
    write_meta(path, meta)
    raise_nofile_limit(config.shape.peak_concurrency * 2 + 256)

    meta.engine = config.engine
    if held.received:
        counts: dict[str, Any] = {"interrupted": True, "stop_reason": "interrupted", "issued": 0}
        write_table(path, records_schema(config.headers).empty_table())
        rows, reach = 0, None
    elif locust or config.workers > 1:
        if locust:
            try:
                table, counts = run_locust(config, path, run_id, on_progress, on_notice)
                meta.locust = LocustMeta.model_validate(counts.pop("engine"))
            except KeyboardInterrupt:  # stopped before a worker sent anything: an empty run, marked so
                table = records_schema(config.headers).empty_table()
                counts = {"interrupted": True, "stop_reason": "interrupted", "issued": 0}
            except TracehoundError:
                _failed(path, meta)
                raise
        else:
            table, counts = run_workers(config, path, run_id, on_progress)
        table = redact_columns(table)  # the workers' records, with the secrets given to this process masked too
        write_table(path, table)
        rows = table.num_rows
        status = table.column("status").to_numpy(zero_copy_only=False)
        kinds = table.column("error_kind").cast(pa.string()).drop_null().to_pylist()
        reach = reachability(status, set(kinds))
        del table
    else:
        buf = RecordBuffer(run_id, config.headers, data=config.data)
        loop = new_loop()
        try:
            counts = loop.run_until_complete(run_engine(config, buf, on_progress, held=held))
        except TargetUnreachable:
            _failed(path, meta)
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
                reachability(status_col, {ERROR_KINDS[k] for k in np.unique(m[:, I_KIND]) if k >= 0})
                if not status_col.any() else None
            )
            del m, status_col
        else:
            reach = None
        write_batches(path, buf.schema(), buf.batches())
        del buf  # give the record memory back before anyone reads the run
    ended = utc_now()
    # A signal the engine did not see (it came between two handlers, or while the records were written).
    interrupted = bool(counts.get("interrupted")) or held.received
    partial = bool(counts.get("partial"))
    if partial:
        meta.partial = True
        meta.partial_reason = counts.get("partial_reason")
    meta.status = "interrupted" if interrupted else ("partial" if partial else "complete")
    meta.complete = not interrupted and not partial
    meta.interrupted = interrupted
    meta.ended_at = iso(ended)
    meta.duration_s = round(counts.get("elapsed_s") or (ended - started).total_seconds(), 6)
    meta.stop_reason = "interrupted" if interrupted else counts.get("stop_reason")
    meta.counts = CountsMeta(requests=rows, issued=counts.get("issued"), dropped=counts.get("dropped", 0),
                             connections=counts.get("connections"),
                             retried_on_new_connection=counts.get("retried_on_new_connection", 0))
    meta.body_samples_capped = bool(counts.get("body_samples_capped"))
    write_meta(path, meta)
    run = Run(path, meta)
    if reach is not None and not interrupted:
        raise TargetUnreachable(
            f"{ep.host}:{ep.port} is unreachable: {reach} ({rows} attempts recorded in {run.path})",
            hint="is the service running on that port?",
        )
    return run


def _failed(path: Path, meta: RunMeta) -> None:
    """Mark the run failed (the target was unreachable, or the engine could not run)."""
    meta.status = "failed"
    meta.complete = False
    meta.ended_at = iso(utc_now())
    write_meta(path, meta)


def reachability(status: np.ndarray, kinds: set[str]) -> str | None:
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
