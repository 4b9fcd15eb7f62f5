"""A browse session as a run folder: every request the page made, one row each, ``source=browser``.

Columns filled (the rest stay null, as for an import): ``seq`` (order over the session), ``vu``
(the load, 0-based), ``step`` (the resource type: document, fetch, xhr, script …), ``method``,
``host``, ``path``, ``start_ns``, ``connect_ms``, ``ttfb_ms``, ``total_ms``, ``status`` (0 when no
response came), ``error_kind``/``error`` (Chromium's ``net::ERR_…``, or a request still pending
when the load ended), ``bytes_in``, ``body_hash``/``body_sample`` (API calls only) and the
recorded response headers. ``browse.json`` beside them keeps what the rows cannot: console,
page errors, error text on the page, storage (masked) and token times.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from numpy.typing import NDArray

from tracehound.browser.page_load import BrowseResult, NetworkCall
from tracehound.probe.importers._table import Imported
from tracehound.probe.meta import BrowserMeta, RecheckMeta, ShapeMeta, TargetMeta
from tracehound.probe.records import DEFAULT_HEADERS, header_column, redact_columns
from tracehound.probe.run import Run, prepare_run_dir, save_run, slugify
from tracehound.redact import redact_url

RESULT_FILE = "browse.json"


def prepare_folder(out: str | Path | None, url: str) -> Path:
    """The run folder a session writes to (created and proven writable now, before any load)."""
    p = urlsplit(url)
    return prepare_run_dir(out, f"browser-{slugify((p.hostname or '') + p.path, 32)}")


def _floats(values: Iterable[float | None]) -> NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def table_of(calls: list[NetworkCall]) -> Imported:
    """The calls as columns of the record schema (see the module docstring)."""
    n = len(calls)
    f = _floats
    columns = {
        "seq": np.array([c.seq for c in calls], dtype=np.int64),
        "vu": np.array([c.load for c in calls], dtype=np.int32),
        "step": [c.resource_type for c in calls],
        "method": [c.method for c in calls],
        "host": [c.host for c in calls],
        "path": [c.path for c in calls],
        "start_ns": np.array([int(c.start * 1e9) for c in calls], dtype=np.int64),
        "connect_ms": f([c.connect_ms for c in calls]),
        "ttfb_ms": f([c.ttfb_ms for c in calls]),
        "total_ms": f([c.total_ms for c in calls]),
        "status": np.array([c.status for c in calls], dtype=np.int16),
        "error_kind": [c.error_kind for c in calls],
        "error": [c.error for c in calls],
        "bytes_in": f([c.bytes_in for c in calls]),
        "body_hash": [c.body_hash for c in calls],
        "body_sample": [c.body_sample for c in calls],
        **{header_column(h): [c.headers.get(h) for c in calls] for h in DEFAULT_HEADERS},
    }
    target = {"url": calls[0].url, "method": calls[0].method} if calls else {}
    return Imported(rows=n, columns=columns, target=target)


def save(result: BrowseResult, folder: Path) -> Run:
    """Write ``requests.parquet``, ``run.json`` and ``browse.json`` into ``folder``."""
    calls = result.calls + [c for ld in result.rechecks for c in ld.calls]
    imported = table_of(calls)
    table = imported.table(folder.name, "browser")
    meta: dict[str, Any] = {
        "target": TargetMeta(url=redact_url(result.url), page=True),
        "shape": ShapeMeta.model_validate({"model": "browser", "loads": len(result.loads), "fresh": result.fresh}),
        "browser": BrowserMeta(
            version=result.browser_version, loads=len(result.loads), failed_loads=len(result.failed_loads),
            rechecks=[RecheckMeta(empty_storage=ld.fresh, failed=ld.failed) for ld in result.rechecks],
            result=RESULT_FILE),
    }
    duration = imported.duration_s()
    if duration is not None:
        meta["duration_s"] = duration
    (folder / RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    return save_run("browser", redact_columns(table), meta, folder, "browser")


__all__ = ["RESULT_FILE", "prepare_folder", "save", "table_of"]
