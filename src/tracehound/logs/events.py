"""Events: the lines of a log assembled into what one log call wrote.

Most events are one line. A Python traceback is one event with the line that introduced it
(``ERROR: Exception in ASGI application``, a ``log.exception`` message): its frames are skipped,
its exception lines (``sqlalchemy.exc.TimeoutError: QueuePool limit …``, and those of chained
exceptions) are kept, because they say what went wrong. Indented lines continue the event before
them, and so do PostgreSQL's DETAIL, HINT, STATEMENT and CONTEXT lines.

Each event keeps its time when the line had one. An event without (uvicorn's own lines, a bare
traceback on stderr) gets ``ts=None`` and is placed later between its timed neighbours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from tracehound.logs.formats import (
    ACCESS,
    ACCESS_EXTRAS,
    ACCESS_INLINE,
    ERROR,
    INFO,
    LEVELS,
    PAIRS,
    PG_SECONDARY,
    REQUEST_ID_KEYS,
    WARNING,
    Format,
    flatten,
    level_of,
    schema,
    unquote,
)
from tracehound.logs.timestamps import Clock

#: Exception lines kept per event (a chain of three is already unusual).
MAX_EXCEPTIONS = 4
#: Lines after an exception line that may still belong to it (SQLAlchemy's "[SQL: …]" and
#: "(Background on this error …)", a multi-line message); past this, a new event starts.
MAX_TAIL = 40
MAX_LINE = 4000
_CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
_TRACEBACK = ("Traceback (most recent call last)", "Exception Group Traceback")
#: A line that certainly begins a new event: a timestamp, a level at the very start, a JSON object.
_START = re.compile(r"\[?\d{4}[-/]\d\d[-/]\d\d[T ]|\d+:[MCSX] \d|\{"
                    r"|(?:INFO|ERROR|WARNING|WARN|DEBUG|CRITICAL|FATAL)[:\s]|\S+ - \S+ \[")


class Event:
    """One log event. ``ts`` is epoch ns (None when the line had no time), ``res`` its resolution;
    ``level`` is -1 when it is to be read from the message."""

    __slots__ = (
        "access",
        "exc",
        "level",
        "line",
        "lines",
        "message",
        "method",
        "path",
        "res",
        "rid",
        "status",
        "ts",
        "upstream",
    )

    def __init__(self, line: int, message: str, ts: int | None = None, res: int = 0, level: int = 0) -> None:
        self.line = line
        self.message = message
        self.ts = ts
        self.res = res
        self.level = level
        self.exc: list[str] | None = None
        self.rid: str | None = None
        self.status = 0
        self.method: str | None = None
        self.path: str | None = None
        self.upstream: str | None = None
        self.access = False
        self.lines = 1

    def text(self) -> str:
        """The message and its exception lines, as signatures see them."""
        if not self.exc:
            return self.message
        return self.message + "\n" + "\n".join(self.exc)

    def summary(self, limit: int = 300) -> str:
        """One line for a person: the message, then the last exception line."""
        msg = self.message.strip()
        if self.exc:
            last = self.exc[-1].strip()
            msg = last if msg.startswith("Traceback") else f"{msg} ⏎ {last}"
        return msg if len(msg) <= limit else msg[: limit - 1] + "…"


def assemble(lines: Iterable[str], fmt: Format, clock: Clock) -> Iterator[Event]:
    """The events of a file's lines (already decoded, newline at the end or not)."""
    structured = {"json": json_event, "logfmt": logfmt_event, "access": access_event}.get(fmt.parser)
    postgres = fmt.kind == "postgres"
    cur: Event | None = None
    state = 0  # 0: normal · 1: in a traceback's frames · 2: after an exception line
    tail = 0
    for no, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line:
            continue
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
        c0 = line[0]
        if state == 1:
            # A traceback's first line made ``cur`` an event with an exception: states 1 and 2 follow it.
            assert cur is not None and cur.exc is not None
            if c0 == " " or c0 == "\t":
                cur.lines += 1
                continue
            exc = cur.exc
            if len(exc) < MAX_EXCEPTIONS:
                exc.append(line[:500])
            cur.lines += 1
            state, tail = 2, 0
            continue
        if c0 == " " or c0 == "\t":
            if cur is not None:
                cur.lines += 1
            continue
        if c0 == "T" and line.startswith(_TRACEBACK) or c0 == "E" and line.startswith(_TRACEBACK):
            if cur is None or not (state == 2 or (cur.exc is None and _may_introduce(cur))):
                if cur is not None:
                    yield cur
                cur = Event(no, "Traceback (most recent call last):", level=ERROR)
            if cur.exc is None:
                cur.exc = []
                cur.level = max(cur.level, ERROR)
            cur.lines += 1
            state = 1
            continue
        if state == 2:
            assert cur is not None
            if line.startswith(_CHAIN):
                cur.lines += 1
                continue
            if tail < MAX_TAIL and not _START.match(line):
                tail += 1
                cur.lines += 1
                continue
            state = 0
        if structured is not None and (ev := structured(line, no, clock)) is not None:
            if cur is not None:
                yield cur
            cur = ev
            continue
        if postgres and cur is not None and PG_SECONDARY.search(line, 0, 160):
            cur.lines += 1
            continue
        if cur is not None:
            yield cur
        cur = text_event(line, no, clock)
    if cur is not None:
        yield cur


def text_event(line: str, no: int, clock: Clock) -> Event:
    """A text line: its leading timestamp, if any; the level is read later, once per distinct message."""
    t = clock.leading(line)
    if t is not None:
        return Event(no, line[t[2]:] or line, t[0], t[1], -1)
    return Event(no, line, level=-1)


def inline_access(message: str) -> tuple[str, str, int] | None:
    """Method, path and status of an access line inside a text log (uvicorn's), or None."""
    if '" ' not in message or "HTTP/" not in message:
        return None
    a = ACCESS_INLINE.search(message)
    return (a.group("method"), a.group("path"), int(a.group("status"))) if a is not None else None


def access_event(line: str, no: int, clock: Clock) -> Event | None:
    """A line of an access log (common, combined, or customised with key=value fields after)."""
    m = ACCESS.match(line)
    if m is None:
        return None
    status = int(m.group("status"))
    t = clock.parse(m.group("time"))
    ev = Event(no, f'{m.group("method")} {m.group("path")} {status}', t[0] if t else None, t[1] if t else 0,
               status_level(status))
    ev.access = True
    ev.method, ev.path, ev.status = m.group("method"), m.group("path"), status
    tail = m.group("tail")
    if "=" in tail:
        for key, quoted, bare in ACCESS_EXTRAS.findall(tail):
            value = quoted or bare
            if value in ("", "-"):
                continue
            if key in REQUEST_ID_KEYS:
                ev.rid = value
            else:
                ev.upstream = value.rsplit(",", 1)[-1].strip().rsplit(" : ", 1)[-1]
    return ev


def json_event(line: str, no: int, clock: Clock) -> Event | None:
    """A JSON object on one line; anything else is left to the text reader."""
    if line[0] != "{":
        return None
    try:
        d = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(d, dict):
        return None
    if any(type(v) is dict for v in d.values()):
        d = flatten(d)
    return _fields_event(d, no, clock, line)


def logfmt_event(line: str, no: int, clock: Clock) -> Event | None:
    pairs = PAIRS.findall(line)
    if len(pairs) < 2:
        return None
    return _fields_event({k: unquote(v) for k, v in pairs}, no, clock, line)


def _fields_event(d: dict[str, Any], no: int, clock: Clock, line: str) -> Event:
    """An event from a structured record's fields, whatever names its logger gave them."""
    k_ts, k_level, k_msg, k_exc, k_err, k_status, k_method, k_path, k_up, k_rid = schema(tuple(d))
    t = None
    if k_ts is not None:
        ts_v = d[k_ts]
        if isinstance(ts_v, str):
            t = clock.parse(ts_v)
        elif isinstance(ts_v, (int, float)) and not isinstance(ts_v, bool):
            t = clock.from_number(ts_v)
    lv = d[k_level] if k_level is not None else None
    if isinstance(lv, str):
        level = LEVELS.get(lv.lower(), 0)
    elif isinstance(lv, (int, float)) and not isinstance(lv, bool):
        level = ERROR if lv >= 50 else WARNING if lv >= 40 else INFO if lv >= 30 else 10
    else:
        level = 0
    msg = d[k_msg] if k_msg is not None else None
    err = d[k_err] if k_err is not None else None
    status = _int(d[k_status]) if k_status is not None else 0
    method = d[k_method] if k_method is not None else None
    path = d[k_path] if k_path is not None else None
    if (msg is None or msg == "") and status and (method or path):
        msg = f"{method or ''} {path or ''} {status}".strip()
    if msg is None or msg == "":
        msg = err if isinstance(err, str) and err else line
    ev = Event(no, str(msg), t[0] if t else None, t[1] if t else 0, level)
    exc = d[k_exc] if k_exc is not None else None
    if isinstance(exc, str) and exc.strip():
        ev.exc = _exception_lines(exc)
        ev.level = max(ev.level, ERROR)
    elif isinstance(err, str) and err and err != msg:
        ev.exc = [err[:500]]
    if status and (method or path):
        ev.access = True
        ev.status = status
        ev.method = str(method) if method else None
        if isinstance(path, str):
            ev.path = path.split(" ")[1] if path.count(" ") == 2 else path  # "GET /x HTTP/1.1"
        ev.level = max(ev.level, status_level(status))
        up = d[k_up] if k_up is not None else None
        if isinstance(up, str) and up not in ("", "-"):
            ev.upstream = up.rsplit(",", 1)[-1].strip()
    if k_rid is not None and d[k_rid] not in (None, ""):
        ev.rid = str(d[k_rid])
    return ev


def _exception_lines(tb: str) -> list[str]:
    """The exception lines of a formatted traceback: the unindented lines after frames."""
    out: list[str] = []
    after_frames = False
    for ln in tb.splitlines():
        if not ln.strip():
            continue
        if ln[0] in " \t":
            after_frames = True
            continue
        if ln.startswith(("Traceback", *_CHAIN)):
            continue
        if after_frames or not out:
            out.append(ln[:500])
            after_frames = False
    return out[-MAX_EXCEPTIONS:] or [tb.strip().splitlines()[-1][:500]]


def _may_introduce(ev: Event) -> bool:
    """Whether a traceback right after ``ev`` belongs to it: not after a plain info or debug line."""
    level = ev.level if ev.level >= 0 else level_of(ev.message)
    return level == 0 or level >= WARNING


def status_level(status: int) -> int:
    """The severity an HTTP status stands for: 5xx error, 4xx warning, else info."""
    return ERROR if status >= 500 else WARNING if status >= 400 else INFO


def _int(v: object) -> int:
    if not isinstance(v, (int, float, str)):
        return 0
    try:
        n = int(v)
    except ValueError:
        return 0
    return n if 100 <= n <= 599 else 0


__all__ = ["Event", "access_event", "assemble", "inline_access", "json_event", "logfmt_event", "status_level",
           "text_event"]
