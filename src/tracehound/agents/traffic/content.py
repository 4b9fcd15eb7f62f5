"""What the answers hold: successful (2xx) answers whose body departs from the majority's, and whether
that follows concurrency.

Answers an investigation already marked ``wrong_body`` as a minority body (:mod:`tracehound.wrong_body`)
are 2xx answers like the others here; those that missed a user's expectation are not judged again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracehound.agents.traffic.context import Context, Section
from tracehound.analysis.content import ERROR_KIND, content_anomalies, request_kinds, wrong_rows
from tracehound.analysis.load import load_dependence
from tracehound.diagnosis.signals import signal
from tracehound.expect import MINORITY_PREFIX, WRONG_BODY
from tracehound.wrong_body import describe


def content(ctx: Context) -> Section:
    f = ctx.f
    out = Section()
    st = f.status
    ok_status = ctx.counted & (st >= 200) & (st < 300)
    eligible = ok_status & ((f.error < 0) | f.error_is("capture") | _minority_marked(ctx))
    if eligible.sum() < 20:
        return out
    group, names = request_kinds(f.codes("step"), f.codes("method"), f.codes("path", max_cardinality=1 << 20), f.n)
    samples: Callable[[np.ndarray], pa.Array] | None = (
        (lambda rows: f.take("body_sample", rows)) if f.has("body_sample") else None)
    h = f.codes("body_hash", max_cardinality=1 << 30)
    out.test("ok_status_body_anomaly")
    # A body that says it failed is the service reporting an error in a 200, not a wrong answer it
    # believes right: that is failures_are_error_bodies' to say, with the other failures.
    found = [a for a in content_anomalies(group, names, eligible, f.bytes_in, samples, h[0] if h is not None else None)
             if a.kind != ERROR_KIND]
    if not found:
        return out
    top = found[0]
    lines = [describe(a) for a in found[:5]]
    sig = signal("ok_status_body_anomaly", top.strength, lines[0] + (" (sampled)" if top.sampled < 1 else ""),
                 ctx.ex(top.rows), value=top.share)
    sigs = [sig]
    wrong = np.zeros(f.n, bool)
    wrong[wrong_rows(found)] = True
    if wrong.any():
        use = eligible & ctx.in_load_run
        ld = load_dependence(np.where(use, f.inflight, -1), wrong, use, use & ~wrong, f.latency_ms)
        if ld.tested:
            out.test("minority_body_shape_rises_with_concurrency")
        if ld.failures_rise:
            (kb, nb), (ka, na) = ld.below, ld.above
            sigs.append(signal(
                "minority_body_shape_rises_with_concurrency", ld.rise,
                f"{ka / na:.1%} of 2xx answers have a minority body with {ld.knee} or more in flight against "
                f"{kb / nb:.1%} below (trend z={ld.z:.1f})",
                ctx.ex(np.flatnonzero(wrong & use & (f.inflight >= (ld.knee or 0)))), value=float(ld.knee or 0)))
    out.add("Successful answers with the wrong body", "; ".join(lines), sigs)
    return out


def _minority_marked(ctx: Context) -> np.ndarray:
    """Rows marked ``wrong_body`` for a minority shape (not for a missed expectation)."""
    f = ctx.f
    marked: np.ndarray = f.error_is(WRONG_BODY)
    if marked.any():
        msg = pc.fill_null(pc.starts_with(pc.cast(f.table.column("error"), pa.string()), MINORITY_PREFIX), False)
        marked &= np.asarray(msg.to_numpy(zero_copy_only=False), bool)
    return marked


__all__ = ["content"]
