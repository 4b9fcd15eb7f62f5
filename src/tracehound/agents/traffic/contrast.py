"""What the failures have in common: one value of a request attribute, or one of several servers."""

from __future__ import annotations

import numpy as np

from tracehound.agents.traffic.context import Context, Section
from tracehound.analysis.contrast import Attribute, ContrastItem, contrast
from tracehound.diagnosis.signals import Signal, signal


def what_failures_share(ctx: Context) -> Section:
    out = Section()
    attrs = ctx.attributes
    items = contrast(attrs, ctx.fail, ctx.counted)
    sig_items = [i for i in items if i.q < 0.01]
    if not sig_items:
        if items:
            out.test("failures_concentrated_on_attribute")
        return out
    sigs: list[Signal] = []
    by_name = {a.name: a for a in attrs}
    if any(a.role == "request" and len(a.values) >= 2 for a in attrs):
        out.test("failures_concentrated_on_attribute")
    req = [i for i in sig_items if i.role == "request" and concentrated(i)]
    if req:
        top = max(req, key=lambda i: i.diff)
        sigs.append(signal("failures_concentrated_on_attribute", top.diff, top.describe(),
                           ctx.ex(_rows_of(ctx, by_name[top.attribute], top.value)), value=top.diff))
    server_attrs = [a for a in attrs if a.role == "server" and len(a.values) >= 2]
    if server_attrs:
        out.test("failures_on_one_server")
    srv = [i for i in sig_items
           if i.role == "server" and concentrated(i) and _several_servers(ctx, by_name[i.attribute], i)]
    if srv:
        top = max(srv, key=lambda i: i.diff)
        sigs.append(signal("failures_on_one_server", top.diff, top.describe(),
                           ctx.ex(_rows_of(ctx, by_name[top.attribute], top.value)), value=top.diff))
    out.add("What the failures have in common", "; ".join(i.describe() for i in sig_items[:8]), sigs)
    return out


def concentrated(i: ContrastItem) -> bool:
    """A value that holds a clear share more of the failures than of the successes, and fails far more often."""
    return i.failures >= 3 and i.diff >= 0.2 and i.rate >= 2 * i.rate_without


def _rows_of(ctx: Context, attr: Attribute, value: str) -> np.ndarray:
    try:
        code = attr.values.index(value)
    except ValueError:
        code = -1
    return np.flatnonzero(ctx.fail & (np.asarray(attr.codes) == code))


def _several_servers(ctx: Context, attr: Attribute, item: ContrastItem) -> bool:
    """Backends, not layers: successes come from several values, or from the failing one too."""
    codes = np.asarray(attr.codes)
    ok_codes = np.unique(codes[ctx.f.ok & (codes >= 0)])
    try:
        code = attr.values.index(item.value)
    except ValueError:
        return False
    return ok_codes.size >= 2 or code in ok_codes


__all__ = ["concentrated", "what_failures_share"]
