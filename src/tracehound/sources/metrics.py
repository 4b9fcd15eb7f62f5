"""Scraping a service's Prometheus text endpoint (``--metrics URL``) in the background.

:class:`MetricsSampler` scrapes the endpoint (such as the ``/metrics`` of
:mod:`tracehound.instrument`) every ``interval_s`` and keeps, per scrape, only the series it knows
how to read (:mod:`tracehound.sources.metric_roles`), as a frozen :class:`Scrape` of role values.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tracehound.errors import BadSource, SourceUnreachable
from tracehound.redact import redact_url
from tracehound.sources.metric_roles import RoleValue, read_families
from tracehound.sources.sampler import Sampler, one_line

#: A scrape answer larger than this is not read (a metrics page is a few hundred KiB at most).
MAX_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Scrape:
    """One scrape: the value of each role tracehound recognised."""

    roles: Mapping[str, RoleValue]


@dataclass(frozen=True)
class MetricsInfo:
    """Where the series came from, the metric names read for each role, and how many families there were."""

    where: str
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    families: int = 0
    #: Seconds between the points of a Prometheus query (None for scrapes).
    step_s: float | None = None


class NotPrometheus(Exception):
    """The endpoint answered, but not with Prometheus text (HTML, JSON, an error page)."""


class BadAnswer(Exception):
    """The endpoint answered with an HTTP error; ``final`` when retrying will not help (404, 401)."""

    def __init__(self, message: str, final: bool) -> None:
        super().__init__(message)
        self.final = final


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; :class:`BadSource` otherwise."""
    text = (url or "").strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadSource(f"not an http(s) URL: {redact_url(text)!r}",
                        hint="give the metrics endpoint, e.g. http://127.0.0.1:8000/metrics")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadSource(f"bad port in {redact_url(text)!r}") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def parse_text(body: bytes, content_type: str = "") -> list[Any]:
    """The metric families of a Prometheus text answer; :class:`NotPrometheus` when it is something else."""
    from prometheus_client.parser import text_string_to_metric_families

    ctype = content_type.split(";", maxsplit=1)[0].strip().lower()
    if ctype in ("text/html", "application/json", "application/xml", "text/xml", "image/png"):
        raise NotPrometheus(f"it answered {ctype}, not Prometheus text")
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith(("<", "{", "[")):
        raise NotPrometheus("it answered HTML or JSON, not Prometheus text")
    try:
        families = list(text_string_to_metric_families(text))
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as e:  # a 3,000-digit bucket
        raise NotPrometheus(f"its answer does not parse as Prometheus text ({one_line(e)[:80]})") from None
    if not families:
        raise NotPrometheus("its answer holds no metric")
    return families


def connect_error(url: str, e: BaseException) -> BadSource | SourceUnreachable:
    """A scrape failure as the error a user can act on: the wrong endpoint (2), unreachable (3)."""
    where = redact_url(url)
    msg = one_line(e)
    low = msg.lower()
    if isinstance(e, NotPrometheus) or any(k in low for k in ("prometheus text", "holds no metric", "larger than")):
        return BadSource(f"{where} is not a Prometheus metrics endpoint: {msg}",
                         hint="give the URL that serves Prometheus text, usually …/metrics")
    if isinstance(e, BadAnswer) or msg.startswith("it answered HTTP"):
        return BadSource(f"{where} cannot be scraped: {msg}")
    return SourceUnreachable(f"cannot scrape {where}: {msg}", hint="is the service running and reachable?")


class MetricsSampler(Sampler[http.client.HTTPConnection, Scrape, MetricsInfo]):
    """Scrapes a Prometheus text endpoint; see :class:`~tracehound.sources.sampler.Sampler`."""

    source = "metrics endpoint"

    def __init__(self, url: str, interval_s: float = 0.5, timeout_s: float = 3.0) -> None:
        super().__init__(interval_s, heavy_every_s=3600.0)
        try:
            import prometheus_client  # noqa: F401  # only to fail early, with a hint, when it is missing
        except ImportError:  # pragma: no cover - a dependency of the instrument and lab extras
            raise BadSource("the metrics agent needs prometheus-client",
                            hint="pip install 'prometheus-client>=0.20'") from None
        self.scheme, self.host, self.port, self.path = split_url(url)
        self.url = url.strip()
        self.address = self.url
        self.timeout_s = timeout_s
        self.driver_errors = (OSError, http.client.HTTPException, NotPrometheus, BadAnswer)
        self._roles: dict[str, set[str]] = {}
        self._families = 0

    def info(self) -> MetricsInfo:
        return MetricsInfo(redact_url(self.url), {r: tuple(sorted(n)) for r, n in self._roles.items()}, self._families)

    def connect_error(self, error: BaseException) -> BadSource | SourceUnreachable:
        return connect_error(self.url, error)

    def _fatal(self, error: BaseException) -> bool:
        return isinstance(error, NotPrometheus) or (isinstance(error, BadAnswer) and error.final)

    def check(self) -> None:
        """Scrape once: :class:`BadSource` or :class:`SourceUnreachable` when that fails."""
        try:
            conn = self._connect()
            try:
                self._read(conn, True)
            finally:
                self._close(conn)
        except self.driver_errors as e:
            raise connect_error(self.url, e) from None

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout_s)
        conn.connect()
        return conn

    def _read(self, conn: http.client.HTTPConnection, heavy: bool) -> Scrape:
        conn.request("GET", self.path,
                     headers={"Accept": "text/plain;version=0.0.4", "User-Agent": "tracehound-metrics"})
        resp = conn.getresponse()
        body = resp.read(MAX_BYTES + 1)
        if resp.status != 200:
            raise BadAnswer(f"it answered HTTP {resp.status} {resp.reason}".strip(),
                            final=resp.status in (401, 403, 404, 405, 410))
        if len(body) > MAX_BYTES:
            raise NotPrometheus(f"its answer is larger than {MAX_BYTES // 2**20} MiB")
        families = parse_text(body, resp.getheader("content-type") or "")
        values, names, count = read_families(families)
        for role, ns in names.items():
            self._roles.setdefault(role, set()).update(ns)
        self._families = count
        return Scrape(values)


__all__ = ["MAX_BYTES", "BadAnswer", "MetricsInfo", "MetricsSampler", "NotPrometheus", "Scrape", "connect_error",
           "parse_text", "split_url"]
