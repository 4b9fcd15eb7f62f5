"""What a probe is asked to do (:class:`ProbeConfig`), and the share of it each worker carries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tracehound.errors import BadFlow
from tracehound.expect import Expectation
from tracehound.flow import Flow
from tracehound.params import Pool
from tracehound.probe.records import DEFAULT_HEADERS
from tracehound.probe.shapes import LoadShape, Stage, check_timeout
from tracehound.probe.target import Endpoint, Target, credentials, split_url


@dataclass
class ProbeConfig:
    """Everything a probe needs. Give ``target``, or ``flow`` with ``base_url``."""

    shape: LoadShape
    target: Target | None = None
    flow: Flow | None = None
    base_url: str | None = None
    timeout: float = 10.0
    connect_timeout: float = 3.0
    keepalive: bool = True
    insecure: bool = False
    ca_file: str | None = None
    record_headers: tuple[str, ...] = ()
    workers: int = 1
    #: ``native`` (asyncio, this machine) or ``locust`` (Locust's master and workers, see :mod:`.distributed`).
    engine: str = "native"
    #: Locust: workers on other machines to wait for, the master's listening address, and how long to wait.
    remote_workers: int = 0
    master_bind: str | None = None
    wait_workers: float | None = None
    out: Path | None = None
    label: str | None = None
    #: Extra keys written into ``run.json`` (an experiment's kind and purpose, for instance).
    annotations: dict[str, Any] = field(default_factory=dict)
    #: What a right answer to ``target`` looks like (``--expect``); a flow's steps carry their own.
    expect: Expectation | None = None
    #: ``(index, n)``: this config is worker ``index``'s share of a run over ``n`` processes.
    share: tuple[int, int] = (0, 1)

    @property
    def data(self) -> tuple[Pool, ...]:
        """The flow's pools of parameter values (none for a single target)."""
        return self.flow.data if self.flow is not None else ()

    def __post_init__(self) -> None:
        check_timeout(self.timeout, "--timeout")
        check_timeout(self.connect_timeout, "--connect-timeout")

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*DEFAULT_HEADERS, *(h.lower() for h in self.record_headers)]))

    def endpoint(self) -> tuple[Endpoint, str]:
        if self.target is not None:
            return self.target.endpoint, self.target.path
        base = self.base_url or (self.flow.base_url if self.flow else None)
        if not base:
            raise BadFlow("a flow needs a base URL: pass the URL or set base_url: in the flow")
        if credentials(base) is not None:
            raise BadFlow("a flow's base URL cannot carry a user and password: its steps would not send them",
                          hint="give each step an Authorization header instead (headers: in the flow)")
        ep, path = split_url(base)
        return ep, path.split("?", 1)[0]

    def slug(self) -> str:
        if self.label:
            return self.label
        ep, path = self.endpoint()
        if self.target is not None:
            return f"{self.target.method}-{ep.host}-{ep.port}{path.split('?', 1)[0]}"
        return f"flow-{ep.host}-{ep.port}"


def split_config(config: ProbeConfig, index: int, n: int) -> ProbeConfig:
    """The share of a run that worker ``index`` of ``n`` carries."""

    def share(total: int) -> int:
        return total // n + (1 if index < total % n else 0)

    s = config.shape
    stages, vu_share = s.stages, None
    if s.stages and s.open_model:
        stages = [Stage(st.duration, st.target / n, st.ramp) for st in s.stages]  # rates divide exactly
    elif s.stages:
        # VUs do not: each worker takes whole VUs of the run's level at every instant. Dividing the
        # targets by n and rounding up in each worker ran up to n - 1 VUs too many.
        vu_share = (index, n)
    shape = replace(
        s,
        concurrency=max(1, share(s.concurrency)) if not s.open_model else max(1, math.ceil(s.concurrency / n)),
        requests=share(s.requests) if s.requests is not None else None,
        rate=s.rate / n if s.rate is not None else None,
        stages=stages,
        vu_share=vu_share,
        max_requests=max(1, share(s.max_requests)),
        max_connections=math.ceil(s.max_connections / n) if s.max_connections else None,
    )
    return replace(config, shape=shape, workers=1, share=(index, n))
