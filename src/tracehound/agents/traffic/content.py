"""What the answers hold: successful (2xx) answers whose body departs from the majority's."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from tracehound.agents.traffic.context import Context, Section
from tracehound.analysis.content import content_anomalies
from tracehound.diagnosis.signals import signal


def content(ctx: Context) -> Section:
    f = ctx.f
    out = Section()
    st = f.status
    eligible = ctx.counted & (st >= 200) & (st < 300) & ((f.error < 0) | f.error_is("capture"))
    if eligible.sum() < 20:
        return out
    group, names = ctx.request_groups()
    if group is None:
        group, names = np.zeros(f.n, np.int32), ["all"]
    samples: Callable[[np.ndarray], pa.Array] | None = (
        (lambda rows: f.take("body_sample", rows)) if f.has("body_sample") else None)
    h = f.codes("body_hash", max_cardinality=1 << 30)
    out.test("ok_status_body_anomaly")
    found = content_anomalies(group, names, eligible, f.bytes_in, samples, h[0] if h is not None else None)
    if not found:
        return out
    top = found[0]
    lines = [f"{a.group}: {a.count} of {a.group_count} 2xx answers ({a.share:.0%}) are {a.example} where the "
             f"majority is {a.majority} ({a.kind})" for a in found[:5]]
    sig = signal("ok_status_body_anomaly", top.strength, lines[0] + (" (sampled)" if top.sampled < 1 else ""),
                 ctx.ex(top.rows), value=top.share)
    out.add("Successful answers with the wrong body", "; ".join(lines), [sig])
    return out


__all__ = ["content"]
