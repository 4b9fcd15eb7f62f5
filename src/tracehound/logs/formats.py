"""Log formats: which one a file is, and the fields of one line of each.

A file's format is detected from its first lines, once: JSON lines, logfmt, an access log
(nginx's or gunicorn's common/combined format, or any format that starts with the client
address and has the bracketed time and quoted request line), or text. Text covers every log
whose lines start with a timestamp, a level or nothing: Python logging, uvicorn, gunicorn's
error log, nginx's error log, PostgreSQL, Redis. The *kind* (``nginx_error``, ``postgres`` …)
is what a person reads and what decides which signatures the file could show; lines that do
not fit the file's format are read as text, so a traceback in a JSON log is not lost.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tracehound.logs.timestamps import LEADING

#: kind → the role it plays (see ``seen_in`` in signatures.yaml)
KINDS: dict[str, str] = {
    "python": "app", "uvicorn": "app", "gunicorn": "app", "jsonl": "app", "logfmt": "app", "text": "app",
    "nginx_access": "gateway", "access": "gateway", "nginx_error": "gateway",
    "postgres": "database", "redis": "cache",
}

#: Severity numbers (Python logging's scale).
DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
LEVELS: dict[str, int] = {
    "trace": DEBUG, "debug": DEBUG, "info": INFO, "information": INFO, "notice": INFO, "log": INFO,
    "warn": WARNING, "warning": WARNING, "error": ERROR, "err": ERROR, "exception": ERROR,
    "critical": CRITICAL, "crit": CRITICAL, "fatal": CRITICAL, "panic": CRITICAL, "alert": CRITICAL,
    "emerg": CRITICAL, "emergency": CRITICAL,
}
#: A level word near the start of a text line: ``ERROR:``, ``[error]``, ``[ERROR]``, ``WARNING``.
LEVEL = re.compile(
    r"(?<![\w-])\[?(DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL|PANIC|LOG|"
    r"debug|info|notice|warn|error|crit|alert|emerg)\]?(?::|(?=\s))")
#: PostgreSQL lines that belong to the message before them (same session).
PG_SECONDARY = re.compile(r"(?:^|\s)(?:DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):  ")

# Access logs: client, then anything up to [time], then "METHOD target PROTO" status size.
ACCESS = re.compile(
    r'(?P<client>\S+) .*?\[(?P<time>[^\]]{10,40})\] "(?P<method>[A-Z]{3,10}) (?P<path>\S+)(?: HTTP/[\d.]+)?" '
    r"(?P<status>\d{3}) (?P<size>\d+|-)(?P<tail>.*)")
#: An access line inside a text log (uvicorn: ``127.0.0.1:5555 - "GET /x HTTP/1.1" 500``).
ACCESS_INLINE = re.compile(r'"(?P<method>[A-Z]{3,10}) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})\b')
#: The fields of a customised access log's tail that matter: the upstream and the request id.
ACCESS_EXTRAS = re.compile(
    r'(?<![\w.])(ua|upstream_addr|upstream|rid|request_id|req_id|x_request_id)=(?:"([^"]*)"|(\S*))')
#: key=value pairs of logfmt. A key starts where a word does and gives back no character, so a long
#: line without ``=`` costs one pass, not one pass per character.
PAIRS = re.compile(r'(?<![\w.@-])([A-Za-z_][\w.@-]*+)=("(?:[^"\\]|\\.)*+"|\S*)')
#: A request id written in a text line (``request_id=…``, ``rid: …``, ``X-Request-ID …``).
REQUEST_ID_TEXT = re.compile(r"(?i:\b(?:x-)?req(?:uest)?[_-]?id\b|\brid\b|\bcorrelation[_-]?id\b)"
                             r"[\"']?[=:\s]\s*[\"']?([\w.:-]{6,80})")

TS_KEYS = ("timestamp", "time", "ts", "@timestamp", "datetime", "asctime", "date", "t", "logged_at", "eventTime")
LEVEL_KEYS = ("level", "levelname", "severity", "lvl", "log.level", "loglevel", "level_name")
MESSAGE_KEYS = ("message", "msg", "event", "log", "text", "@message", "short_message")
EXCEPTION_KEYS = ("exc_info", "exception", "exc_text", "stack_trace", "stack", "traceback", "error.stack",
                  "error.stack_trace")
ERROR_KEYS = ("error", "err", "error.message")
REQUEST_ID_KEYS = ("request_id", "requestId", "req_id", "reqId", "x_request_id", "request.id", "http.request_id",
                   "rid", "correlation_id", "correlationId")
STATUS_KEYS = ("status", "status_code", "statusCode", "http.status_code", "response.status", "http_status")
METHOD_KEYS = ("method", "request_method", "http.method", "http.request.method")
PATH_KEYS = ("path", "uri", "request_uri", "url", "http.url", "http.path", "url.path", "request")
UPSTREAM_KEYS = ("upstream_addr", "upstream", "ua", "backend", "server_addr")


@dataclass(frozen=True)
class Format:
    """What detection found: the line parser to use and the kind to report."""

    parser: str  # json | logfmt | access | text
    kind: str

    @property
    def role(self) -> str:
        return KINDS.get(self.kind, "app")


_KIND_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("nginx_error", re.compile(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: ")),
    ("postgres", re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[\d+\]"
                            r".*?\b(?:LOG|ERROR|FATAL|WARNING|PANIC|DETAIL|STATEMENT|HINT):  ")),
    ("gunicorn", re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")),
    ("redis", re.compile(r"\d+:[MCSX] \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d+ [*#.-] ")),
    ("uvicorn", re.compile(r"(?:INFO|ERROR|WARNING|DEBUG|CRITICAL):\s{2,}")),
    ("python", re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\b")),
)


def detect(sample: list[str]) -> Format:
    """The format of a file from its first non-empty lines (a majority vote, text by default)."""
    lines = [ln for ln in sample if ln.strip()][:200]
    if not lines:
        return Format("text", "text")
    n = len(lines)
    json_ok = sum(1 for ln in lines if ln.lstrip().startswith("{") and _is_json_object(ln))
    if json_ok >= max(1, 0.6 * n):
        return Format("json", "jsonl")
    access = sum(1 for ln in lines if ACCESS.match(ln))
    if access >= max(1, 0.6 * n):
        nginx = any("upstream" in ln or " ua=" in ln or " us=" in ln for ln in lines)
        return Format("access", "nginx_access" if nginx else "access")
    logfmt = sum(1 for ln in lines if _is_logfmt(ln))
    if logfmt >= max(1, 0.6 * n):
        return Format("logfmt", "logfmt")
    votes = {kind: sum(1 for ln in lines if rx.match(ln)) for kind, rx in _KIND_HINTS}
    kind, best = max(votes.items(), key=lambda kv: kv[1])
    return Format("text", kind if best > 0 else "text")


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _is_logfmt(line: str) -> bool:
    if LEADING.match(line):  # a timestamped text line with a few k=v in its message is still text
        return False
    pairs = PAIRS.findall(line)
    keys = {k.lower() for k, _ in pairs}
    return len(pairs) >= 3 and bool(keys & {"level", "lvl", "msg", "message", "time", "ts", "t"})


def level_of(text: str) -> int:
    """The severity named near the start of a text line, 0 if none."""
    m = LEVEL.search(text, 0, 60)
    return LEVELS.get(m.group(1).lower(), 0) if m else 0


def flatten(d: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Nested JSON objects as dotted keys (two levels deep: ``http.status_code``)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and depth < 2:
            out.update(flatten(v, key + ".", depth + 1))
        else:
            out[key] = v
    return out


#: The roles a structured record's fields can play, in the order :func:`schema` returns their keys.
ROLES = (TS_KEYS, LEVEL_KEYS, MESSAGE_KEYS, EXCEPTION_KEYS, ERROR_KEYS, STATUS_KEYS, METHOD_KEYS, PATH_KEYS,
         UPSTREAM_KEYS, REQUEST_ID_KEYS)
_SCHEMAS: dict[tuple[str, ...], tuple[str | None, ...]] = {}


def schema(keys: tuple[str, ...]) -> tuple[str | None, ...]:
    """Which key plays each role in records with these keys (a logger writes the same keys every time)."""
    got = _SCHEMAS.get(keys)
    if got is None:
        present = set(keys)
        got = tuple(next((k for k in role if k in present), None) for role in ROLES)
        if len(_SCHEMAS) > 10_000:
            _SCHEMAS.clear()
        _SCHEMAS[keys] = got
    return got


def first(fields: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        v = fields.get(k)
        if v not in (None, ""):
            return v
    return None


def unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return v[1:-1].replace('\\"', '"')
    return v


__all__ = ["ACCESS", "ACCESS_EXTRAS", "ACCESS_INLINE", "CRITICAL", "DEBUG", "ERROR", "INFO", "KINDS", "LEVEL", "LEVELS",
           "PAIRS", "PG_SECONDARY", "REQUEST_ID_TEXT", "WARNING", "Format", "detect", "first", "flatten", "level_of",
           "schema", "unquote"]
