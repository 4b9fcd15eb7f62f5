"""The target of a probe: URL, method, headers and body, validated, and the bytes of its request."""

from __future__ import annotations

import base64
import ipaddress
import json as jsonlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from tracehound import __version__
from tracehound.errors import BadTarget
from tracehound.redact import remember_header, remember_url

USER_AGENT = f"tracehound/{__version__}"
# What may not appear in a request target, or in a header value (HTAB is allowed there): a flow
# renders captured response data into both, and must never send a malformed or injected request.
_BAD_IN_TARGET = re.compile(r"[\x00-\x20\x7f]")
_BAD_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}


@dataclass(frozen=True)
class Endpoint:
    """Where connections go: scheme, host and port (one per distinct origin in a flow)."""

    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host_header}"


def split_url(url: str) -> tuple[Endpoint, str]:
    """Endpoint and path-with-query of an absolute http(s) URL; :class:`BadTarget` otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise BadTarget(f"invalid URL {url!r}: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise BadTarget(f"invalid URL {url!r}: the scheme must be http or https")
    if not parts.hostname:
        raise BadTarget(f"invalid URL {url!r}: no host")
    host = parts.hostname
    if any(c.isspace() for c in url.strip()):
        raise BadTarget(f"invalid URL {url!r}: contains whitespace")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Endpoint(parts.scheme, host, port), path


def credentials(url: str) -> tuple[str, str] | None:
    """The user and password a URL carries (``http://user:pass@host/``), percent-decoded; None without."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if "@" not in parts.netloc:
        return None
    return unquote(parts.username or ""), unquote(parts.password or "")


def basic_auth(user: str, password: str) -> tuple[str, str]:
    """The ``Authorization`` header of HTTP Basic authentication (RFC 7617, UTF-8)."""
    return "Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_header(line: str) -> tuple[str, str]:
    """``'Name: value'`` → ``('Name', 'value')``; :class:`BadTarget` when malformed."""
    name, sep, value = line.partition(":")
    name = name.strip()
    if not sep or not name or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
        raise BadTarget(f"invalid header {line!r}: expected 'Name: value'")
    return name, value.strip()


def build_request(
    method: str,
    endpoint: Endpoint,
    path: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    keepalive: bool = True,
) -> bytes:
    """The bytes of one HTTP/1.1 request; :class:`BadTarget` if a path or header value would break it."""
    if _BAD_IN_TARGET.search(path):
        raise BadTarget(f"request target {path!r} contains whitespace or a control character")
    names = set()
    lines = [f"{method} {path} HTTP/1.1"]
    for k, v in headers:
        if _BAD_IN_VALUE.search(v):
            raise BadTarget(f"header {k!r} has a control character (CR, LF…) in its value")
        names.add(k.lower())
        lines.append(f"{k}: {v}")
    if "host" not in names:
        lines.insert(1, f"Host: {endpoint.host_header}")
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in names:
        lines.append("Accept: */*")
    if body is not None and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    elif body is None and method in ("POST", "PUT", "PATCH") and "content-length" not in names:
        lines.append("Content-Length: 0")
    if not keepalive and "connection" not in names:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
    return head + (body or b"")


@dataclass(frozen=True)
class Target:
    """One request, sent again and again: the unit of a probe without a flow."""

    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    body: bytes | None = None
    endpoint: Endpoint = field(init=False)
    path: str = field(init=False)

    def __post_init__(self) -> None:
        endpoint, path = split_url(self.url)
        object.__setattr__(self, "endpoint", endpoint)
        object.__setattr__(self, "path", path)
        method = self.method.upper()
        if method not in _METHODS:
            raise BadTarget(f"invalid method {self.method!r}")
        object.__setattr__(self, "method", method)
        creds = credentials(self.url)
        if creds is not None and not any(k.lower() == "authorization" for k, _ in self.headers):
            # As curl does: user:password@ in the URL is sent as Basic authentication (never on the request line).
            object.__setattr__(self, "headers", (*self.headers, basic_auth(*creds)))
        self.remember_secrets()

    def remember_secrets(self) -> None:
        """Make its credentials (header values, the URL's password and secret query values) given secrets,
        masked in everything this process writes (:func:`tracehound.redact.remember`)."""
        remember_url(self.url)
        for k, v in self.headers:
            remember_header(k, v)

    @classmethod
    def parse(
        cls,
        url: str,
        method: str | None = None,
        headers: Sequence[str] = (),
        data: str | None = None,
        json: str | None = None,
    ) -> Target:
        """Build a target from CLI-style strings (``-H 'K: V'``, ``--data``, ``--json``)."""
        hdrs = [parse_header(h) for h in headers]
        body: bytes | None = None
        if data is not None and json is not None:
            raise BadTarget("give --data or --json, not both")
        if data is not None:
            body = _read_body(data)
        if json is not None:
            raw = _read_body(json)
            try:
                jsonlib.loads(raw)
            except (ValueError, RecursionError) as e:
                raise BadTarget(f"--json is not valid JSON: {e}") from None
            body = raw
            if not any(k.lower() == "content-type" for k, _ in hdrs):
                hdrs.append(("Content-Type", "application/json"))
        if method is None:
            method = "POST" if body is not None else "GET"
        try:
            for k, v in hdrs:
                f"{k}: {v}".encode("latin-1")
        except UnicodeEncodeError:
            raise BadTarget("header values must be latin-1 text") from None
        return cls(url, method, tuple(hdrs), body)

    def request_bytes(self, keepalive: bool = True) -> bytes:
        return build_request(self.method, self.endpoint, self.path, self.headers, self.body, keepalive)


def _read_body(value: str) -> bytes:
    """``@file`` reads a file (like curl); anything else is the body itself."""
    if value.startswith("@"):
        try:
            with open(value[1:], "rb") as f:
                return f.read()
        except OSError as e:
            raise BadTarget(f"cannot read body file {value[1:]!r}: {e.strerror}") from None
    return value.encode()
