"""Experiments with pauses: a flow with and without a pause between dependent requests (read after write)."""

from __future__ import annotations

import numpy as np

from tracehound.agents.traffic.context import Context, Section
from tracehound.analysis.stats import fisher_greater, relative_rise
from tracehound.diagnosis.signals import Signal, signal


def delay(ctx: Context) -> Section:
    f = ctx.f
    out = Section()
    runs = [r for r in f.runs if r.kind == "flow_delay"]
    none = [r.index for r in runs if not r.delay_s]
    some = [r.index for r in runs if r.delay_s]
    if not none or not some:
        return out
    out.test("failures_vanish_with_delay", "read_after_write_miss")
    m0 = np.isin(f.run, none) & ctx.counted
    md = np.isin(f.run, some) & ctx.counted
    k0, n0 = int((m0 & ctx.fail).sum()), int(m0.sum())
    kd, nd = int((md & ctx.fail).sum()), int(md.sum())
    delays = sorted({f.runs[i].delay_s or 0.0 for i in some})
    detail = (f"without a pause between steps {k0}/{n0} failed; with {', '.join(f'{d:g}' for d in delays)} s pauses "
              f"{kd}/{nd}")
    sigs: list[Signal] = []
    if k0 >= 3 and nd >= 5 and fisher_greater(k0, n0, kd, nd) < 0.01 and kd / nd <= 0.25 * k0 / n0:
        vanish = relative_rise(k0, n0, kd, nd)
        rows0 = np.flatnonzero(m0 & ctx.fail)
        sigs.append(signal("failures_vanish_with_delay", vanish, detail, ctx.ex(rows0), value=kd / nd))
        st = f.status[rows0]
        writes = _has_writes(ctx, none)
        reads = _read_rows(ctx, rows0)
        # A read that found nothing (404, 410, or an answer a later step could not capture from) or
        # an answer that is not the right one yet (it misses the step's expect: an old value).
        ok_wrong = (st >= 200) & (st < 300) & f.error_is("capture", "wrong_body")[rows0]
        miss = (np.isin(st, (404, 410)) | ok_wrong) & reads
        share = float(miss.mean()) if rows0.size else 0.0
        if writes and miss.sum() >= 2 and share >= 0.5:
            sigs.append(signal("read_after_write_miss", vanish * share,
                               f"{int(miss.sum())} of {rows0.size} failures without a pause ({share:.0%}) are reads "
                               "that found nothing or an old answer (404, empty, or not what the step expects) "
                               f"after a write; with a pause {kd}/{nd} failed", ctx.ex(rows0[miss]), value=share))
    out.add("Pauses between dependent requests", detail, sigs)
    return out


def _has_writes(ctx: Context, runs: list[int]) -> bool:
    enc = ctx.f.codes("method")
    if enc is None:
        return False
    codes, values = enc
    w = [i for i, v in enumerate(values) if str(v).upper() in ("POST", "PUT", "PATCH")]
    return bool(w) and bool(np.isin(codes[np.isin(ctx.f.run, runs)], w).any())


def _read_rows(ctx: Context, rows: np.ndarray) -> np.ndarray:
    enc = ctx.f.codes("method")
    if enc is None:
        return np.ones(rows.size, bool)
    codes, values = enc
    r = [i for i, v in enumerate(values) if str(v).upper() in ("GET", "HEAD")]
    reads: np.ndarray = np.isin(codes[rows], r)
    return reads


__all__ = ["delay"]
