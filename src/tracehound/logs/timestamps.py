"""Timestamps of log lines, with their time zones, as epoch nanoseconds.

Log timestamps come in a handful of shapes: ISO 8601 (Python logging, PostgreSQL, gunicorn,
JSON loggers, nginx's ``$time_iso8601``), the common log format of access logs, nginx's error
log, Redis, and epoch numbers in structured logs. A timestamp that carries an offset or a known
zone abbreviation is exact. One without (Python logging's default, nginx's error log) is read
in the zone the caller names, and by default in this machine's local time zone, which is what
the process that wrote it most likely used; :class:`Clock` counts them so the report can say so.

Parsing ``datetime`` objects per line would dominate the cost of reading a log, so the part of a
timestamp down to the second is converted once and cached: a busy log repeats each second
thousands of times.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NS = 1_000_000_000
#: Epoch seconds of the times a timestamp may name: those Python's datetime can write back (years 1-9999).
_SECONDS = (int(datetime(1, 1, 2, tzinfo=UTC).timestamp()), int(datetime(9999, 12, 30, tzinfo=UTC).timestamp()))
MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

#: Zone abbreviations with one accepted meaning. Ambiguous ones (IST, CST in China) are absent:
#: a timestamp carrying one is read like a naive one, in the caller's zone.
ZONES: dict[str, int] = {
    "Z": 0, "UTC": 0, "UT": 0, "GMT": 0, "WET": 0, "WEST": 3600, "BST": 3600, "CET": 3600, "CEST": 7200,
    "MET": 3600, "MEST": 7200, "EET": 7200, "EEST": 10800, "MSK": 10800, "EST": -18000, "EDT": -14400,
    "CDT": -18000, "MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200, "AKST": -32400,
    "AKDT": -28800, "HST": -36000, "JST": 32400, "KST": 32400, "HKT": 28800, "SGT": 28800,
    "AEST": 36000, "AEDT": 39600, "ACST": 34200, "AWST": 28800, "NZST": 43200, "NZDT": 46800,
}

# Year-month-day first (ISO 8601, Python logging, PostgreSQL, gunicorn, nginx error log with '/').
_ZONE = r"(?:(?:" + "|".join(sorted(ZONES, key=len, reverse=True)) + r")\b|[+-]\d{2}:?\d{2}\b)"
_YMD = (r"(?P<y>\d{4})[-/](?P<mo>\d{2})[-/](?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
        rf"(?:[.,](?P<f>\d{{1,9}}))?(?: ?(?P<z>{_ZONE}))?")
# Day-month-year: the common log format (10/Oct/2026:13:55:36 +0000) and Redis (01 Dec 2026 23:52:38.552).
_DMY = (r"(?P<d2>\d{2})[/ ](?P<mon>[A-Z][a-z]{2})[/ ](?P<y2>\d{4})[: ](?P<h2>\d{2}):(?P<mi2>\d{2}):(?P<s2>\d{2})"
        r"(?:\.(?P<f2>\d{1,9}))?(?: (?P<z2>[+-]\d{4})\b)?")

#: A timestamp at the very start of a line, optionally in brackets, optionally after a Redis
#: ``pid:role`` prefix. The match's end is where the rest of the line begins.
LEADING = re.compile(rf"\[?(?:\d+:[A-Z] )?(?:{_YMD}|{_DMY})\]?[ \t]*")
#: A whole value holding a timestamp (a JSON or logfmt field).
WHOLE = re.compile(rf"\s*(?:{_YMD}|{_DMY})\s*$")


def parse_zone(text: str | None) -> tzinfo | None:
    """A zone given by a person: None (this machine's local time), an IANA name, UTC or ±HH:MM."""
    if text is None or text.strip().lower() in ("", "local"):
        return None
    t = text.strip()
    if t.upper() in ZONES:
        return timezone(timedelta(seconds=ZONES[t.upper()]))
    m = re.fullmatch(r"(?:UTC)?([+-])(\d{1,2}):?(\d{2})?", t)
    if m:
        secs = (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60) * (1 if m.group(1) == "+" else -1)
        return timezone(timedelta(seconds=secs))
    try:
        return ZoneInfo(t)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {text!r} (give an IANA name such as Europe/Paris, or +02:00)") from None


def local_zone_name() -> str:
    """This machine's local zone, as a person reads it (``UTC+01:00 (CET)``)."""
    now = datetime.now().astimezone()
    off = now.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    mins = abs(int(off.total_seconds())) // 60
    return f"UTC{sign}{mins // 60:02d}:{mins % 60:02d} ({now.tzname()})"


#: A timestamp's date and time fields as its regex captured them: (y, mo, d, h, mi, s, zone) or
#: (d, mon, y, h, mi, s, zone); ``str | Any`` is what :meth:`re.Match.groups` gives (Any: a group that did not match).
_Key = tuple[str | Any, ...]
#: What :meth:`Clock.leading` keeps of the last timestamped line: its prefix up to the seconds, the epoch ns
#: of that prefix, whether it was naive, the fraction's span, where the rest starts, what lies between the
#: fraction and the rest, and the resolution.
_Fast = tuple[str, int, bool, int, int, int, str, int]


@dataclass
class Clock:
    """Turns timestamp matches into epoch ns; remembers how many lacked a zone.

    ``zone`` is the zone naive timestamps are read in; None means this machine's local time.
    """

    zone: tzinfo | None = None
    naive: int = 0
    zoned: int = 0
    _cache: dict[_Key, int] = field(default_factory=dict)
    _whole: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    _fast: _Fast | None = None

    def from_match(self, m: re.Match[str]) -> tuple[int, int] | None:
        """(epoch ns, resolution ns) of a :data:`LEADING` or :data:`WHOLE` match; None if invalid."""
        g = m.groups()
        if g[0] is not None:
            key = g[:6] + g[7:8]
            frac = g[6]
        else:
            key = g[8:14] + g[15:16]
            frac = g[14]
        base = self._cache.get(key)
        if base is None:
            base = self._key_ns(key)
            if base is None:
                return None
            if len(self._cache) > 20_000:
                self._cache.clear()
            self._cache[key] = base
        if base < 0:  # marks "naive" in the cache: the zone was unknown
            base = -base - 1
            self.naive += 1
        else:
            self.zoned += 1
        if frac:
            return base + int(frac.ljust(9, "0")[:9]), 10 ** (9 - min(len(frac), 9))
        return base, NS

    def leading(self, line: str) -> tuple[int, int, int] | None:
        """(epoch ns, resolution ns, where the rest of the line starts) of a line's leading timestamp.

        Consecutive lines of a busy log share their timestamp down to the second: when a line
        starts like the previous timestamped one, only its fraction is read, without a regex.
        """
        fast = self._fast
        if fast is not None and line.startswith(fast[0]):
            _, base, naive, lo, hi, end, between, res = fast
            frac = line[lo:hi]
            if (lo == hi or frac.isdigit()) and line.startswith(between, hi):
                if naive:
                    self.naive += 1
                else:
                    self.zoned += 1
                return (base + int(frac.ljust(9, "0")) if frac else base), res, end
        m = LEADING.match(line)
        if m is None:
            return None
        naive_before = self.naive
        got = self.from_match(m)
        if got is None:
            return None
        sec, frac_group = (6, 7) if m.start(1) >= 0 else (14, 15)
        lo, hi = m.span(frac_group) if m.start(frac_group) >= 0 else (m.end(sec), m.end(sec))
        base = got[0] - (int(line[lo:hi].ljust(9, "0")) if hi > lo else 0)
        self._fast = (line[: m.end(sec)], base, self.naive > naive_before, lo, hi, m.end(), line[hi : m.end()], got[1])
        return got[0], got[1], m.end()

    def _key_ns(self, key: _Key) -> int | None:
        """Epoch ns of (y, mo, d, h, mi, s, zone) or (d, mon, y, h, mi, s, zone) strings; naive as ``-ns - 1``."""
        a, b, c, h, mi, s, z = key
        if b.isdigit():
            y, mo, d = int(a), int(b), int(c)
        else:
            mon = MONTHS.get(b.lower())
            if mon is None:
                return None
            y, mo, d = int(c), mon, int(a)
        return self._convert(y, mo, d, int(h), int(mi), int(s), z)

    def _convert(self, y: int, mo: int, d: int, h: int, mi: int, s: int, z: str | None) -> int | None:
        """Epoch ns of a wall-clock time; a naive result is stored as ``-ns - 1``."""
        try:
            offset = _offset(z)
            if offset is not None:
                secs = calendar.timegm((y, mo, d, h, mi, min(s, 59), 0, 0, 0)) - offset
                return secs * NS if _SECONDS[0] < secs < _SECONDS[1] else None
            if self.zone is None:
                secs = int(time.mktime((y, mo, d, h, mi, min(s, 59), 0, 0, -1)))
            else:
                secs = int(datetime(y, mo, d, h, mi, min(s, 59), tzinfo=self.zone).timestamp())
        except (ValueError, OverflowError):
            return None
        return -(secs * NS) - 1 if _SECONDS[0] < secs < _SECONDS[1] else None

    def parse(self, text: str) -> tuple[int, int] | None:
        """(epoch ns, resolution ns) of a whole timestamp value, or of an epoch number (s, ms, µs, ns).

        Whole values are cached as they are: an access log writes the same second many times.
        """
        hit = self._whole.get(text)
        if hit is not None:
            if hit[2]:
                self.naive += 1
            else:
                self.zoned += 1
            return hit[0], hit[1]
        m = WHOLE.match(text)
        if m is None:
            return self.from_number(text)
        naive_before = self.naive
        got = self.from_match(m)
        if got is not None:
            if len(self._whole) > 10_000:
                self._whole.clear()
            self._whole[text] = (got[0], got[1], self.naive > naive_before)
        return got

    def from_number(self, value: object) -> tuple[int, int] | None:
        """An epoch number, its unit guessed from its size (seconds around now have 10 digits)."""
        if not isinstance(value, (int, float, str)):
            return None
        try:
            x = float(value)
        except ValueError:
            return None
        if not x > 0:
            return None
        for scale in (NS, 1_000_000, 1000, 1):  # seconds, ms, µs, ns
            ns = x * scale
            if 1e17 < ns < 1e19:  # 1973 .. 2286
                self.zoned += 1
                return int(ns), max(1, NS // scale)
        return None


def _offset(z: str | None) -> int | None:
    """Seconds east of UTC of a zone designator; None when there is none or it is not known."""
    if not z:
        return None
    if z[0] in "+-":
        digits = z[1:].replace(":", "")
        secs = int(digits[:2]) * 3600 + int(digits[2:4]) * 60
        return secs if z[0] == "+" else -secs
    return ZONES.get(z)


def iso_ns(ns: int) -> str:
    """An epoch-ns time as ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(ns / NS, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


__all__ = ["LEADING", "NS", "WHOLE", "ZONES", "Clock", "iso_ns", "local_zone_name", "parse_zone"]
