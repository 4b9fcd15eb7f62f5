"""Failure-latency plateaus: failures piling up at one duration, the mark of a timeout firing.

A pool that gives up after 1 s, a proxy after 2 s, a gateway after 30 s, the client's own timeout:
each makes the failures it causes last the same time, give or take scheduling jitter. We look
for the densest narrow window of the failures' latencies on a log scale (a few per cent wide,
so it fits 50 ms as well as 30 s), and keep it when it holds a good share of the failures, is
several times denser than the latencies around it, and is not simply where the successes are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass
class Plateau:
    """Failures piled up at one duration."""

    #: The duration, the median latency of the failures in the plateau (ms).
    ms: float
    count: int
    #: Share of the failures (with a latency) that fall in the plateau.
    share: float
    #: Interquartile range of the plateau's latencies over its median.
    spread: float
    #: Share of the successes whose latency falls in the same window.
    ok_share: float
    #: How many times denser the plateau is than the latencies just around it.
    peak_ratio: float
    rows: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp), repr=False)

    @property
    def seconds(self) -> float:
        return self.ms / 1000.0


def plateaus(latency_ms: ArrayLike, failed: NDArray[np.bool_], ok: NDArray[np.bool_] | None = None, *,
             width: float = 0.1, min_count: int = 5, min_share: float = 0.15, min_ms: float = 20.0,
             min_peak_ratio: float = 4.0, max_modes: int = 3) -> list[Plateau]:
    """The plateaus in the latencies of the ``failed`` rows, most populated first.

    ``width`` is the window on the natural-log scale (0.1 ≈ ±5 %). ``ok`` marks the successes, so
    that a window where successes are just as common (fast errors answered at the service's usual
    speed) is not taken for a timeout.
    """
    lat = np.asarray(latency_ms, dtype=np.float64)
    frows = np.flatnonzero(np.asarray(failed) & np.isfinite(lat) & (lat > 0))
    if frows.size < min_count:
        return []
    order = np.argsort(lat[frows], kind="stable")
    frows = frows[order]
    x = np.log(lat[frows])
    total = x.size
    ok_lat = lat[np.asarray(ok) & np.isfinite(lat) & (lat > 0)] if ok is not None else np.zeros(0)
    out: list[Plateau] = []
    alive = np.ones(total, bool)
    for _ in range(max_modes):
        xs = x[alive]
        rows_alive = frows[alive]
        if xs.size < min_count:
            break
        cnt = np.searchsorted(xs, xs + width, side="right") - np.arange(xs.size)
        i = int(np.argmax(cnt))
        centre = float(np.median(xs[i : i + cnt[i]]))
        lo, hi = centre - width / 2, centre + width / 2
        a, b = np.searchsorted(xs, [lo, hi], side="left")[0], np.searchsorted(xs, hi, side="right")
        c = int(b - a)
        # Density around the window, three widths each side, counting every failure (removed plateaus too).
        left = np.searchsorted(x, lo, "left") - np.searchsorted(x, lo - 3 * width, "left")
        right = np.searchsorted(x, hi + 3 * width, "right") - np.searchsorted(x, hi, "right")
        around = (left + right) / 6.0
        peak_ratio = c / max(around, 0.5)
        share = c / total
        ok_share = (float(((ok_lat >= np.exp(lo)) & (ok_lat <= np.exp(hi))).sum()) / ok_lat.size
                    if ok_lat.size else 0.0)
        ms = float(np.exp(centre))
        members = rows_alive[a:b]
        vals = lat[members]
        q25, q50, q75 = np.percentile(vals, [25, 50, 75])
        if (c >= min_count and share >= min_share and ms >= min_ms and peak_ratio >= min_peak_ratio
                and ok_share <= share / 3):
            out.append(Plateau(ms=float(q50), count=c, share=share, spread=float((q75 - q25) / q50) if q50 else 0.0,
                               ok_share=float(ok_share), peak_ratio=float(peak_ratio), rows=members))
        else:
            break
        # Take the plateau out and look for another.
        kill = np.flatnonzero(alive)[a:b]
        alive[kill] = False
    return out


def plateaus_binned(log_bin: ArrayLike, failed: ArrayLike, ok: ArrayLike, step: float, *,
                    width: float = 0.1, min_count: int = 5, min_share: float = 0.15, min_ms: float = 20.0,
                    min_peak_ratio: float = 4.0, max_modes: int = 3) -> list[Plateau]:
    """:func:`plateaus` over a histogram: the same windows and tests, for latencies too many to hold.

    Bin ``log_bin[i]`` covers ln(ms) in ``[log_bin[i] * step, (log_bin[i] + 1) * step)`` and holds
    ``failed[i]`` failures and ``ok[i]`` successes (bins may be missing: they are empty). ``step``
    should be a fraction of ``width``. A plateau's ``ms`` is the median bin of its failures, its
    ``spread`` the interquartile range of its bins; it has no rows.
    """
    b = np.asarray(log_bin, dtype=np.int64)
    if b.size == 0:
        return []
    lo_b = int(b.min())
    fk = np.bincount(b - lo_b, weights=np.asarray(failed, dtype=np.float64))
    ok_k = np.bincount(b - lo_b, weights=np.asarray(ok, dtype=np.float64), minlength=fk.size)
    total = float(fk.sum())
    if total < min_count:
        return []
    ok_total = float(ok_k.sum())
    w = max(1, int(round(width / step)))
    pad = np.zeros(3 * w + w)
    f_all = np.r_[pad, fk, pad]  # every failure, removed plateaus too, for the density around
    f_alive = f_all.copy()
    o = np.r_[pad, ok_k, pad]
    cum_all = np.r_[0.0, np.cumsum(f_all)]
    cum_ok = np.r_[0.0, np.cumsum(o)]
    out: list[Plateau] = []
    for _ in range(max_modes):
        cum = np.r_[0.0, np.cumsum(f_alive)]
        if cum[-1] < min_count:
            break
        cnt = cum[w:] - cum[:-w]  # failures in bins [i, i + w)
        i = int(np.argmax(cnt))
        c = float(cnt[i])
        before = cum_all[i] - cum_all[max(i - 3 * w, 0)]
        after = cum_all[min(i + 4 * w, cum_all.size - 1)] - cum_all[i + w]
        around = (before + after) / 6.0
        peak_ratio = c / max(around, 0.5)
        share = c / total
        ok_share = float(cum_ok[i + w] - cum_ok[i]) / ok_total if ok_total else 0.0
        bins = np.arange(i, i + w)
        weights = f_alive[i:i + w]
        centres = (bins - pad.size + lo_b + 0.5) * step
        q25, q50, q75 = (float(np.exp(np.interp(q * c, np.cumsum(weights) - weights / 2, centres)))
                         for q in (0.25, 0.5, 0.75))
        if (c >= min_count and share >= min_share and q50 >= min_ms and peak_ratio >= min_peak_ratio
                and ok_share <= share / 3):
            out.append(Plateau(ms=q50, count=int(c), share=share, spread=(q75 - q25) / q50 if q50 else 0.0,
                               ok_share=ok_share, peak_ratio=float(peak_ratio)))
        else:
            break
        f_alive[i:i + w] = 0.0
    return out


__all__ = ["Plateau", "plateaus", "plateaus_binned"]
