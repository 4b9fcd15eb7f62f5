"""A cheap endpoint of the service itself, found without help: the second canary's path.

The first canary asks for a path nothing serves; a gateway in front may answer it alone, so it can
stay fast while the application behind stalls. A path the application serves cheaply (a health
check, its OpenAPI document, its root, the target's parent collection) reaches the process
itself: when that slows with load on another endpoint, the whole process is stalled.

Each candidate gets a few idle GETs; :func:`cheap_endpoint` keeps the first
that answers 2xx every time, quickly, and is not the target (a health check before the rest).
"""

from __future__ import annotations

import http.client
import ssl
import statistics
import time
from dataclasses import dataclass

from tracehound.case import Case
from tracehound.probe.target import split_url

#: The usual cheap paths, most likely cheap first (the target's parent path is tried last).
CANDIDATES = ("/health", "/healthz", "/openapi.json", "/docs", "/")
#: Idle GETs per candidate; the first may build a cached document, so the median decides.
TRIES = 3
#: The slowest median an endpoint may take idle and still count as cheap.
QUICK_MS = 100.0
#: A body bigger than this is not cheap to send a few times a second.
MAX_BODY = 256 * 1024
PER_REQUEST_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Cheap:
    """A path the service answers 2xx quickly when idle, and its idle median."""

    path: str
    p50_ms: float
    status: int


def target_path(case: Case) -> str:
    """The target's path without its query (a flow's last step's); a segment a variable fills reads ``{}``."""
    if case.target is not None:
        return case.target.path.split("?", 1)[0] or "/"
    assert case.flow is not None
    step = case.flow.last_step
    if any(not isinstance(p, str) for p in step.target.parts):
        # The literal prefix up to the first variable, cut back to a whole segment.
        head = ""
        for p in step.target.parts:
            if not isinstance(p, str):
                break
            head += p
        path = head.rsplit("/", 1)[0] + "/{}"
    else:
        path = "".join(p for p in step.target.parts if isinstance(p, str))
    if step.absolute:
        path = "/" + path.split("://", 1)[-1].partition("/")[2]
    elif case.base_url:
        path = split_url(case.base_url)[1].split("?", 1)[0].rstrip("/") + path
    return path.split("?", 1)[0] or "/"


def parent_path(path: str) -> str | None:
    """``/api/orders/42`` → ``/api/orders``; None for the root or a parent holding a variable."""
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2:
        return None
    parent = "/" + "/".join(segments[:-1])
    return None if "{" in parent else parent


def candidates(case: Case) -> list[str]:
    """The paths worth trying, in order, without the target's own."""
    own = target_path(case)
    paths = list(CANDIDATES)
    parent = parent_path(own)
    if parent is not None:
        paths.append(parent)
    own_literal = own.rstrip("/") if "{" not in own else None
    out: list[str] = []
    for p in paths:
        if p not in out and p.rstrip("/") != own_literal:
            out.append(p)
    return out


def _connection(case: Case) -> http.client.HTTPConnection:
    ep, _ = split_url(case.origin)
    if ep.tls:
        # Only statuses and timings are read, from the service the user pointed us at.
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(ep.host, ep.port, timeout=PER_REQUEST_TIMEOUT_S, context=ctx)
    return http.client.HTTPConnection(ep.host, ep.port, timeout=PER_REQUEST_TIMEOUT_S)


def _try(case: Case, path: str) -> Cheap | None:
    """``path`` with its idle median when it answers 2xx quickly every time; None otherwise."""
    conn = _connection(case)
    times: list[float] = []
    status = 0
    try:
        for _ in range(TRIES):
            t = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "*/*", "User-Agent": "tracehound-canary"})
            resp = conn.getresponse()
            body = resp.read(MAX_BODY + 1)
            times.append((time.perf_counter() - t) * 1000)
            status = resp.status
            if not 200 <= status < 300 or len(body) > MAX_BODY:
                return None
            if resp.will_close:
                conn.close()
                conn = _connection(case)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    p50 = statistics.median(times)
    return Cheap(path, p50, status) if p50 <= QUICK_MS else None


def cheap_endpoint(case: Case) -> Cheap | None:
    """The first candidate that answers 2xx quickly when idle and is not the target; None if none does."""
    for path in candidates(case):
        found = _try(case, path)
        if found is not None:
            return found
    return None


__all__ = ["CANDIDATES", "Cheap", "candidates", "cheap_endpoint", "parent_path", "target_path"]
