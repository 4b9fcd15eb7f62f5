"""Hypothesis strategies for what users feed tracehound's parsers: near-valid documents, then damaged.

Each format has a generator of documents that are mostly of that format (so the fuzzer reaches past
the first check into the code that reads fields), whose fields are sometimes of the wrong type or
absurd (``1e308``, ``NaN``, a 5,000-digit integer, a lone surrogate), and a final pass of damage
that a real file suffers: cut off mid-write, a line doubled, bytes flipped, a BOM, CRLF, gzip
(sometimes truncated), or replaced by something else entirely (a deep JSON nesting, NULs, a
line longer than the readers' buffers).
"""

from __future__ import annotations

import base64
import gzip
import json
import string
from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml
from hypothesis import strategies as st

from tracehound.access.formats import ALB_FIELDS, JSON_KEYS
from tracehound.probe.importers.hey import HEADER as HEY_HEADER
from tracehound.probe.importers.k6 import METRICS as K6_METRICS

S = st.SearchStrategy

# -- pieces ---------------------------------------------------------------------------------------

#: Numbers as a hostile file holds them: negative, huge, not finite, not numbers.
NUMBERS: S[Any] = st.one_of(
    st.integers(-5, 100_000), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e308, -1e308, 2**63, 2**64, 10**30, 0.1, 1e-320]),
)
#: Number-like text (CSV fields, tags, log values).
NUMBER_TEXT: S[str] = st.one_of(
    NUMBERS.map(str), st.sampled_from(["", "-", "NaN", "inf", "-inf", "1e999", "0x10", "1_000", " 12 ", "000",
                                        "1.2.3", "١٢٣"]),
    st.integers(4290, 4400).map(lambda n: "9" * n),  # Python's int() stops at 4,300 digits
)
#: Short text, any Unicode except what splits lines (fields are joined into lines).
FIELD: S[str] = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=40)
WORD: S[str] = st.text(string.ascii_letters + string.digits + "_-./:", min_size=1, max_size=20)
#: Mapping keys a YAML or JSON document may hold: mostly names.
KEYS: S[Any] = st.one_of(WORD, WORD, WORD, st.integers(), st.booleans(), st.none(), st.floats())


def wild_json(max_leaves: int = 12) -> S[Any]:
    """Any JSON value (non-finite floats and huge integers included), small."""
    return st.recursive(
        st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=30)),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
        max_leaves=max_leaves,
    )


WILD = wild_json()


@st.composite
def mostly(draw: st.DrawFn, valid: S[Any], wild: S[Any] = WILD) -> Any:
    """``valid`` three times in four, else anything."""
    return draw(wild) if draw(st.integers(0, 3)) == 0 else draw(valid)


ISO_TIME: S[str] = st.one_of(
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.isoformat(timespec="microseconds") + "Z"),
    st.builds(lambda y, mo, d, h, z: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:00:00.123{z}",
              st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
              st.sampled_from(["Z", "+02:00", "-23:59", "+99:00", "", "+0200", " UTC"])),
)
URL: S[str] = st.one_of(
    st.builds(lambda s, h, p, q: f"{s}://{h}{p}{q}", st.sampled_from(["http", "https", "ftp", ""]),
              st.sampled_from(["127.0.0.1:8000", "api.example.com", "[::1]:99999", "u:p@h", "h:port", "", "[::1"]),
              st.sampled_from(["/", "/orders/123", "/a?token=s3cret&x=1", "/%zz", "//x", ""]),
              st.sampled_from(["", "?q=1", "#f"])),
    FIELD,
)
METHOD: S[str] = st.one_of(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]), FIELD)
BASE64: S[str] = st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())
STATUS: S[Any] = st.one_of(st.sampled_from([0, 200, 204, 301, 404, 429, 500, 502, 503, 504, 999]), NUMBERS)

# -- damage -----------------------------------------------------------------------------------------

#: Whole inputs that are none of the formats, and worst cases for recursive or line readers.
NASTY: S[bytes] = st.one_of(
    st.binary(max_size=300),
    st.integers(1, 200_000).map(lambda n: b"[" * n),
    st.integers(1, 50_000).map(lambda n: b'{"log":' * n),
    st.integers(1, 50_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.integers(1, 300_000).map(lambda n: b"x" * n),
    st.sampled_from([b"", b"\n", b"\xef\xbb\xbf", b"\x00" * 10, b"\x1f\x8b", b"\x1f\x8b\x08\x00garbage", b"null",
                     b"[]", b"{}", b'"\\ud800"', b"1e999", b"NaN", b"\xff\xfe\x00t"]),
    st.integers(4290, 4400).map(lambda n: b"9" * n),
)


@st.composite
def damaged(draw: st.DrawFn, doc: S[str | bytes], gzip_ok: bool = False) -> bytes:
    """A document as a file on disk after what real files go through (or a NASTY one instead)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(NASTY)
    d = draw(doc)
    data = d.encode("utf-8", "surrogatepass") if isinstance(d, str) else d
    for kind in draw(st.lists(st.integers(0, 6), max_size=3)):
        if not data:
            break
        at = draw(st.integers(0, len(data)))
        if kind == 0:
            data = data[:at]  # cut off mid-write
        elif kind == 1:
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        elif kind == 2:
            data = data[:at] + data[at + draw(st.integers(1, 16)):]
        elif kind == 3:
            data = data.replace(b"\n", b"\r\n")
        elif kind == 4:
            data = b"\xef\xbb\xbf" + data
        elif kind == 5:
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            data = b"\n".join(lines[: i + 1] + lines[i:])  # a line doubled
        elif kind == 6:
            one = draw(st.sampled_from([b'"', b"\\", b"\n", b"\t", b",", b"\x00", b"\xff", b"{", b"["]))
            data = data[:at] + one + data[at + 1:]
    if data and draw(st.integers(0, 29)) == 0:  # a line past the readers' buffers (rare: it is slow to read)
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"y" * draw(st.integers(60_000, 1_100_000)) + data[at:]
    if gzip_ok and draw(st.integers(0, 4)) == 0:
        packed = gzip.compress(data, mtime=0)
        data = packed[: draw(st.integers(2, len(packed)))] if draw(st.booleans()) else packed
    return data


def lines_of(line: S[str], max_lines: int = 8, header: S[str] | None = None) -> S[str]:
    body = st.lists(line, min_size=1, max_size=max_lines).map(lambda ls: "\n".join(ls) + "\n")
    return body if header is None else st.tuples(header, body).map(lambda hb: hb[0] + "\n" + hb[1])


# -- request logs of other tools (tracehound import) -------------------------------------------------


def _har_entry() -> S[dict[str, Any]]:
    timings = st.dictionaries(st.sampled_from(["blocked", "dns", "connect", "ssl", "send", "wait", "receive"]),
                              mostly(st.one_of(st.just(-1), st.floats(0, 5000))), max_size=7)
    content = st.fixed_dictionaries({}, optional={
        "text": mostly(st.one_of(st.text(max_size=60), BASE64)),
        "encoding": mostly(st.just("base64")), "mimeType": FIELD})
    headers = st.lists(mostly(st.fixed_dictionaries({"name": st.sampled_from(["Server", "Via", "content-type", "X"]),
                                                     "value": mostly(FIELD)})), max_size=4)
    response = st.fixed_dictionaries({"status": mostly(STATUS)}, optional={
        "headers": mostly(headers), "content": mostly(content), "_transferSize": mostly(NUMBERS),
        "headersSize": mostly(NUMBERS), "bodySize": mostly(NUMBERS), "_error": mostly(
            st.sampled_from(["net::ERR_CONNECTION_REFUSED", "net::ERR_CERT_DATE_INVALID", "net::ERR_X", ""]))})
    request = st.fixed_dictionaries({"method": mostly(METHOD), "url": mostly(URL)},
                                    optional={"bodySize": mostly(NUMBERS), "headers": WILD})
    return st.fixed_dictionaries(
        {"startedDateTime": mostly(ISO_TIME), "request": mostly(request), "response": mostly(response)},
        optional={"time": mostly(NUMBERS), "timings": mostly(timings), "connection": mostly(NUMBER_TEXT),
                  "_error": FIELD})


def _har_doc() -> S[str]:
    entries = st.lists(mostly(_har_entry()), max_size=6)
    log = st.fixed_dictionaries({"entries": mostly(entries)}, optional={"version": st.just("1.2"), "pages": WILD})
    return mostly(st.fixed_dictionaries({"log": mostly(log)})).map(lambda d: json.dumps(d, allow_nan=True))


def har_files() -> S[bytes]:
    return damaged(_har_doc())


def _csv_row(fields: list[S[str]]) -> S[str]:
    row = st.tuples(*fields).map(",".join)
    return st.one_of(row, row, row, st.lists(FIELD, max_size=10).map(",".join))


def hey_files() -> S[bytes]:
    number = st.one_of(st.floats(0, 30).map(lambda x: f"{x:.4f}"), NUMBER_TEXT)
    status = st.one_of(st.sampled_from(["200", "500", "0", "999", "1000", "-1"]), NUMBER_TEXT)
    header = st.one_of(st.just(",".join(HEY_HEADER)), st.just(" , ".join(HEY_HEADER)), FIELD)
    return damaged(lines_of(_csv_row([number] * 6 + [status, number]), header=header))


def request_csv_files() -> S[bytes]:
    header = st.one_of(st.just("request_id,http_code,duration_ms,timestamp"), FIELD)
    row = _csv_row([st.one_of(st.integers(0, 10**6).map(str), FIELD), st.one_of(st.sampled_from(["200", "000", "503"]),
                    NUMBER_TEXT), NUMBER_TEXT, st.one_of(st.integers(0, 2_000_000_000).map(str), NUMBER_TEXT)])
    return damaged(lines_of(row, header=header))


@st.composite
def _k6_doc(draw: st.DrawFn) -> str:
    out: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        tags = draw(mostly(st.fixed_dictionaries({}, optional={
            "method": METHOD, "url": URL, "name": st.one_of(URL, FIELD), "status": mostly(NUMBER_TEXT),
            "error": FIELD, "error_code": mostly(NUMBER_TEXT), "vu": NUMBER_TEXT})))
        meta = draw(mostly(st.fixed_dictionaries({}, optional={"vu": NUMBER_TEXT, "iter": NUMBER_TEXT})))
        when = draw(mostly(ISO_TIME))
        metrics = draw(st.lists(st.sampled_from([*K6_METRICS, "http_reqs", "http_req_failed", "http_req_receiving",
                                                 "data_sent", "iterations"]), max_size=9))
        for m in metrics:
            data = draw(mostly(st.fixed_dictionaries({"time": st.just(when), "value": mostly(NUMBERS),
                                                      "tags": st.just(tags)}, optional={"metadata": st.just(meta)})))
            point = draw(mostly(st.fixed_dictionaries({"type": mostly(st.sampled_from(["Point", "Metric"])),
                                                       "metric": mostly(st.just(m)), "data": st.just(data)})))
            out.append(json.dumps(point, allow_nan=True))
    return "\n".join(out) + "\n"


def k6_files() -> S[bytes]:
    return damaged(_k6_doc())


def _vegeta_line() -> S[str]:
    result = st.fixed_dictionaries(
        {"code": mostly(STATUS), "timestamp": mostly(ISO_TIME), "latency": mostly(st.integers(0, 10**12))},
        optional={"seq": mostly(st.integers(0, 10**6)), "attack": FIELD, "bytes_in": mostly(st.integers(0, 10**6)),
                  "bytes_out": mostly(st.integers(0, 10**6)), "error": mostly(FIELD), "method": mostly(METHOD),
                  "url": mostly(URL), "body": mostly(BASE64),
                  "headers": mostly(st.dictionaries(st.sampled_from(["Server", "Via", "X-Request-Id"]),
                                                    mostly(st.lists(FIELD, max_size=3)), max_size=3))})
    return mostly(result).map(lambda d: json.dumps(d, allow_nan=True))


def vegeta_files() -> S[bytes]:
    return damaged(lines_of(_vegeta_line()))


# -- access logs (tracehound import, DuckDB) ----------------------------------------------------------

_CLF_TIME = st.one_of(
    st.builds(lambda d, mo, y, h, z: f"[{d:02d}/{mo}/{y}:{h:02d}:00:00 {z}]", st.integers(0, 32),
              st.sampled_from(["Dec", "Feb", "Foo", "dec"]), st.integers(0, 9999), st.integers(0, 25),
              st.sampled_from(["+0000", "-0530", "+9999", "Z"])),
    FIELD.map(lambda s: f"[{s}]"),
)
_QUOTED = st.one_of(FIELD.filter(lambda s: '"' not in s), FIELD).map(lambda s: f'"{s}"')
_TAIL_TOKEN = st.one_of(NUMBER_TEXT, st.sampled_from(["-", "10.0.0.1:8080", "10.0.0.1:8080,", "unix:/tmp/s", ":",
                                                      "a, b : c"]),
                        st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["rt", "urt", "ua", "request_time"]),
                                  st.one_of(NUMBER_TEXT, _QUOTED)))


def _combined_line() -> S[str]:
    request = st.builds(lambda m, p, v: f'"{m} {p}{v}"', METHOD, URL, st.sampled_from([" HTTP/1.1", "", " HTTP/2.0"]))
    return st.one_of(st.builds(
        lambda c, t, r, s, b, ref, ua, tail: f"{c} - - {t} {r} {s} {b} {ref} {ua}" + "".join(" " + x for x in tail),
        st.one_of(st.just("127.0.0.1"), FIELD), _CLF_TIME, st.one_of(request, _QUOTED), STATUS.map(str),
        st.one_of(st.just("-"), NUMBER_TEXT), _QUOTED, _QUOTED, st.lists(_TAIL_TOKEN, max_size=4)), FIELD)


def nginx_files() -> S[bytes]:
    return damaged(lines_of(_combined_line()), gzip_ok=True)


def _alb_line() -> S[str]:
    values = {
        "type": st.sampled_from(["http", "https", "h2", "ws", "x"]), "time": st.one_of(ISO_TIME, ISO_TIME, FIELD),
        "request": st.builds(lambda m, u: f'"{m} {u} HTTP/1.1"', METHOD, URL), "user_agent": _QUOTED,
        "elb_status_code": STATUS.map(str), "target_status_code": STATUS.map(str),
    }
    times = ("request_processing_time", "target_processing_time", "response_processing_time", "received_bytes",
             "sent_bytes")
    other = st.one_of(st.just("-"), WORD)
    fields = [values.get(f, NUMBER_TEXT if f in times else other) for f in ALB_FIELDS[:24]]
    return st.one_of(st.tuples(*fields).map(" ".join), FIELD)


def alb_files() -> S[bytes]:
    return damaged(lines_of(_alb_line()), gzip_ok=True)


_CF_FIELDS = ["date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem",
              "sc-status", "cs(Referer)", "cs(User-Agent)", "time-taken", "time-to-first-byte", "x-host-header"]


@st.composite
def _cloudfront_doc(draw: st.DrawFn) -> str:
    names = draw(st.one_of(st.permutations(_CF_FIELDS).flatmap(lambda p: st.integers(0, len(p)).map(lambda n: p[:n])),
                           st.lists(WORD, max_size=6)))
    header = draw(st.sampled_from(["#Version: 1.0\n", ""])) + "#Fields: " + " ".join(names)
    cell = {"date": st.one_of(st.just("2026-12-02"), FIELD), "time": st.one_of(st.just("14:00:00"), FIELD),
            "sc-status": STATUS.map(str), "cs(User-Agent)": st.one_of(st.just("Mozilla%2520x"), FIELD)}
    row = st.tuples(*[cell.get(n, st.one_of(NUMBER_TEXT, FIELD)) for n in names]).map("\t".join)
    rows = draw(st.lists(st.one_of(row, row, FIELD), max_size=10))
    return header + "\n" + "\n".join(rows) + "\n"


def cloudfront_files() -> S[bytes]:
    return damaged(_cloudfront_doc(), gzip_ok=True)


def _jsonl_line() -> S[str]:
    keys = st.sampled_from(sorted({k for ks in JSON_KEYS.values() for k in ks}))
    value = st.one_of(ISO_TIME, NUMBERS, STATUS, URL, METHOD, WILD)
    return mostly(st.dictionaries(keys, value, max_size=8)).map(lambda d: json.dumps(d, allow_nan=True))


def jsonl_access_files() -> S[bytes]:
    return damaged(lines_of(_jsonl_line()), gzip_ok=True)


#: ``--map`` values: mostly pairs of a known field and a key.
MAPPINGS: S[str] = st.one_of(st.just(""), st.lists(st.builds(
    lambda f, k: f"{f}={k}", st.one_of(st.sampled_from(sorted(JSON_KEYS)), WORD), st.one_of(WORD, FIELD)),
    max_size=3).map(",".join), FIELD)

# -- service logs (tracehound logs) ---------------------------------------------------------------------

_TRACEBACK = ("Traceback (most recent call last):\n  File \"app.py\", line 3, in f\n    x()\n"
              "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached\n")


def _log_line() -> S[str]:
    ts = st.sampled_from(["2026-12-01 10:00:00,000", "2026-12-01T10:00:00.5Z", "2026/12/01 10:00:00", "",
                          "1764583200", "[2026-12-01 10:00:00 +0000]", "9999-99-99 99:99:99,999",
                          "2026-12-01 10:00:00.123 UTC"])
    level = st.sampled_from(["INFO", "ERROR:", "[error]", "WARNING", "LOG:  ", "FATAL", "", "1:M"])
    text = st.builds(lambda t, lv, m: f"{t} {lv} {m}", ts, level, FIELD)
    structured = st.dictionaries(st.sampled_from(["time", "ts", "level", "msg", "message", "status", "method",
                                                  "path", "request_id", "exc_info", "error", "upstream", "http"]),
                                 st.one_of(ISO_TIME, NUMBERS, FIELD, WILD, st.just(_TRACEBACK)), max_size=7)
    logfmt = st.lists(st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["level", "msg", "ts", "status", "rid"]),
                                st.one_of(FIELD.map(json.dumps), WORD)), max_size=5).map(" ".join)
    return st.one_of(text, text, structured.map(lambda d: json.dumps(d, allow_nan=True)), logfmt,
                     _combined_line(), st.just(_TRACEBACK.rstrip()), FIELD,
                     st.sampled_from(["  File \"x\", line 1", "During handling of the above exception",
                                      "DETAIL:  Key (id)=(1) already exists."]))


def service_log_files() -> S[bytes]:
    return damaged(lines_of(_log_line(), max_lines=16), gzip_ok=True)


#: ``--since``/``--until``/``--tz`` values.
LOG_BOUNDS: S[str] = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", NUMBER_TEXT, st.sampled_from(["s", "m", "min", "h", "d", ""])),
    ISO_TIME, st.sampled_from(["0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31T23:59:59-23:59",
                               "1" * 11, "9" * 400 + "d", "1e308", "0001-01-01"]),
    FIELD)
ZONE_TEXT: S[str] = st.one_of(st.sampled_from(["UTC", "local", "Europe/Paris", "+02:00", "-99:99", "UTC+23:59",
                                               "../../etc/passwd", "Europe/../UTC", "\x00", "CET"]), FIELD)

# -- flows (YAML) ---------------------------------------------------------------------------------------


def _template_text() -> S[str]:
    return st.lists(st.one_of(FIELD, st.sampled_from(["{vu}", "{iter}", "{uuid}", "{token}", "{id}", "{{", "}}",
                                                      "{", "}", "{nope}", "{user}"])), max_size=4).map("".join)


def _step() -> S[dict[Any, Any]]:
    json_body = st.recursive(st.one_of(st.none(), st.booleans(), NUMBERS, _template_text()),
                             lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                             max_leaves=10)
    return st.fixed_dictionaries({"name": mostly(WORD)}, optional={
        "method": mostly(METHOD), "path": mostly(_template_text().map(lambda s: "/" + s)),
        "url": mostly(st.sampled_from(["http://127.0.0.1:8000/x/{id}", "https://h/", "ftp://x"])),
        "headers": mostly(st.dictionaries(KEYS, mostly(_template_text()), max_size=3)),
        "json": json_body, "data": mostly(_template_text()),
        "capture": mostly(st.dictionaries(st.one_of(st.sampled_from(["token", "id", "vu", "x y"]), KEYS),
                                          mostly(st.sampled_from(["$.id", "$.a[0].b", "$['k']", "header:Location",
                                                                  "header:", "$.", "$[x]", "id"])), max_size=2)),
        "pause": mostly(st.one_of(st.floats(0, 300), NUMBERS)),
        "other": FIELD,
    })


def _flow_doc() -> S[Any]:
    steps = st.lists(mostly(_step()), max_size=4)
    doc = st.fixed_dictionaries({"steps": mostly(steps)}, optional={
        "setup": mostly(steps), "base_url": mostly(URL),
        "vars": mostly(st.dictionaries(KEYS, st.one_of(
            FIELD, NUMBERS, st.dates(), st.datetimes(), st.binary(max_size=4), st.sets(st.integers(), max_size=2)),
            max_size=3)),
        "extra": WILD, 7: WILD})
    return mostly(doc)


_YAML_TEXT = st.sampled_from([
    "steps: [{name: a, path: /x}]", "steps: &s [{name: a, path: /x, json: *s}]", "!!python/object:os.system {}",
    "steps:\n  - name: a\n    path: /x\n    json: !!binary aGk=", "steps: [{name: a, path: /x}]\n---\nmore: 1",
    "{steps: [{name: a, path: /x, json: {d: 2024-01-01}}], vars: {d: 2024-01-01}}", "? [a, b]\n: 1",
    "steps: [{name: a, path: '/{d}', json: '{d}'}]\nvars: {d: 2024-01-01 10:00:00}", "\t", "key: 'unterminated",
])


def flow_files() -> S[bytes]:
    def dump(doc: Any) -> str:
        return yaml.dump(doc, Dumper=yaml.SafeDumper, allow_unicode=True) if doc is not None else ""

    return damaged(st.one_of(_flow_doc().map(_safe_yaml(dump)), _YAML_TEXT))


def _safe_yaml(dump: Callable[[Any], str]) -> Callable[[Any], str]:
    def text(doc: Any) -> str:
        try:
            return dump(doc)
        except yaml.YAMLError:  # a value the safe dumper cannot write (a set of sets)
            return json.dumps(str(doc))

    return text


# -- Prometheus exposition -------------------------------------------------------------------------------

_METRIC_NAMES = st.sampled_from([
    "tracehound_db_pool_checked_out_connections", "hikaricp_connections_active", "db_pool_max_connections",
    "db_pool_wait_seconds", "pool_timeouts_total", "event_loop_lag_seconds", "process_cpu_seconds_total",
    "process_cpu_user_seconds_total", "process_resident_memory_bytes", "loop_lag_ms", "pool_size", "x", "1bad",
])


@st.composite
def _exposition(draw: st.DrawFn) -> str:
    out: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.one_of(_METRIC_NAMES, WORD))
        kind = draw(st.sampled_from(["gauge", "counter", "histogram", "summary", "untyped", "info", "bogus", ""]))
        if draw(st.booleans()):
            out.append(f"# HELP {name} {draw(FIELD)}")
        out.append(f"# TYPE {name} {kind}")
        for suffix in draw(st.lists(st.sampled_from(["", "_total", "_sum", "_count", "_bucket", "_created"]),
                                    max_size=4)):
            labels = draw(st.one_of(st.just(""), st.builds(lambda k, v: f'{{{k}="{v}"}}', WORD, FIELD),
                                    st.sampled_from(['{le="+Inf"}', '{le="0.5",pool="a"}', "{", '{a="\\"}'])))
            value = draw(st.one_of(NUMBER_TEXT, st.sampled_from(["NaN", "+Inf", "-Inf", "1e309"])))
            stamp = draw(st.sampled_from(["", " 1700000000000", " x"]))
            out.append(f"{name}{suffix}{labels} {value}{stamp}")
    if draw(st.booleans()):
        out.append("# EOF")
    return "\n".join(out) + draw(st.sampled_from(["\n", ""]))


PROMETHEUS_BODIES: S[bytes] = damaged(_exposition())
CONTENT_TYPES: S[str] = st.sampled_from(["", "text/plain; version=0.0.4", "application/openmetrics-text",
                                         "text/html", "application/json; charset=utf-8", "TEXT/PLAIN"])

# -- documents tracehound writes and reads back -----------------------------------------------------------


def _report_doc() -> S[str]:
    evidence = st.fixed_dictionaries({}, optional={k: mostly(v) for k, v in {
        "signal": WORD, "points": NUMBERS, "kind": st.sampled_from(["seen", "absent"]), "strength": NUMBERS,
        "exemplars": st.lists(FIELD, max_size=2)}.items()})
    hypothesis = st.fixed_dictionaries({}, optional={
        "id": mostly(WORD), "confidence": mostly(NUMBERS),
        "evidence_for": mostly(st.lists(mostly(evidence), max_size=2))})
    doc = st.fixed_dictionaries({"schema": mostly(st.sampled_from(
        ["tracehound.report/1", "tracehound.report/2", "tracehound.run/1", ""]))}, optional={
        "verdict": mostly(st.sampled_from(["reproduced", "not_reproduced"])),
        "case": mostly(st.fixed_dictionaries({}, optional={"url": mostly(URL), "headers": mostly(st.lists(WORD)),
                                                           "flow": mostly(FIELD), "budget_s": mostly(NUMBERS)})),
        "seconds": mostly(NUMBERS), "requests": mostly(NUMBERS), "hypotheses": mostly(st.lists(mostly(hypothesis),
                                                                                                 max_size=3)),
        "experiments": mostly(st.lists(mostly(st.fixed_dictionaries({}, optional={
            "name": mostly(WORD), "shape": WILD, "requests": mostly(NUMBERS), "run": mostly(FIELD)})), max_size=3)),
        "agents": WILD, "runs": mostly(st.lists(FIELD, max_size=2)), "tool": WILD})
    return mostly(doc).map(lambda d: json.dumps(d, allow_nan=True))


def report_files() -> S[bytes]:
    return damaged(_report_doc())


def _run_doc() -> S[str]:
    schema = mostly(st.sampled_from(["tracehound.run/1", "tracehound.run/9"]))
    doc = st.fixed_dictionaries({"schema": schema}, optional={
        "run_id": mostly(WORD), "kind": mostly(st.sampled_from(["probe", "import", "browser"])),
        "status": mostly(st.sampled_from(["running", "complete", "interrupted"])), "complete": WILD,
        "interrupted": WILD, "started_at": mostly(ISO_TIME), "target": WILD, "shape": WILD, "counts": WILD,
        "options": WILD})
    return mostly(doc).map(lambda d: json.dumps(d, allow_nan=True))


def run_meta_files() -> S[bytes]:
    return damaged(_run_doc())


#: ``--slo`` values.
SLO_TEXT: S[str] = st.one_of(
    st.lists(st.builds(lambda k, sp, op, n, u: f"{k}{sp}{op}{sp}{n}{u}",
                       st.sampled_from(["error_rate", "p50", "p90", "p95", "p99", "p100", "latency"]),
                       st.sampled_from(["", " "]), st.sampled_from(["<", "<=", ">", "="]), NUMBER_TEXT,
                       st.sampled_from(["", "%", "ms", "s", "m"])), max_size=4).map(",".join),
    FIELD)


#: ``--expect`` values (and a flow step's ``expect:``): each form, with values a hand gets wrong.
_EXPECT_ONE: S[str] = st.one_of(
    st.builds(lambda parts: "status=" + ",".join(parts),
              st.lists(st.one_of(st.sampled_from(["200", "2xx", "5XX", "6xx", "099", "", " 201 "]), NUMBER_TEXT),
                       max_size=4)),
    st.builds(lambda names: "keys=" + ",".join(names), st.lists(st.one_of(WORD, FIELD), max_size=4)),
    st.builds(lambda p: "body~" + p, st.one_of(FIELD, st.sampled_from(["(", "[a-", "\\", "*", "(?P<x>a)(?P<x>b)",
                                                                      '"total":\\s*\\d+', "(?i)error"]))),
    st.builds(lambda path, eq, v: f"${path}{eq}{v}",
              st.one_of(st.sampled_from([".items", ".items[0].id", "['a b']", "[-1]", "..x", ".", "[*]",
                                         "[99999999999]", ".a.b.c", "[", "['"]), FIELD),
              st.sampled_from(["", "=", " = "]),
              st.one_of(FIELD, NUMBER_TEXT, WILD.map(lambda v: json.dumps(v, allow_nan=True)),
                        st.integers(500, 2000).map(lambda n: "[" * n))),
    FIELD,
)
EXPECT_TEXTS: S[list[str]] = st.lists(_EXPECT_ONE, min_size=1, max_size=4)
#: Answers an expectation judges: a status and a body (JSON mostly, some of it hostile).
ANSWERS: S[list[tuple[int, bytes]]] = st.lists(st.tuples(
    st.integers(100, 599),
    st.one_of(WILD.map(lambda v: json.dumps(v, allow_nan=True).encode()), st.binary(max_size=40), NASTY,
              st.just(b"[" * 5000))), max_size=4)

#: The user's words for what goes wrong: the catalog's kind of phrases, run together, cut and damaged.
_SYMPTOM_WORDS = st.sampled_from([
    "fails", "sometimes", "under load", "after a quiet spell", "504", "gateway", "timeout", "connection reset",
    "an empty {}", "for some customers", "adding logging made it go away", "never when it is busy", "slow",
    "500", "retry works", "at peak", "every morning", "twice", "not", "no", "n't", "—", ";", ".", ",", "!",
])
SYMPTOM_TEXT: S[str] = st.one_of(
    st.lists(st.one_of(_SYMPTOM_WORDS, FIELD), max_size=30).map(" ".join),
    st.text(max_size=300), st.integers(1900, 2100).map(lambda n: "fails " * n), st.just(""), st.just(" \n\t "))

#: ``data:`` files of a flow (CSV, TSV, JSON lines, a JSON array), as a hand or a script writes them.
_DATA_CSV = lines_of(st.lists(st.one_of(WORD, FIELD, NUMBER_TEXT), min_size=1, max_size=4).map(",".join),
                     header=st.lists(st.one_of(WORD, WORD, st.just(""), FIELD), min_size=1, max_size=4).map(",".join))
_DATA_JSONL = lines_of(st.one_of(st.dictionaries(WORD, WILD, max_size=4), WILD).map(
    lambda v: json.dumps(v, allow_nan=True)))
_DATA_ARRAY = st.lists(st.one_of(st.dictionaries(WORD, WILD, max_size=3), WILD), max_size=6).map(
    lambda v: json.dumps(v, allow_nan=True))
DATA_FILES: S[tuple[bytes, str]] = st.tuples(
    damaged(st.one_of(_DATA_CSV, _DATA_JSONL, _DATA_ARRAY, st.just("[" * 5000), st.just('{"a":' * 5000))),
    st.sampled_from([".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt", ""]))
