"""``run.json`` as one type: :class:`RunMeta`, the one loader :func:`read_meta` and the one writer :func:`write_meta`.

Every writer (the prober, the Locust engine, the importers, the access-log import, browser
sessions, the experiments) builds a :class:`RunMeta` and every reader reads its attributes. The
blocks readers use are typed; any other key (a user's annotation, a block only one writer knows)
is kept as it was, and every block writes its keys back in the order it was given them, so a
file read and written again is the same file.

A field that a file lacks has the value its type gives nothing (``None``, ``False``, an empty
block), and is not written back: :meth:`RunMeta.dump` leaves out what was never set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from tracehound.document import load_document
from tracehound.errors import BadRun

RUN_SCHEMA = "tracehound.run/1"
META_FILE = "run.json"

#: A number as it was written: ``90`` stays an int, ``0.5`` a float (``float`` alone would turn
#: ``90`` into ``90.0`` and change the file).
Number = int | float


class _Block(BaseModel):
    """A part of ``run.json``: typed where tracehound reads it, every other key kept, keys written
    back in the order they were first given (by the file, or by assignment)."""

    model_config = ConfigDict(extra="allow", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    _keys: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_order(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        block = handler(data)
        if isinstance(data, Mapping):
            block._keys = [cls._file_key(str(k)) for k in data]
        return block

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if not name.startswith("_"):
            key = self._file_key(name)
            if key not in self._keys:
                self._keys = [*self._keys, key]  # a new list: a copy of the block shares the old one

    @classmethod
    def _file_key(cls, name: str) -> str:
        field = cls.model_fields.get(name)
        return field.alias if field is not None and field.alias else name

    @model_serializer(mode="wrap")
    def _in_given_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {**{k: data[k] for k in self._keys if k in data}, **data}


class HostMeta(_Block):
    """The machine the run was made on."""

    platform: str | None = None
    cpus: int | None = None
    #: The command line, secrets redacted.
    argv: list[str] = Field(default_factory=list)


class FilesMeta(_Block):
    """The run's data files, relative to its folder."""

    requests: str | None = None
    #: An access-log import's partitioned Parquet folder.
    access: str | None = None


class FlowMeta(_Block):
    """The flow a flow run replayed: its file and its step names."""

    source: str | None = None
    setup: list[str] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    target_step: str | None = None


class DataPoolMeta(_Block):
    """A pool of parameter values a flow drew from (``--data-file``, ``--param``, a flow's ``data:``)."""

    name: str
    kind: str
    source: str | None = None
    columns: list[str] = Field(default_factory=list)
    #: The columns the requests use, each a ``data_<name>`` column of the records.
    used: list[str] = Field(default_factory=list)
    rows: int = 0
    draw: str = "sequential"
    seed: int | None = None


class TargetMeta(_Block):
    """What the requests went to: one request (URL redacted, header names and values redacted), a
    flow on a base URL, a page, or an import's URLs."""

    url: str | None = None
    method: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    body_bytes: int = 0
    flow: FlowMeta | None = None
    #: A browser session: the URL is a page.
    page: bool = False
    #: An import's first distinct URLs, and how many there were.
    urls: list[str] = Field(default_factory=list)
    distinct_urls: int | None = None
    #: The pools of values a data-driven flow drew from.
    data: list[DataPoolMeta] = Field(default_factory=list)


class StageMeta(_Block):
    duration_s: Number
    #: Users (closed model) or requests per second (open model) at the stage's end.
    target: Number
    ramp: bool = True


class BoundsMeta(_Block):
    max_requests: int | None = None
    max_duration_s: Number | None = None


class ShapeMeta(_Block):
    """The load shape, as ``LoadShape.describe()`` gives it, or ``imported`` / ``browser``."""

    #: closed | open | imported | browser
    model: str | None = None
    rate: Number | None = None
    max_connections: int | None = None
    concurrency: int | None = None
    stages: list[StageMeta] = Field(default_factory=list)
    requests: int | None = None
    duration_s: Number | None = None
    bounds: BoundsMeta | None = None
    #: A browser session's page loads.
    loads: int | None = None


class OptionsMeta(_Block):
    """How a probe was run."""

    timeout_s: Number | None = None
    connect_timeout_s: Number | None = None
    keepalive: bool | None = None
    workers: int | None = None
    engine: str | None = None
    record_headers: list[str] = Field(default_factory=list)
    tls_verify: bool | None = None


class ExperimentMeta(_Block):
    """The experiment a run was (``tracehound.experiments.Experiment.annotation``)."""

    #: baseline | sweep | idle_gap | low_rate | flow_delay | canary | confirm | fresh_conn | timeout_varied | burst
    kind: str | None = None
    purpose: str | None = None
    concurrency: int | None = None
    rate: Number | None = None
    gap_s: Number | None = None
    gaps: list[Number] | None = None
    #: Each pause of ``gaps`` was a range this many seconds wide above it (unset: exact pauses).
    gap_spread_s: Number | None = None
    delay_s: Number | None = None
    #: False when every request went on a new connection (``Connection: close``); unset means reused ones.
    keepalive: bool | None = None
    #: The client timeout the experiment chose, when it is not the case's.
    timeout_s: Number | None = None
    #: The kind of the experiment this one repeats under another condition (a fresh_conn of an idle_gap …).
    like: str | None = None
    #: A burst experiment's: each period's arrivals are all sent within its first ``burst_s`` seconds.
    burst_s: Number | None = None
    period_s: Number | None = None
    #: target | canary
    role: str = "target"
    #: A canary's: ``load`` (beside an experiment) or ``idle``.
    during: str | None = None
    #: A canary's: True when it asks for a path the service itself serves (found by
    #: ``tracehound.plan.cheap``), False for the path nothing serves (a gateway may answer it alone).
    served: bool | None = None


class LocustWorkerMeta(_Block):
    index: int
    host: str | None = None
    pid: int | None = None
    requests: int = 0
    #: Why the worker was lost mid-run; None when it was not.
    lost: str | None = None


class LocustMeta(_Block):
    """A Locust run's engine: its version, its workers and what became of each."""

    name: str | None = None
    version: str | None = None
    workers: int | None = None
    local_workers: int | None = None
    remote_workers: int | None = None
    master: str | None = None
    per_worker: list[LocustWorkerMeta] = Field(default_factory=list)


class CountsMeta(_Block):
    """What was counted (the Parquet file is the truth for the requests)."""

    requests: int | None = None
    issued: int | None = None
    dropped: int | None = None
    connections: int | None = None
    retried_on_new_connection: int | None = None
    #: An access-log import's unreadable lines.
    bad_lines: int | None = None


class ImportMeta(_Block):
    """What an import read: an other tool's file, or an access log."""

    format: str | None = None
    file: str | None = None
    compression: str | None = None
    bytes: int | None = None
    rows: int | None = None
    #: Cut-off lines of an imported file.
    skipped: int | None = None
    bad_lines: int | None = None
    bad_examples: list[str] = Field(default_factory=list)
    seconds: Number | None = None
    mb_per_s: Number | None = None
    days: list[str] = Field(default_factory=list)
    first: str | None = None
    last: str | None = None
    utc_offset_min: int | None = None
    mapping: dict[str, str] | None = None
    #: ``epoch`` (clock times) or ``relative`` (offsets from the imported run's start).
    time_base: str | None = None


class RecheckMeta(_Block):
    empty_storage: bool
    failed: bool


class BrowserMeta(_Block):
    """A browser session's loads (the full result is in its ``result`` file)."""

    version: str | None = None
    loads: int | None = None
    failed_loads: int | None = None
    rechecks: list[RecheckMeta] = Field(default_factory=list)
    result: str | None = None


class WrongBodyMeta(_Block):
    """2xx answers of the run marked ``wrong_body`` for a minority body shape (:mod:`tracehound.wrong_body`)."""

    rows: int = 0
    rule: str | None = None


class RunMeta(_Block):
    """A run's ``run.json`` (schema ``tracehound.run/1``; an access-log import's is ``tracehound.access/1``)."""

    schema_: str = Field(default=RUN_SCHEMA, alias="schema")
    run_id: str | None = None
    #: probe | import | browser
    kind: str | None = None
    #: running | complete | partial | interrupted | failed
    status: str | None = None
    complete: bool = False
    interrupted: bool = False
    started_at: str | None = None
    #: Package → version.
    tool: dict[str, str] = Field(default_factory=dict)
    host: HostMeta = Field(default_factory=HostMeta)
    files: FilesMeta = Field(default_factory=FilesMeta)
    target: TargetMeta = Field(default_factory=TargetMeta)
    shape: ShapeMeta = Field(default_factory=ShapeMeta)
    options: OptionsMeta = Field(default_factory=OptionsMeta)
    experiment: ExperimentMeta | None = None
    #: native | locust
    engine: str | None = None
    locust: LocustMeta | None = None
    #: Set when a Locust worker was lost: the run is kept, and said to be partial.
    partial: bool = False
    partial_reason: str | None = None
    ended_at: str | None = None
    duration_s: Number | None = None
    #: requests | duration | interrupted | ...
    stop_reason: str | None = None
    counts: CountsMeta = Field(default_factory=CountsMeta)
    body_samples_capped: bool = False
    import_: ImportMeta | None = Field(default=None, alias="import")
    browser: BrowserMeta | None = None
    #: What a right answer looked like (``--expect``): answers that missed it are ``wrong_body`` failures.
    expect: list[str] = Field(default_factory=list)
    #: Set when answers were marked ``wrong_body`` afterwards for a minority body shape.
    wrong_body: WrongBodyMeta | None = None

    @property
    def is_canary(self) -> bool:
        return self.experiment is not None and self.experiment.role == "canary"

    def dump(self) -> dict[str, Any]:
        """The document as it is written: the keys it was given, in their order, and nothing else."""
        data: dict[str, Any] = self.model_dump(by_alias=True, exclude_unset=True)
        return data


def read_meta(path: Path, schema: str = RUN_SCHEMA) -> RunMeta:
    """The ``run.json`` of the run folder ``path``; :class:`BadRun`, one line, when there is none, it is not
    JSON, it is another document or version (``schema``), or a field has the wrong type."""
    file = path / META_FILE
    if not file.is_file():
        raise BadRun(f"{str(path)!r} is not a run folder (no {META_FILE})")
    return load_document(file, RunMeta, schema, BadRun)


def write_meta(path: Path, meta: RunMeta) -> None:
    """Write ``run.json`` into the folder ``path``, atomically."""
    write_json(path / META_FILE, meta.dump())


def write_json(file: Path, data: Mapping[str, Any]) -> None:
    """Write a JSON document atomically (a crash leaves the old file or the new one, never half of one)."""
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    os.replace(tmp, file)


def _json_default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


__all__ = [
    "META_FILE",
    "RUN_SCHEMA",
    "BoundsMeta",
    "BrowserMeta",
    "CountsMeta",
    "DataPoolMeta",
    "WrongBodyMeta",
    "ExperimentMeta",
    "FilesMeta",
    "FlowMeta",
    "HostMeta",
    "ImportMeta",
    "LocustMeta",
    "LocustWorkerMeta",
    "Number",
    "OptionsMeta",
    "RecheckMeta",
    "RunMeta",
    "ShapeMeta",
    "StageMeta",
    "TargetMeta",
    "read_meta",
    "write_json",
    "write_meta",
]
