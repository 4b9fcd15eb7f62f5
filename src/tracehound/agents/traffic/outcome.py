"""What the failures are: their statuses, timeouts, connection errors, and rate-limit headers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracehound.agents.traffic.context import Context, Section
from tracehound.agents.traffic.signals import STATUS_SIGNALS
from tracehound.analysis.outcome import CONNECTION_ERRORS
from tracehound.analysis.stats import fisher_greater
from tracehound.diagnosis.signals import Signal, signal
from tracehound.expect import ERROR_BODY_PREFIX


def _says_it_failed(ctx: Context) -> np.ndarray:
    """Rows marked ``wrong_body`` because their body says the request failed."""
    f = ctx.f
    if not f.error_is("wrong_body").any():
        return np.zeros(f.n, bool)
    msg = pc.fill_null(pc.starts_with(pc.cast(f.table.column("error"), pa.string()), ERROR_BODY_PREFIX), False)
    return np.asarray(msg.to_numpy(zero_copy_only=False), bool)


def outcome(ctx: Context) -> Section:
    f, d = ctx.f, ctx.dist
    out = Section()
    statuses = ", ".join(f"{s or 'none'}×{c}" for s, c in sorted(d.statuses.items(), key=lambda kv: -kv[1])[:6])
    kinds = ", ".join(f"{k}×{c}" for k, c in sorted(d.error_kinds.items(), key=lambda kv: -kv[1]))
    detail = (f"{d.requests} requests, {d.failed} failed ({d.failure_rate:.1%})"
              + (f", {d.cascaded} of them not sent because an earlier step failed" if d.cascaded else "")
              + f"; statuses {statuses or 'none'}" + (f"; errors {kinds}" if kinds else "")
              + f". Latency of successes {d.latency_ok.brief()}; of failures {d.latency_failed.brief()}.")
    sigs: list[Signal] = []
    if d.primary >= 3:
        out.test(*(f"status_{s}" for s in STATUS_SIGNALS), "client_timeouts", "connection_errors",
                 "failures_are_wrong_bodies", "failures_are_error_bodies")
    for s in STATUS_SIGNALS:
        c = d.failure_statuses.get(s, 0)
        if c >= 2:
            rows = np.flatnonzero(ctx.fail & (f.status == s))
            sigs.append(signal(f"status_{s}", d.status_share(s),
                               f"{c} of {d.primary} failures ({d.status_share(s):.0%}) answered {s}", ctx.ex(rows),
                               value=d.status_share(s)))
    # Answers below 300 that failed for their body: a missed expectation, a minority shape, a capture
    # that found nothing. Not an error of the service's own making that it reports.
    wrong = ctx.fail & (f.status >= 200) & (f.status < 300) & f.error_is("wrong_body", "capture")
    said = wrong & _says_it_failed(ctx)
    wrong &= ~said
    if said.sum() >= 2 and d.primary:
        share = float(said.sum()) / d.primary
        sigs.append(signal("failures_are_error_bodies", share,
                           f"{int(said.sum())} of {d.primary} failures ({share:.0%}) answered 2xx with a body that "
                           "says the request failed", ctx.ex(np.flatnonzero(said)), value=share))
    if wrong.sum() >= 2 and d.primary:
        share = float(wrong.sum()) / d.primary
        sigs.append(signal("failures_are_wrong_bodies", share,
                           f"{int(wrong.sum())} of {d.primary} failures ({share:.0%}) answered 2xx with a wrong body",
                           ctx.ex(np.flatnonzero(wrong)), value=share))
    timeouts = ctx.fail & f.error_is("timeout")
    if timeouts.sum() >= 2:
        secs = float(np.nanmedian(f.latency_ms[timeouts])) / 1000
        share = d.error_share("timeout")
        sigs.append(signal("client_timeouts", share,
                           f"{int(timeouts.sum())} of {d.primary} failures ({share:.0%}) got no answer before the "
                           f"client's timeout (median {secs:.2f} s)", ctx.ex(np.flatnonzero(timeouts)), value=secs))
    conn = ctx.fail & f.error_is(*CONNECTION_ERRORS)
    if conn.sum() >= 2:
        share = d.error_share(*CONNECTION_ERRORS)
        kinds_c = ", ".join(f"{k}×{d.error_kinds[k]}" for k in CONNECTION_ERRORS if d.error_kinds.get(k))
        sigs.append(signal("connection_errors", share,
                           f"{int(conn.sum())} of {d.primary} failures ({share:.0%}) failed at the connection: "
                           f"{kinds_c}", ctx.ex(np.flatnonzero(conn)), value=share))
    _retry_after(ctx, out, sigs)
    out.add("What the failures are" if d.failed else "No failures", detail, sigs, ctx.ex(np.flatnonzero(ctx.fail)))
    return out


def _retry_after(ctx: Context, out: Section, sigs: list[Signal]) -> None:
    f = ctx.f
    cols = [c for c in f.header_columns() if c == "h_retry_after" or "ratelimit" in c or "rate_limit" in c]
    answered = ctx.fail & (f.status > 0)
    if not cols or answered.sum() < 3:
        return
    out.test("retry_after_header")
    has = np.zeros(f.n, bool)
    for c in cols:
        present = f.table.column(c).is_valid().to_numpy(zero_copy_only=False)
        if "remaining" in c:
            # X-RateLimit-Remaining rides on every answer; it says "limited" when it reads 0.
            enc = f.codes(c)
            if enc is None:
                continue
            codes, values = enc
            present = np.isin(codes, [i for i, v in enumerate(values) if str(v).strip() == "0"])
        has |= present
    k = int((has & answered).sum())
    k_ok = int((has & f.ok).sum())
    if k >= 2 and fisher_greater(k, int(answered.sum()), k_ok, max(int(f.ok.sum()), 1)) < 0.01:
        share = k / int(answered.sum())
        sigs.append(signal("retry_after_header", share,
                           f"{k} of {int(answered.sum())} failing responses ({share:.0%}) carry Retry-After or "
                           f"rate-limit headers ({', '.join(c[2:] for c in cols)}), against {k_ok} successes",
                           ctx.ex(np.flatnonzero(has & answered)), value=share))


__all__ = ["outcome"]
