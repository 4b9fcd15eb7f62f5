"""The Case: what the user gives an investigation, validated at the boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from tracehound.diagnosis.symptom import check_symptom
from tracehound.errors import BadTarget
from tracehound.expect import Expectation
from tracehound.flow import Flow
from tracehound.probe import Target
from tracehound.probe.shapes import check_timeout
from tracehound.probe.target import split_url
from tracehound.redact import redact_url, remember_url

DEFAULT_BUDGET = 120.0
DEFAULT_MAX_CONCURRENCY = 32


class CaseDescription(TypedDict, total=False):
    """What a report says of its case, secrets left out: a target's request, or a flow's last step."""

    method: str
    #: A target's URL, redacted.
    url: str
    #: A target's header names, never their values.
    headers: list[str]
    body_bytes: int
    #: A flow's file, its base URL (redacted) and the step the investigation watches.
    flow: str
    base_url: str
    target_step: str


@dataclass
class Sources:
    """Evidence beyond the wire; each one feeds an agent."""

    logs: list[Path] = field(default_factory=list)
    db: str | None = None
    redis: str | None = None
    code: Path | None = None
    metrics: str | None = None
    #: A Prometheus server that scrapes the service: its stored series over the experiments' window.
    prometheus: str | None = None
    browser: str | None = None
    #: HAR files a user exported from the browser's Network tab.
    har: list[Path] = field(default_factory=list)
    #: Production access logs (or their import folders): the users' own requests as evidence.
    access_logs: list[Path] = field(default_factory=list)


@dataclass
class Case:
    """A target (one request) or a flow with its base URL, the sources, and the bounds."""

    target: Target | None = None
    flow: Flow | None = None
    base_url: str | None = None
    sources: Sources = field(default_factory=Sources)
    budget_s: float = DEFAULT_BUDGET
    #: The most concurrent users any experiment runs: the peak the service is meant to take.
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    #: The peak arrival rate (requests/s) clients send, when known: the sweep then steps the
    #: arrival rate up to it (open model) instead of flooding with closed-loop users.
    max_rate: float | None = None
    timeout_s: float = 10.0
    symptom: str | None = None
    #: What a right answer to the target looks like (``--expect``); a flow's steps carry their own.
    expect: Expectation | None = None
    #: The load engine of the load experiments (sweep levels, confirmation, flow delays): ``native``
    #: or ``locust`` with ``workers`` local worker processes.
    engine: str = "native"
    workers: int = 1

    def __post_init__(self) -> None:
        if (self.target is None) == (self.flow is None):
            raise BadTarget("give a target URL, or --flow FILE with the base URL")
        if self.flow is not None:
            self.base_url = self.base_url or self.flow.base_url
            if not self.base_url:
                raise BadTarget("with --flow, give the base URL (or set base_url: in the flow)")
            split_url(self.base_url)
        if self.budget_s < 10:
            raise BadTarget("--budget must be at least 10 seconds")
        if not 1 <= self.max_concurrency <= 1000:
            raise BadTarget("--max-concurrency must be between 1 and 1000")
        if self.max_rate is not None and not 0 < self.max_rate <= 100_000:
            raise BadTarget("--max-rate must be above 0 and at most 100000 requests/s")
        if self.engine not in ("native", "locust"):
            raise BadTarget(f"unknown engine {self.engine!r}: choose native or locust")
        if self.workers < 1:
            raise BadTarget("--workers must be >= 1")
        self.symptom = check_symptom(self.symptom)
        if self.expect is not None and self.flow is not None:
            raise BadTarget("with --flow, put expect: in the flow's steps")
        check_timeout(self.timeout_s)
        for address in (self.sources.db, self.sources.redis, self.sources.metrics, self.sources.prometheus):
            if address:
                remember_url(address)  # their passwords are given secrets: masked wherever they show up

    @property
    def origin(self) -> str:
        """scheme://host:port of the service."""
        if self.target is not None:
            ep = self.target.endpoint
        else:
            assert self.base_url is not None
            ep, _ = split_url(self.base_url)
        scheme = "https" if ep.tls else "http"
        return f"{scheme}://{ep.host}:{ep.port}"

    def describe(self) -> CaseDescription:
        """The case as ``report.json`` records it (no header value, no body, URLs redacted)."""
        if self.target is not None:
            # What a rerun needs to know it cannot replay alone: header names and a body's size,
            # never their values.
            return {"method": self.target.method, "url": redact_url(self.target.url),
                    "headers": sorted({k for k, _ in self.target.headers}),
                    "body_bytes": len(self.target.body) if self.target.body is not None else 0}
        assert self.flow is not None
        last = self.flow.last_step
        return {"flow": self.flow.source, "base_url": redact_url(self.base_url or ""),
                "target_step": last.name, "method": last.method}


__all__ = ["DEFAULT_BUDGET", "DEFAULT_MAX_CONCURRENCY", "Case", "CaseDescription", "Sources"]
