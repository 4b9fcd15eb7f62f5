"""Which experiment the regression test replays: the one most sure to break the SLO again.

"Failed most" is the experiment whose failure rate is highest at its lower 95 % confidence
bound (Wilson), so one failure in two requests does not outrank forty in a hundred: the test
must fail every time against the bug, not once in a while.
"""

from __future__ import annotations

import math

from tracehound.probe.run import Run
from tracehound.verify import Slo, Source, Stats

#: The normal quantile of a two-sided 95 % interval.
Z95 = 1.96


def wilson_low(failures: int, n: int) -> float:
    """Lower bound of the 95 % Wilson interval of a failure rate."""
    if n == 0:
        return 0.0
    p = failures / n
    z2 = Z95 * Z95
    centre = p + z2 / (2 * n)
    spread = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - spread) / (1 + z2 / n)


#: A replay this likely to break the SLO again is a sure bet; the earliest such experiment is chosen.
SURE_BET = 0.9


def breaks_again(failures: int, n: int, limit: float) -> float:
    """The chance that ``n`` requests sent again fail at least ``limit`` of the time (so that an
    ``error_rate<limit`` criterion breaks), at the low end of the failure rate seen (95 % Wilson).

    Binomial tail, summed in log space: P(X >= ceil(limit·n)) for X ~ Bin(n, p_low).
    """
    p = wilson_low(failures, n)
    need = max(1, math.ceil(limit * n - 1e-9))
    if p <= 0.0 or need > n:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    below = 0.0
    for k in range(need):
        below += math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lp + (n - k) * lq)
    return max(0.0, 1.0 - below)


def worst(src: Source, slo: Slo) -> tuple[str, Run, Stats]:
    """The experiment whose replay most surely breaks ``slo`` again on a freshly started service.

    The bet is the chance that its requests, sent again, fail at least as often as the SLO's
    error-rate limit allows, at the low end of the rate they showed: one failure in two requests
    is a high rate but a weak bet; 7 failures in 5,566 requests would not break ``error_rate<1%``
    even if they came back. Experiments run one after the other on the same service, so a later
    one can fail only because an earlier one left damage behind (connections leaked, a cache
    filled): of the sure bets, the earliest is taken.
    """
    limits = [c.limit for c in slo.criteria if c.key == "error_rate"]
    limit = min(limits) if limits else 0.0

    def bet(st: Stats) -> float:
        return breaks_again(st.failures, st.requests, limit)

    scored = [(name, run, Stats.of([run])) for name, run in src.runs]
    for item in scored:
        if bet(item[2]) >= SURE_BET:
            return item
    return max(scored, key=lambda x: (bet(x[2]), x[2].failures))


__all__ = ["SURE_BET", "breaks_again", "wilson_low", "worst"]
