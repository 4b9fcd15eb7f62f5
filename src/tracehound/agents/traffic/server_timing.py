"""The service's own Server-Timing header: which phase grows in the failing (or slow) requests."""

from __future__ import annotations

from tracehound.agents.traffic.context import Context, Section
from tracehound.agents.traffic.signals import SERVER_TIMING_SIGNALS
from tracehound.analysis.server_timing import server_timing
from tracehound.diagnosis.signals import Signal, signal

_AGAINST = {"failing": "failing requests against succeeding ones",
            "slow": "the slowest tenth of the successes against their fastest half"}


def server_timing_phases(ctx: Context) -> Section:
    """Which phase of the service's own Server-Timing grows in the failing (or slow) requests."""
    out = Section()
    st = server_timing(ctx.f, ctx.counted & ctx.in_load_run)
    if st is None or not st.compared:
        return out
    against = _AGAINST.get(st.contrast or "", "medians of the answered requests")
    out.test(*(SERVER_TIMING_SIGNALS[g.role] for g in st.compared if g.role in SERVER_TIMING_SIGNALS))
    sigs: list[Signal] = []
    for g in st.growing:
        name = SERVER_TIMING_SIGNALS.get(g.role)
        if name is None:
            continue
        if g.how == "dominant":
            d = (f"Server-Timing '{g.phase}': a median {g.answered_ms:.1f} ms, {g.dominant_share:.0%} of the latency "
                 "of the answered requests")
            strength = 0.3 + 0.5 * g.dominant_share
        else:
            gap = (f"{g.share:.0%} of the {g.latency_gap_ms:.0f} ms latency between them" if g.latency_gap_ms > 0
                   else "though they were no slower overall")
            d = (f"Server-Timing '{g.phase}': median {g.bad_ms:.1f} ms in {g.n_bad} {g.how} requests against "
                 f"{g.good_ms:.1f} ms in {g.n_good} others, {gap} (P(larger) {g.auc:.2f})")
            strength = (0.4 + 0.6 * g.share) * (2 * g.auc - 1)
        ms = g.answered_ms if g.how == "dominant" else g.bad_ms
        sigs.append(signal(name, max(0.3, min(1.0, strength)), d, ctx.ex(g.rows), value=ms / 1000))
    medians = "; ".join((f"{g.phase} {g.bad_ms:.1f} vs {g.good_ms:.1f} ms" if g.n_bad else f"{g.phase} —")
                        + f" (all answered: {g.answered_ms:.1f} ms)" for g in st.compared)
    out.add("Server-Timing phases", f"{st.with_header} responses carried Server-Timing ({', '.join(st.phases)}); "
            f"{against}: {medians or 'no phase to compare'}", sigs)
    return out


__all__ = ["server_timing_phases"]
