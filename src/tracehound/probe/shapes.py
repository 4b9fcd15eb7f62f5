"""Load shapes: closed (virtual users), open (arrival rate), and staged ramps of either."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from tracehound.errors import BadShape

DEFAULT_MAX_REQUESTS = 2_000_000
DEFAULT_MAX_DURATION = 1800.0
DEFAULT_OPEN_CONNECTIONS = 1000
#: The most virtual users (or open connections) one probe runs: each is a connection and its file
#: descriptor, and a billion of them only cost hours of CPU before the first request.
MAX_CONCURRENCY = 100_000
#: A request timeout below this records healthy responses as timeouts; above it, a run outlives its bounds.
MIN_TIMEOUT_S = 0.001
MAX_TIMEOUT_S = 3600.0

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(text: str) -> float:
    """``'500ms'``, ``'10s'``, ``'2m'``, ``'1h'`` or a bare number of seconds → seconds."""
    m = _DURATION.match(str(text))
    if not m:
        raise BadShape(f"invalid duration {text!r}: expected e.g. 500ms, 10s, 2m")
    value = float(m.group(1))
    return value * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[m.group(2) or "s"]


def check_timeout(seconds: float, flag: str = "--timeout") -> float:
    """``seconds`` if it is a usable request (or connect) timeout; :class:`BadShape` naming ``flag`` otherwise."""
    if not MIN_TIMEOUT_S <= seconds <= MAX_TIMEOUT_S:  # NaN fails too
        raise BadShape(f"{flag} {seconds:g}s is out of range: it must be between {MIN_TIMEOUT_S * 1000:g}ms and "
                       f"{MAX_TIMEOUT_S / 3600:g}h", hint="a timeout of 0 would record every response as a timeout")
    return seconds


@dataclass(frozen=True)
class Stage:
    """Over ``duration`` seconds, move to ``target`` (VUs or requests/s): linearly, or at once."""

    duration: float
    target: float
    ramp: bool = True


def parse_stages(text: str) -> list[Stage]:
    """``'10s:5,30s:50'`` ramps to 5 over 10 s then to 50 over 30 s; ``'10s:=5'`` jumps and holds."""
    stages = []
    for raw in str(text).split(","):
        part = raw.strip()
        if not part:
            continue
        dur, sep, tgt = part.partition(":")
        if not sep:
            raise BadShape(f"invalid stage {part!r}: expected DURATION:TARGET such as 10s:50")
        ramp = not tgt.strip().startswith("=")
        try:
            target = float(tgt.strip().lstrip("="))
        except ValueError:
            raise BadShape(f"invalid stage {part!r}: target must be a number") from None
        if target < 0 or not math.isfinite(target):
            raise BadShape(f"invalid stage {part!r}: target must be >= 0")
        d = parse_duration(dur)
        if d <= 0:
            raise BadShape(f"invalid stage {part!r}: duration must be > 0")
        stages.append(Stage(d, target, ramp))
    if not stages:
        raise BadShape("--stages is empty")
    return stages


@dataclass
class LoadShape:
    """What load to apply and when to stop.

    Closed model: ``concurrency`` virtual users, each sending its next request when the previous
    one ends. Open model: ``rate`` requests per second at constant arrival, whatever the server
    does; ``concurrency`` then caps open connections. ``stages`` ramp the VU count (closed) or
    the rate (open). ``max_requests`` and ``max_duration`` always bound the run.
    """

    concurrency: int = 1
    requests: int | None = None
    duration: float | None = None
    rate: float | None = None
    stages: list[Stage] | None = None
    open_model: bool = False
    max_requests: int = DEFAULT_MAX_REQUESTS
    max_duration: float = DEFAULT_MAX_DURATION
    max_connections: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: ``(index, n)``: this process is worker ``index`` of ``n`` and runs its share of the staged VUs.
    vu_share: tuple[int, int] | None = None

    def validate(self) -> None:
        if self.requests is None and self.duration is None and not self.stages:
            raise BadShape("no bounds asked for: give -n REQUESTS, -d DURATION or --stages")
        if self.requests is not None and self.requests <= 0:
            raise BadShape("-n must be > 0")
        if self.duration is not None and self.duration <= 0:
            raise BadShape("-d must be > 0")
        if self.concurrency <= 0:
            raise BadShape("-c must be > 0")
        peak = max(self.concurrency, self.max_connections or 0,
                   math.ceil(max(s.target for s in self.stages)) if self.stages and not self.open_model else 0)
        if peak > MAX_CONCURRENCY:
            raise BadShape(f"{peak:,} concurrent users or connections is beyond the most one probe runs "
                           f"({MAX_CONCURRENCY:,})", hint="lower -c, --max-connections or the stage targets")
        if self.rate is not None:
            self.open_model = True
            if self.rate <= 0 or not math.isfinite(self.rate):
                raise BadShape("--rate must be > 0")
        if self.max_requests <= 0 or self.max_duration <= 0:
            raise BadShape("--max-requests and --max-duration must be > 0")
        if self.requests is not None and self.requests > self.max_requests:
            raise BadShape(
                f"-n {self.requests} exceeds the hard bound --max-requests {self.max_requests}",
                hint="raise --max-requests if you mean it",
            )
        total = self.planned_duration
        if total is not None and total > self.max_duration:
            raise BadShape(
                f"the run would last {total:g}s, beyond the hard bound --max-duration {self.max_duration:g}s",
                hint="raise --max-duration if you mean it",
            )
        if self.open_model and self.rate is None and not self.stages:
            raise BadShape("the open model needs --rate R or --stages")

    @property
    def planned_duration(self) -> float | None:
        if self.stages:
            return sum(s.duration for s in self.stages)
        return self.duration

    @property
    def stop_after(self) -> float:
        """Seconds after which no new request is sent."""
        planned = self.planned_duration
        return min(planned, self.max_duration) if planned is not None else self.max_duration

    @property
    def request_limit(self) -> int:
        return min(self.requests, self.max_requests) if self.requests is not None else self.max_requests

    @property
    def peak_concurrency(self) -> int:
        if self.stages and not self.open_model:
            return max(1, math.ceil(max(s.target for s in self.stages)))
        return self.concurrency

    def level_at(self, t: float) -> float:
        """Target VUs (closed) or rate (open) ``t`` seconds into a staged run.

        With :attr:`vu_share`, this worker's whole number of the run's VUs: the shares of all
        workers add up to the run's whole VU count at every instant.
        """
        level = self._level_at(t)
        if self.vu_share is None or self.open_model:
            return level
        index, n = self.vu_share
        return float((max(0, math.ceil(level - 1e-9)) + n - 1 - index) // n)

    def _level_at(self, t: float) -> float:
        assert self.stages
        prev = 0.0
        start = 0.0
        for s in self.stages:
            if t < start + s.duration:
                if not s.ramp:
                    return s.target
                frac = (t - start) / s.duration
                return prev + (s.target - prev) * frac
            start += s.duration
            prev = s.target
        return prev

    @property
    def open_connections(self) -> int:
        """Open model: the cap on open connections the engine applies (-c when above 1, else the default)."""
        return self.max_connections or (self.concurrency if self.concurrency > 1 else DEFAULT_OPEN_CONNECTIONS)

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"model": "open" if self.open_model else "closed"}
        if self.open_model:
            d["rate"] = self.rate
            d["max_connections"] = self.open_connections
        else:
            d["concurrency"] = self.concurrency
        if self.stages:
            d["stages"] = [{"duration_s": s.duration, "target": s.target, "ramp": s.ramp} for s in self.stages]
        d["requests"] = self.requests
        d["duration_s"] = self.duration
        d["bounds"] = {"max_requests": self.max_requests, "max_duration_s": self.max_duration}
        return d


class ArrivalSchedule:
    """Intended send offsets (ns from the start) of an open-model run's k-th request."""

    def __init__(self, shape: LoadShape) -> None:
        #: Arrivals per second when there are no stages (LoadShape.validate: then there is a rate).
        self.rate = shape.rate if shape.rate is not None else math.nan
        self.segments: list[tuple[float, float, float, float, float]] = []  # t0, dur, r0, r1, n0
        if shape.stages:
            t, n, prev = 0.0, 0.0, 0.0
            for s in shape.stages:
                r0 = prev if s.ramp else s.target
                r1 = s.target
                self.segments.append((t, s.duration, r0, r1, n))
                n += (r0 + r1) / 2 * s.duration
                t += s.duration
                prev = r1
            self.total = n
        else:
            self.total = math.inf

    def offset_ns(self, k: int) -> float:
        """When request ``k`` (0-based) is due, in ns from the start; ``inf`` if never."""
        if not self.segments:
            return k * 1e9 / self.rate
        for t0, dur, r0, r1, n0 in self.segments:
            n_end = n0 + (r0 + r1) / 2 * dur
            if k < n_end:  # a stage at rate 0 has no arrivals: the next one is in a later stage
                n = k - n0
                if r0 == r1:
                    tau = n / r0 if r0 > 0 else 0.0
                else:
                    a = (r1 - r0) / (2 * dur)
                    tau = (-r0 + math.sqrt(max(r0 * r0 + 4 * a * n, 0.0))) / (2 * a)
                return (t0 + tau) * 1e9
        return math.inf
