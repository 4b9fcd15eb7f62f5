"""Whether the failures follow the data: a few values of a parameter that fail, where the others do not.

Runs whose requests took values from data record each request's value in a ``data_<pool>``
column. Failures that follow a handful of those values, whatever the load, point to those
records (a null field, an oversized row, a name the code cannot encode), not to a resource that
runs out.
"""

from __future__ import annotations

import numpy as np

from tracehound.agents.traffic.context import Context, Section, wilson_lo
from tracehound.analysis.contrast import ParameterContrast, parameter_contrast
from tracehound.diagnosis.signals import signal
from tracehound.limits import MIN_FAILURES
from tracehound.probe.records import FILLS_KEY, data_column

SIGNAL = "failures_follow_parameter_value"
#: At most this share of a parameter's values may fail for the failures to "follow" some of them.
MAX_FAILING_SHARE = 0.25
#: The most distinct values a parameter column is read with (a pool holds at most 2,000,000 rows).
MAX_VALUES = 2_000_000
_PREFIX = data_column("")


def failures_follow_data(ctx: Context) -> Section:
    out = Section()
    f = ctx.f
    found: list[tuple[ParameterContrast, np.ndarray, list[str]]] = []
    for col in f.table.column_names:
        if not col.startswith(_PREFIX):
            continue
        enc = f.codes(col, max_cardinality=MAX_VALUES)
        if enc is None or len(enc[1]) < 2:
            continue
        out.test(SIGNAL)
        codes, values = enc[0], [str(v) for v in enc[1]]
        found.append((parameter_contrast(_name(ctx, col), codes, values, ctx.fail, ctx.counted), codes, values))
    follows = [x for x in found if _follows(x[0])]
    if not follows:
        return out
    pc, codes, values = max(follows, key=lambda x: _strength(x[0]))
    sig = signal(SIGNAL, _strength(pc), pc.describe(), _exemplars(ctx, pc, codes, values), value=pc.share)
    out.add("Failures follow the data", "; ".join(x[0].describe() for x in found if x[0].failing), [sig])
    return out


def _name(ctx: Context, col: str) -> str:
    """What a person calls the parameter: ``customers.customer_id``, ``region``, ``{int:1..5000}``."""
    pool = col[len(_PREFIX):]
    meta = ctx.f.table.schema.field(col).metadata or {}
    raw: bytes = meta.get(FILLS_KEY) or b""
    fills: list[str] = [f for f in raw.decode().split(",") if f]
    if not fills or fills == [pool]:
        return pool
    if len(fills) == 1 and fills[0].startswith("int:"):
        return "{" + fills[0] + "}"
    return f"{pool}.{fills[0]}" if len(fills) == 1 else f"{pool} ({', '.join(fills)})"


def _follows(pc: ParameterContrast) -> bool:
    """A few values hold most of the failures (enough of them to be a pattern)."""
    return (pc.covered > MIN_FAILURES and pc.share >= 0.5
            and len(pc.failing) <= max(1.0, MAX_FAILING_SHARE * pc.values))


def _strength(pc: ParameterContrast) -> float:
    """The failing values' share of the failures (at its cautious bound), less the share of values they are."""
    return wilson_lo(pc.covered, pc.failures) * (1.0 - len(pc.failing) / pc.values)


def _exemplars(ctx: Context, pc: ParameterContrast, codes: np.ndarray, values: list[str]) -> list[str]:
    """One failed request of each of the first failing values, with its value."""
    index = {v: i for i, v in enumerate(values)}
    out: list[str] = []
    for v in pc.failing[:5]:
        rows = np.flatnonzero(ctx.fail & (codes == index.get(v.value, -2)))
        if rows.size:
            out += [f"{line} [{pc.name}: {v.value}]" for line in ctx.ex(rows[:1], k=1)]
    return out


__all__ = ["SIGNAL", "failures_follow_data"]
