"""Every parser of user input, as one call from an input to a result: the fuzz targets.

A target writes the example where the parser reads it (a file, usually), calls the parser as
tracehound's commands do and touches what they then read of the result. The property, checked by
:func:`run_one`: the call returns, or raises one :class:`~tracehound.errors.TracehoundError` (a
parser's own error type counts when the command turns it into one, as ``ValueError`` of the log
options is ``BadLogOption``) — never another exception.

The access-log targets run the importer's own SQL (:mod:`tracehound.access.formats`) as a query
instead of a ``COPY`` to Parquet, on one connection per process: the parse at a fifth of the cost.
``test_fuzz.py`` also runs the whole import on a few examples of each.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from parser_fuzz import strategies as s
from tracehound.errors import TracehoundError

Run = Callable[[Any, Path], object]


@dataclass(frozen=True)
class Target:
    """A parser, the inputs to try on it and the errors it may end in besides :class:`TracehoundError`."""

    name: str
    inputs: st.SearchStrategy[Any]
    run: Run
    #: Examples that once broke it (regressions), tried first every time.
    examples: tuple[Any, ...] = ()
    allowed: tuple[type[BaseException], ...] = (TracehoundError,)


def _file(work: Path, data: bytes, name: str = "input") -> Path:
    path = work / name
    path.write_bytes(data)
    return path


# -- tracehound import: other tools' request logs --------------------------------------------------------


def _importer(fmt: str) -> Run:
    def run(data: bytes, work: Path) -> object:
        from tracehound.probe import importers
        from tracehound.probe.importers import csv, har, hey, k6, vegeta

        path = _file(work, data)
        with contextlib.suppress(TracehoundError):
            importers.detect(path)
        reader = {"har": har, "hey": hey, "k6": k6, "vegeta": vegeta, "csv": csv}[fmt]
        imported = reader.read(path)  # what `import --format FMT` does with the file
        table = imported.table("run", fmt)
        return table.num_rows, imported.duration_s(), imported.target

    return run


# -- tracehound import: access logs ------------------------------------------------------------------


@cache
def _duckdb() -> Any:
    from tracehound.access.folder import connect

    return connect(threads=1)


def _access(fmt: str) -> Run:
    def run(example: tuple[bytes, str], work: Path) -> object:
        import duckdb

        from tracehound.access import formats, importer

        data, mapping_text = example
        path = _file(work, data)
        mapping = formats.parse_mapping(mapping_text)
        compression = importer.compression_of(path)
        sniff = formats.sniff(importer.head_lines(path, compression), fmt, mapping)
        if sniff is None:
            return None
        con, src = _duckdb(), str(path)
        if sniff.format in ("nginx", "apache"):
            if sniff.tail is not None:
                try:
                    sql, _ = formats.combined_fast(src, sniff, compression)
                    rows = con.execute(sql).fetchall()
                except duckdb.Error:
                    pass  # the importer then reads every line one at a time, as below
                else:
                    rejected = ("(SELECT unnest(string_split(rtrim(first(csv_line), chr(13) || chr(10)), chr(10))) "
                                "AS line FROM reject_errors GROUP BY scan_id, line)")
                    return rows, con.execute(formats.combined_lines(rejected, sniff)).fetchall()
            lines = formats._lines(src, compression)
            return con.execute(formats.combined_lines(f"(SELECT line FROM {lines})", sniff)).fetchall()
        sql = {"alb": lambda: formats.alb(src, compression),
               "cloudfront": lambda: formats.cloudfront(src, sniff, compression),
               "jsonl": lambda: formats.jsonl(src, sniff, compression)}[sniff.format]()
        return con.execute(sql).fetchall()

    return run


def import_access_log(example: tuple[bytes, str], work: Path, fmt: str) -> object:
    """The whole import (DuckDB, Parquet, run.json) of one example: for a few examples only."""
    import shutil

    from tracehound.access import formats, import_access_log

    data, mapping_text = example
    path = _file(work, data)
    out = work / "import"
    shutil.rmtree(out, ignore_errors=True)
    return import_access_log(path, fmt, out=out, mapping=formats.parse_mapping(mapping_text)).meta


# -- tracehound logs ---------------------------------------------------------------------------------------


def _service_logs(data: bytes, work: Path) -> object:
    from tracehound.logs import analyze_logs

    return analyze_logs([_file(work, data, "app.log")]).to_dict()


def _log_options(example: tuple[str, str], work: Path) -> object:
    from tracehound.logs import parse_bound, parse_zone

    bound, zone_text = example
    zone = parse_zone(zone_text)
    return parse_bound(bound, zone, now=1_767_225_600.0), parse_bound(bound, None)


# -- flows, metrics, documents ----------------------------------------------------------------------------


def _flow(data: bytes, work: Path) -> object:
    from tracehound.flow import BUILTINS, Flow

    flow = Flow.load(_file(work, data, "flow.yaml"))
    env: dict[str, Any] = {**flow.vars, **dict.fromkeys(BUILTINS, 1)}
    for step in flow.setup + flow.steps:
        env.update({c.var: "captured" for c in step.captures})
    rendered = [step.render(env) for step in flow.setup + flow.steps]  # what each iteration sends
    return rendered, Flow.from_dict(flow.to_dict()).to_dict()  # and what a Locust worker is handed


def _prometheus(example: tuple[bytes, str], work: Path) -> object:
    from tracehound.sources.metric_roles import read_families
    from tracehound.sources.metrics import NotPrometheus, connect_error, parse_text

    body, content_type = example
    try:
        return read_families(parse_text(body, content_type))
    except NotPrometheus as e:  # what the sampler makes of it
        raise connect_error("http://127.0.0.1:9/metrics", e) from None


def _report(data: bytes, work: Path) -> object:
    from tracehound.report import load_report

    _file(work, data, "report.json")
    report = load_report(work)
    return report.model_dump(mode="json"), report.top, report.reproduced


def _run_meta(data: bytes, work: Path) -> object:
    from tracehound.probe.run import Run

    _file(work, data, "run.json")
    run = Run.load(work)
    return run.complete, run.interrupted, run.meta.status, run.meta.dump()


def _slo(text: str, work: Path) -> object:
    from tracehound.verify import Slo

    slo = Slo.parse(text)
    assert Slo.parse(slo.text()) == slo, slo.text()  # what a report prints, read back
    return slo


def _expect(example: tuple[list[str], list[tuple[int, bytes]]], work: Path) -> object:
    from tracehound.expect import Expectation

    texts, answers = example
    exp = Expectation.parse(texts)
    assert Expectation.parse(exp.texts) == exp  # what run.json keeps, read back
    return [exp.check(status, body) for status, body in answers]


def _symptom(text: str, work: Path) -> object:
    from tracehound.diagnosis.entries import load_catalog
    from tracehound.diagnosis.symptom import match_symptom

    return match_symptom(text, load_catalog())


def _data_file(example: tuple[bytes, str], work: Path) -> object:
    from tracehound.params.pool import file_pool

    data, suffix = example
    pool = file_pool(_file(work, data, "customers" + suffix))
    return pool.describe(), pool.labels(np.arange(min(pool.size, 3))), pool.to_doc()


def _access_targets() -> list[Target]:
    files = {"nginx": s.nginx_files(), "apache": s.nginx_files(), "alb": s.alb_files(),
             "cloudfront": s.cloudfront_files(), "jsonl": s.jsonl_access_files()}
    examples = {"cloudfront": ((b"#Version: 1.0\n#Fields:\n", ""),),
                "jsonl": ((b'{"time": 1e300, "status": 200}\n', ""), (b'{"a":' * 5000 + b"\n", ""))}
    every = ((b"\x1c\n", ""),)  # only white space to a text reader: once an IndexError
    return [Target(f"access-{fmt}", st.tuples(inputs, s.MAPPINGS), _access(fmt), examples.get(fmt, ()) + every)
            for fmt, inputs in files.items()]


# Inputs that broke a parser once (each fixed where it broke).
DEEP = b"[" * 5000  # RecursionError from json.loads
LONG_NUMBER = b"9" * 4400  # ValueError from int(): more than 4,300 digits
HUGE_FIELD = b"y" * 140_000  # past the csv module's field limit
HEY_HEADER = ",".join(s.HEY_HEADER).encode()
CURL_HEADER = b"request_id,http_code,duration_ms,timestamp"

#: Every parser of user input, in the order the closing figures list them.
TARGETS: list[Target] = [
    Target("har", s.har_files(), _importer("har"), examples=(b'{"log": {"entries": []}}', DEEP, LONG_NUMBER)),
    Target("hey-csv", s.hey_files(), _importer("hey"),
           examples=(HEY_HEADER + b"\n" + HUGE_FIELD + b",1,2,3,4,5,200,0\n",)),
    Target("k6-json", s.k6_files(), _importer("k6"),
           examples=(b'{"type": "Point", "metric": [], "data": null}\n', DEEP + b"\n")),
    Target("vegeta-json", s.vegeta_files(), _importer("vegeta"), examples=(DEEP,)),
    Target("request-csv", s.request_csv_files(), _importer("csv"),
           examples=(CURL_HEADER + b"\n,1000000000000000000000000000000,1,1\n", CURL_HEADER + b"\n1,1." + HUGE_FIELD)),
    *_access_targets(),
    Target("service-logs", s.service_log_files(), _service_logs,
           examples=(b"y" * 60_000, b'{"a":' * 5000, b"9999-12-31T23:59:59.000-23:59 ERROR late\n")),
    Target("log-options", st.tuples(s.LOG_BOUNDS, s.ZONE_TEXT), _log_options, allowed=(TracehoundError, ValueError),
           examples=(("9" * 400 + "d", "UTC"),)),
    Target("flow", s.flow_files(), _flow, examples=(
        b"steps:\n  - name: a\n    path: /x\n    json: !!binary aGk=\n", b"steps: [{name: a, path: /x}]\n7: x\nz: y\n",
        b"steps: &s [{name: a, path: /x, json: *s}]",
        b"{steps: [{name: a, path: /x, json: '{d}'}], vars: {d: 2024-01-01}}",
        LONG_NUMBER)),
    Target("prometheus", st.tuples(s.PROMETHEUS_BODIES, s.CONTENT_TYPES), _prometheus, examples=(
        (b"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total " + LONG_NUMBER[:3000] + b"\n", ""),
        (b'# TYPE db_pool_wait_seconds histogram\ndb_pool_wait_seconds_bucket{le="0.5"} ' + LONG_NUMBER[:2000]
         + b'\ndb_pool_wait_seconds_bucket{le="+Inf"} 1\n', ""))),
    Target("report-json", s.report_files(), _report, examples=(DEEP, LONG_NUMBER)),
    Target("run-json", s.run_meta_files(), _run_meta, examples=(b"null", DEEP)),
    Target("slo", s.SLO_TEXT, _slo, examples=("p99 < 1.48851587", "error_rate<0.0148851587", "p50<0.00001ms")),
    Target("expect", st.tuples(s.EXPECT_TEXTS, s.ANSWERS), _expect,
           examples=((["$.a=" + "[" * 1990], [(200, DEEP)]),)),
    Target("symptom", s.SYMPTOM_TEXT, _symptom),
    Target("data-file", s.DATA_FILES, _data_file, examples=((DEEP, ".json"), (b'{"a":' * 5000, ".jsonl"))),
]
BY_NAME = {t.name: t for t in TARGETS}


def run_one(target: Target, example: Any, work: Path) -> BaseException | None:
    """Run ``target`` on ``example``: None when the property holds, else the exception that broke it."""
    try:
        target.run(example, work)
    except target.allowed:
        return None
    except Exception as e:  # noqa: BLE001 - any other exception is the finding
        return e
    return None


__all__ = ["BY_NAME", "TARGETS", "Target", "import_access_log", "run_one"]
