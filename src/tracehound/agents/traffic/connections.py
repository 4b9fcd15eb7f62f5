"""Connections and idle time: resets on reused keep-alive connections, failures after a pause."""

from __future__ import annotations

import numpy as np

from tracehound.agents.traffic.context import Context, Section
from tracehound.analysis.connections import GAP_MS, GapEffect, connection_structure
from tracehound.analysis.outcome import DROPPED_CONNECTION_ERRORS
from tracehound.diagnosis.signals import Signal, signal


def connections(ctx: Context) -> Section:
    f = ctx.f
    out = Section()
    dropped = f.error_is(*DROPPED_CONNECTION_ERRORS)
    cs = connection_structure(f.conn_reused, ctx.fail, ctx.counted, dropped, f.conn_idle_ms, f.quiet_ms)
    sigs: list[Signal] = []
    notes = [f"failures on reused connections {cs.reused[0]}/{cs.reused[1]}, on new ones {cs.new[0]}/{cs.new[1]}"]
    if cs.reused[1] + cs.new[1] > 0 and ctx.dist.primary >= 3:
        out.test("reset_on_reused_connection")
    if cs.drops:
        notes.append(f"dropped connections: {cs.dropped_reused[0]} on reused, {cs.dropped_new[0]} on new")
    if cs.reset_on_reused:
        rows = np.flatnonzero(dropped & (f.conn_reused == 1))
        sigs.append(signal("reset_on_reused_connection", cs.reset_strength,
                           f"{cs.dropped_reused[0]} of {cs.drops} dropped connections ({cs.reused_share_of_drops:.0%}) "
                           f"were reused keep-alive connections ({cs.dropped_reused[0]}/{cs.dropped_reused[1]} reused "
                           f"vs {cs.dropped_new[0]}/{cs.dropped_new[1]} new)", ctx.ex(rows),
                           value=cs.reused_share_of_drops))
    best: GapEffect | None = None
    measures = [g for g in (cs.quiet, cs.idle) if g is not None]
    for g in measures:
        if not g.tested:
            continue
        notes.append(f"by {g.measure}: "
                     + ", ".join(f"{b.label}: {b.failures}/{b.requests}" for b in g.buckets if b.requests))
        if g.significant and (best is None or g.effect > best.effect):
            best = g
    # The service's quiet time and each connection's idle time are two mechanisms (a pool inside
    # the service going stale, a client connection meeting a keep-alive timeout): one measure's
    # silence rules out neither while the other lacked the failures to decide.
    if best is not None or (measures and all(g.tested for g in measures)):
        out.test("failures_after_idle_gap")
    if best is not None:
        (kg, ng), (ks, ns) = best.after_gap, best.steady
        sigs.append(signal("failures_after_idle_gap", best.effect,
                           f"{kg} of {ng} requests after ≥ {best.gap_ms / 1000:g} s of {best.measure} failed, against "
                           f"{ks} of {ns} after {_shorter(best.gap_ms)} (p={best.p:.1e})", ctx.ex(best.rows),
                           value=kg / ng))
    out.add("Connections and idle time", "; ".join(notes), sigs)
    return out


def _shorter(gap_ms: float) -> str:
    return "steady traffic" if gap_ms <= GAP_MS else f"less than {gap_ms / 1000:g} s"


__all__ = ["connections"]
