"""Which Prometheus series mean what: matched by name and type rather than by any one library's spelling.

=================  ===========================================================================
role               matched (examples)
=================  ===========================================================================
pool in use        a database pool's ``*checked_out*``, ``*in_use*``, ``*active*`` gauge
                   (``tracehound_db_pool_checked_out_connections``, ``hikaricp_connections_active``)
pool capacity      its ``*max*`` (or ``*size*``) gauge
pool waiting       its ``*waiting*``/``*pending*`` gauge (callers queued for a connection)
pool wait          its ``*wait*``/``*acquire*`` histogram or summary (time to get a connection)
pool timeouts      its ``*timeout*`` counter; invalidations: its ``*invalidat*`` counter
loop lag           ``*event_loop*lag*``, ``*eventloop*lag*`` gauges and histograms
CPU, memory        ``process_cpu_seconds_total``, ``process_resident_memory_bytes``
=================  ===========================================================================
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: A role's value in one scrape: a gauge's or counter's total, or a histogram's (sum, count).
RoleValue = float | tuple[float, float]

_NOT_DB_POOL = re.compile(r"thread|worker|executor|goroutine|memory|buffer|http|redis|cache|bytes")
_WORD = r"(?:^|_)(?:{})(?:_|$)"
_POOL_ROLES = (  # (role, kinds it applies to, pattern), the first match wins
    ("pool_timeouts", "counter", re.compile(r"timeout")),
    ("pool_invalidations", "counter", re.compile(r"invalidat|broken|discard")),
    ("pool_waiting", "gauge", re.compile(_WORD.format("waiting|waiters|pending|queued|wait_count"))),
    ("pool_wait", "histogram", re.compile(r"wait|acquire|checkout_(?:duration|time|seconds)|pending")),
    ("pool_wait_now", "gauge", re.compile(r"(?:wait|acquire).*(?:seconds|_ms|milliseconds)")),
    ("pool_in_use", "gauge",
     re.compile(_WORD.format(r"checked_?out|in_?use|active|busy|used|acquired|leased|borrowed"))),
    ("pool_max", "gauge", re.compile(_WORD.format("max|limit|capacity"))),
    ("pool_size", "gauge", re.compile(_WORD.format("size"))),
)
_LOOP_LAG = re.compile(r"(?:event_?loop|(?:^|_)loop)_?(?:\w*_)?(?:lag|delay|block)|lag\w*_loop")
#: Roles whose series take the worst of their label sets instead of their sum.
ROLE_AGG: Mapping[str, Callable[[float, float], float]] = {"loop_lag": max, "pool_wait_now": max}


def metric_role(name: str, kind: str) -> str | None:
    """What a metric family measures, from its name and type; None when it is none of ours.

    ``kind`` is the family's type as the exposition says it: counter, gauge, histogram, summary,
    or unknown/untyped (then guessed from the name: ``_total`` is a counter).
    """
    n = name.lower()
    if n.endswith("_total"):
        n = n[:-6]
    if kind in ("unknown", "untyped", ""):
        kind = "counter" if name.lower().endswith("_total") else "gauge"
    kind = "histogram" if kind in ("histogram", "summary", "gaugehistogram") else kind
    if n == "process_cpu_seconds":
        return "cpu" if kind == "counter" else None
    if n in ("process_cpu_user_seconds", "process_cpu_system_seconds"):
        return "cpu_part" if kind == "counter" else None
    if n == "process_resident_memory_bytes":
        return "rss" if kind == "gauge" else None
    if _LOOP_LAG.search(n):
        return "loop_lag_hist" if kind == "histogram" else "loop_lag" if kind == "gauge" else None
    if ("pool" in n and not _NOT_DB_POOL.search(n)) or n.startswith("hikaricp_"):
        for role, want, pattern in _POOL_ROLES:
            if want == kind and pattern.search(n):
                return role
    return None


def is_histogram(role: str) -> bool:
    """Whether a role's value is a histogram's (sum, count)."""
    return role.endswith("_hist") or role == "pool_wait"


def unit(name: str) -> float:
    """The factor that turns a metric's values into seconds (or leaves counts alone)."""
    n = name.lower()
    if re.search(r"(?:^|_)(?:ms|milliseconds)(?:_|$)", n):
        return 1e-3
    if re.search(r"(?:^|_)(?:us|microseconds)(?:_|$)", n):
        return 1e-6
    return 1.0


def add_value(values: dict[str, RoleValue], role: str, v: float) -> None:
    """Add a gauge's or counter's value to a role's (the worst of them for lag)."""
    agg = ROLE_AGG.get(role)
    old = values.get(role)
    if agg is not None and isinstance(old, float | int):
        values[role] = agg(old, v)
    else:
        values[role] = (old if isinstance(old, float | int) else 0.0) + v


def add_pair(values: dict[str, RoleValue], role: str, s: float, c: float) -> None:
    """Add a histogram's sum and count to a role's."""
    old = values.get(role)
    a, b = old if isinstance(old, tuple) else (0.0, 0.0)
    values[role] = (a + s, b + c)


def fold_cpu(values: dict[str, RoleValue], names: dict[str, set[str]] | None = None) -> None:
    """User plus system CPU stands for the total where a process reports only the parts."""
    if "cpu" not in values and "cpu_part" in values:
        values["cpu"] = values["cpu_part"]
        if names is not None:
            names["cpu"] = names.get("cpu_part", set())
    values.pop("cpu_part", None)
    if names is not None:
        names.pop("cpu_part", None)


def _finite(value: object) -> float | None:
    """A sample's value as a finite float; None for NaN, infinity or an integer past a float's range."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (OverflowError, TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_families(families: Iterable[Any]) -> tuple[dict[str, RoleValue], dict[str, set[str]], int]:
    """One scrape's role values, the metric names behind each role, and how many families there were.

    Gauges of one role add up over their label sets (a pool per engine), except lag, which takes
    the worst; histograms and summaries keep their ``(sum, count)``; counters their total.
    ``families`` are prometheus_client's parsed metric families (``.name``, ``.type``, ``.samples``).
    """
    values: dict[str, RoleValue] = {}
    names: dict[str, set[str]] = {}
    count = 0
    for fam in families:
        count += 1
        role = metric_role(fam.name, fam.type)
        if role is None:
            continue
        scale = unit(fam.name)
        if is_histogram(role):
            s = sum(_finite(x.value) or 0.0 for x in fam.samples if x.name.endswith("_sum")) * scale
            c = sum(_finite(x.value) or 0.0 for x in fam.samples if x.name.endswith("_count"))
            add_pair(values, role, s, c)
        else:
            vals = [v * scale for x in fam.samples
                    if not x.name.endswith(("_created", "_bucket", "_sum", "_count"))
                    and (v := _finite(x.value)) is not None]
            if not vals:
                continue
            agg = ROLE_AGG.get(role)
            add_value(values, role, functools.reduce(agg, vals) if agg else sum(vals))
        names.setdefault(role, set()).add(fam.name)
    fold_cpu(values, names)
    return values, names, count


__all__ = ["ROLE_AGG", "RoleValue", "add_pair", "add_value", "fold_cpu", "is_histogram", "metric_role",
           "read_families", "unit"]
