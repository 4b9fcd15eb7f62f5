"""How long requests take: failures piling up at a timeout or failing fast, slow requests and what makes them slow."""

from __future__ import annotations

import math

import numpy as np

from tracehound.agents.traffic.context import Context, Section, sample, sample_rows
from tracehound.analysis.plateau import plateaus
from tracehound.analysis.stats import mann_whitney_greater, saturate, spearman
from tracehound.diagnosis.signals import Signal, signal


def latency_of_failures(ctx: Context) -> Section:
    """Failures that end at one duration (a timeout fired), or come back much faster than successes."""
    f, d = ctx.f, ctx.dist
    out = Section()
    lat = f.latency_ms
    withlat = ctx.fail & np.isfinite(lat)
    if withlat.sum() < 5:
        return out
    out.test("failure_latency_plateau", "failures_fast")
    sigs: list[Signal] = []
    pl = plateaus(lat, withlat, f.ok)
    lines = [f"{p.count} failures ({p.share:.0%}) end at {p.seconds:.3g} s (±{p.spread / 2:.0%}), "
             f"{p.peak_ratio:.0f}× denser than around it; {p.ok_share:.0%} of successes there" for p in pl]
    if pl:
        top = pl[0]
        sigs.append(signal("failure_latency_plateau", top.share * saturate(top.count),
                           f"failures pile up at {top.seconds:.3g} s: " + "; ".join(lines), ctx.ex(top.rows),
                           value=round(top.seconds, 3)))
    ok_lat = lat[f.ok & np.isfinite(lat)]
    fl = lat[withlat]
    fast = ""
    if ok_lat.size >= 5:
        med_f, med_ok = float(np.median(fl)), float(np.median(ok_lat))
        ratio = med_f / med_ok if med_ok > 0 else 1.0
        if ratio <= 0.6:
            auc, p = mann_whitney_greater(sample(ok_lat), sample(fl))
            if p < 1e-3 and auc >= 0.75:
                # How reliably a success is slower than a failure, and by how much.
                strength = (2 * auc - 1) * min(1.0, math.log(1 / max(ratio, 1e-6)) / math.log(5))
                fast = (f"failures take a median {med_f:.1f} ms against {med_ok:.1f} ms for successes "
                        f"({ratio:.2f}×; a success is the slower of the two {auc:.0%} of the time)")
                sigs.append(signal("failures_fast", strength, fast, ctx.ex(np.flatnonzero(withlat)), value=ratio))
    if sigs:
        out.add("How long the failures take", "; ".join(lines + ([fast] if fast else [])) or d.latency_failed.brief(),
                sigs)
    return out


def latency(ctx: Context) -> Section:
    """Slow even alone, one kind of request far slower than the others, time that grows with the answer's size."""
    f = ctx.f
    out = Section()
    lat = f.latency_ms
    sigs: list[Signal] = []
    notes: list[str] = []
    alone = ctx.alone()
    ok_alone = alone & f.ok & np.isfinite(lat)
    if ok_alone.sum() >= 5:
        out.test("slow_when_sequential")
        p50 = float(np.median(lat[ok_alone]))
        notes.append(f"alone, successes take p50 {p50:.0f} ms")
        rows, what = ok_alone, "successes"
        slowest = _slowest_alone(ctx, ok_alone)
        if p50 < 200 and slowest is not None and slowest[1] >= 200:
            # One kind of request slow even alone (the flow's one heavy step), the others fast.
            rows, p50, what = slowest[0], slowest[1], f"{slowest[2]} answers"
            notes.append(f"alone, {slowest[2]} takes p50 {p50:.0f} ms")
        if p50 >= 200:
            sigs.append(signal("slow_when_sequential", min(1.0, math.log10(p50 / 100)),
                               f"one request at a time, {what} take a median {p50:.0f} ms",
                               ctx.ex(np.flatnonzero(rows)), value=p50 / 1000))
    _by_request(ctx, out, sigs, notes)
    _by_size(ctx, out, sigs, notes)
    if sigs or notes:
        out.add("Latency", "; ".join(notes), sigs)
    return out


def _slowest_alone(ctx: Context, ok_alone: np.ndarray) -> tuple[np.ndarray, float, str] | None:
    """The kind of request slowest when sent alone (at least three answers): its rows, its p50, its name."""
    group, names = ctx.request_groups()
    if group is None:
        return None
    lat = ctx.f.latency_ms
    best: tuple[np.ndarray, float, str] | None = None
    for j in np.unique(group[ok_alone & (group >= 0)]):
        rows = ok_alone & (group == j)
        if rows.sum() < 3:
            continue
        p50 = float(np.median(lat[rows]))
        if best is None or p50 > best[1]:
            best = (rows, p50, names[int(j)])
    return best


def _by_request(ctx: Context, out: Section, sigs: list[Signal], notes: list[str]) -> None:
    """One kind of request (a step of the flow, a path) far slower than the others."""
    f = ctx.f
    lat = f.latency_ms
    group, names = ctx.request_groups()
    answered = ctx.counted & (f.status > 0) & np.isfinite(lat) & ctx.in_load_run
    if group is None:
        return
    g = group[answered]
    counts = np.bincount(g[g >= 0], minlength=len(names))
    big = np.flatnonzero(counts >= 5)
    if big.size < 2:
        return
    out.test("latency_varies_by_request")
    meds = {int(j): float(np.median(lat[answered & (group == j)])) for j in big}
    slow = max(meds, key=lambda j: meds[j])
    fast = min(meds, key=lambda j: meds[j])
    ratio = meds[slow] / max(meds[fast], 1e-3)
    delta = meds[slow] - meds[fast]
    notes.append("median by request: " + ", ".join(f"{names[j]} {m:.0f} ms" for j, m in
                                                    sorted(meds.items(), key=lambda kv: -kv[1])[:6]))
    if ratio >= 3 and delta >= 50:
        _, p = mann_whitney_greater(sample(lat[answered & (group == slow)]),
                                    sample(lat[answered & (group != slow) & (group >= 0)]))
        if p < 1e-3:
            sigs.append(signal("latency_varies_by_request", min(1.0, math.log(ratio) / math.log(10)),
                               f"{names[slow]} takes a median {meds[slow]:.0f} ms, {ratio:.1f}× the fastest "
                               f"({names[fast]}, {meds[fast]:.0f} ms)",
                               ctx.ex(np.flatnonzero(answered & (group == slow))), value=ratio))


def _by_size(ctx: Context, out: Section, sigs: list[Signal], notes: list[str]) -> None:
    """Time that grows with the size of the answer.

    Judged twice: over the answers to requests sent one at a time, where no queue behind other
    users' requests blurs the cost of each answer's items, and over every success; the clearer wins.
    Each step of a flow is judged apart: a step that is both larger and
    slower than another says which step it is (latency_varies_by_request's), not that items cost time.
    """
    f = ctx.f
    okb = f.ok & np.isfinite(f.latency_ms) & (f.bytes_in > 0)
    kinds: list[tuple[str, np.ndarray]] = [("", okb)]
    steps = f.codes("step")  # a flow's steps; paths are not split (an id in the path is the request's data)
    if steps is not None:
        code, names = steps
        present = [int(j) for j in np.unique(code[okb & ctx.in_load_run]) if j >= 0]
        if len(present) > 1:
            kinds = [(f"of {names[j]}", okb & (code == j)) for j in present]
    best: tuple[float, str, np.ndarray, float] | None = None
    for kind, of_kind in kinds:
        for who, mask in ((f"{kind} sent one at a time".strip(), of_kind & ctx.alone()), (kind, of_kind)):
            found = _size_effect(ctx, mask, who, out, notes)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
    if best is not None:
        strength, detail, rows, value = best
        sigs.append(signal("latency_scales_with_body_size", strength, detail, ctx.ex(rows), value=value))


def _size_effect(ctx: Context, mask: np.ndarray, who: str, out: Section, notes: list[str]
                 ) -> tuple[float, str, np.ndarray, float] | None:
    """(strength, detail, example rows, value) of latency growing with answer size among ``mask``'s successes."""
    f = ctx.f
    lat = f.latency_ms
    if mask.sum() < 30:
        return None
    rows = sample_rows(np.flatnonzero(mask))
    size = f.bytes_in[rows]
    p10, p90 = np.percentile(size, [10, 90])
    # Sizes must vary: a spread of the bulk, or a few answers at least twice the usual
    # size (the one large account among many small ones).
    med = float(np.median(size))
    large = int((size >= 2 * med).sum())
    if not ((p10 > 0 and p90 / p10 >= 2) or (med > 0 and large >= 5 and size.size - large >= 5)):
        return None
    out.test("latency_scales_with_body_size")
    among = f" {who}" if who else ""
    rho, p = spearman(size, lat[rows])
    notes.append(f"latency against answer size{among}: Spearman ρ {rho:.2f}")
    big = size >= 2 * med
    if rho >= 0.3 and p < 1e-3:
        big_rows = rows[size >= max(p90, 2 * med)] if large else rows[size >= p90]
        return (rho, f"the larger the answer the longer it takes (Spearman ρ {rho:.2f} over {rows.size} "
                     f"successes{among}; sizes {p10:.0f}–{p90:.0f} bytes)", big_rows, rho)
    if large >= 5 and size.size - large >= 5:
        # Two clusters (a few large answers among many small ones): a rank correlation
        # over everything is diluted by the noise among the small; compare the groups.
        lb, ls = lat[rows][big], lat[rows][~big]
        auc, p2 = mann_whitney_greater(sample(lb), sample(ls))
        rise = float(np.median(lb)) / max(float(np.median(ls)), 1e-3)
        if p2 < 1e-3 and rise >= 3 and auc >= 0.8:
            return (2 * (auc - 0.5), f"the {large} answers{among} of at least {2 * med:.0f} bytes (twice the "
                    f"median) take a median {np.median(lb):.0f} ms, {rise:.1f}× the others (P(slower) {auc:.2f})",
                    rows[big], rise)
    return None


__all__ = ["latency", "latency_of_failures"]
