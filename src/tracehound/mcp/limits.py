"""The bounds of the load an assistant may send through ``tracehound mcp``, and the hosts it may go to."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

from tracehound.errors import BadShape
from tracehound.probe.shapes import DEFAULT_MAX_DURATION, DEFAULT_MAX_REQUESTS

if TYPE_CHECKING:
    from tracehound.flow import Flow
    from tracehound.probe.meta import ShapeMeta

#: Hosts load may always go to: this machine.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
#: Ceilings of the caps themselves: the CLI's own hard bounds.
CEILING_CONCURRENCY = 1000
CEILING_RATE = 100_000.0
CEILING_BUDGET_S = 3600.0
CEILING_SAMPLE_S = 3600.0


class ShapeBounds(TypedDict):
    """What a load shape can cost at most: the arguments of :meth:`Limits.check_shape`."""

    duration_s: float | None
    requests: int | None
    concurrency: int
    rate: float | None


@dataclass(frozen=True)
class Limits:
    """What an assistant may ask of the load engine through this server; set only by the person starting it."""

    max_duration_s: float = 120.0
    max_requests: int = 100_000
    max_concurrency: int = 256
    max_rate: float = 2_000.0
    max_budget_s: float = 300.0
    max_sample_s: float = 120.0
    #: Extra hosts load may go to besides this machine's loopback; ``"*"`` is any host.
    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        bounds = (("--max-duration", self.max_duration_s, 1.0, DEFAULT_MAX_DURATION),
                  ("--max-requests", self.max_requests, 1, DEFAULT_MAX_REQUESTS),
                  ("--max-concurrency", self.max_concurrency, 1, CEILING_CONCURRENCY),
                  ("--max-rate", self.max_rate, 0.1, CEILING_RATE),
                  ("--max-budget", self.max_budget_s, 10.0, CEILING_BUDGET_S),
                  ("--max-sample", self.max_sample_s, 1.0, CEILING_SAMPLE_S))
        for flag, value, lo, hi in bounds:
            if not lo <= value <= hi:
                raise BadShape(f"{flag} must be between {lo:g} and {hi:g}")

    def to_dict(self) -> dict[str, Any]:
        return {"max_duration_s": self.max_duration_s, "max_requests": self.max_requests,
                "max_concurrency": self.max_concurrency, "max_rate": self.max_rate,
                "max_budget_s": self.max_budget_s, "max_sample_s": self.max_sample_s,
                "hosts": ["loopback", *self.hosts]}

    def allows_host(self, host: str) -> bool:
        h = host.strip().strip("[]").rstrip(".").lower()
        if "*" in self.hosts or h in {x.lower() for x in self.hosts} or h in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(h).is_loopback
        except ValueError:
            return False

    def check_url(self, url: str) -> None:
        from tracehound.probe.target import split_url

        ep, _ = split_url(url)
        if not self.allows_host(ep.host):
            raise BadShape(f"this server sends load only to this machine and its allowed hosts, not {ep.host!r}",
                           hint=f"start it with `tracehound mcp --allow-host {ep.host}` to allow it")

    def check_source(self, address: str, what: str) -> None:
        """Refuse a PostgreSQL DSN, Redis URL or metrics URL whose host is beyond this server's hosts."""
        for host in source_hosts(address):
            if not self.allows_host(host):
                raise BadShape(f"this server reads {what} only on this machine and its allowed hosts, not {host!r}",
                               hint=f"start it with `tracehound mcp --allow-host {host}` to allow it")

    def check_flow(self, flow: Flow) -> None:
        """Every step that names its own URL must name an allowed host, literally (not from a variable)."""
        for step in [*flow.setup, *flow.steps]:
            if not step.absolute:
                continue
            literal = ""
            for part in step.target.parts:
                if isinstance(part, tuple):
                    break
                literal += part
            if not step.target.names:
                literal += "/"  # a literal URL without a path still ends its host
            m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+[/?#]", literal)
            if m is None:
                raise BadShape(f"flow step {step.name!r} takes its host from a variable; this server sends load "
                               "only to hosts it can check beforehand")
            self.check_url(m.group(0))

    def check_shape(self, *, duration_s: float | None, requests: int | None, concurrency: int,
                    rate: float | None, what: str = "the run") -> None:
        """Refuse a load beyond the caps, with the cap named and the way to raise it."""
        if duration_s is not None and duration_s > self.max_duration_s:
            raise BadShape(f"{what} would last {duration_s:g} s, beyond this server's cap of {self.max_duration_s:g} s",
                           hint="the person running `tracehound mcp` can raise --max-duration")
        if requests is not None and requests > self.max_requests:
            raise BadShape(f"{what} would send {requests:,} requests, beyond this server's cap of "
                           f"{self.max_requests:,}",
                           hint="the person running `tracehound mcp` can raise --max-requests")
        if concurrency > self.max_concurrency:
            raise BadShape(f"{what} would use {concurrency:,} concurrent users or connections, beyond this server's "
                           f"cap of {self.max_concurrency:,}",
                           hint="the person running `tracehound mcp` can raise --max-concurrency")
        if rate is not None and rate > self.max_rate:
            raise BadShape(f"{what} would send {rate:g} requests/s, beyond this server's cap of {self.max_rate:g}",
                           hint="the person running `tracehound mcp` can raise --max-rate")


def source_hosts(address: str) -> list[str]:
    """The hosts a source's address connects to: a Redis or HTTP URL's host, or every ``host`` and
    ``hostaddr`` of a PostgreSQL DSN (URL or ``key=value`` form, libpq's own parser). A Unix socket,
    or no host at all (the local default), is none; an address that cannot be parsed connects nowhere."""
    text = address.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme == "unix":
        return []
    if scheme in ("redis", "rediss", "http", "https"):
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return []
        return [host] if host else []
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(text)
    except Exception:  # noqa: BLE001 - psycopg's parse errors vary by version; it cannot connect either
        return []
    hosts = [h.strip() for key in ("host", "hostaddr") for h in str(params.get(key) or "").split(",")]
    return [h for h in hosts if h and not h.startswith("/") and not h.startswith("@")]  # sockets are this machine


def shape_bounds(d: ShapeMeta) -> ShapeBounds:
    """Duration, requests, peak concurrency and peak rate of a shape as ``run.json`` describes it."""
    is_open = d.model == "open"
    duration = sum(float(s.duration_s) for s in d.stages) if d.stages else d.duration_s
    peak_stage = max((float(s.target) for s in d.stages), default=0.0)
    concurrency = int(max(d.concurrency or 1, d.max_connections or 1, 0 if is_open else peak_stage))
    rate = max(float(d.rate or 0.0), peak_stage if is_open else 0.0) or None
    return {"duration_s": duration, "requests": d.requests, "concurrency": concurrency, "rate": rate}
