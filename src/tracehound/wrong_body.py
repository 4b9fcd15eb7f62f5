"""Wrong 200s with no expectation given: answers whose body is a minority shape, counted as failures.

"It answers 200 with an empty {} now and then" is a failure no status shows. Among the 2xx
answers to each kind of request (a flow step, or a method and path with the numbers masked),
pooled over every run of an investigation, the majority body sets what right looks like; an
answer that departs from it (empty where the majority is not, another JSON type, other keys, or
a size far off a tight majority: :func:`tracehound.analysis.content.content_anomalies`) is
recorded as a failure of kind ``wrong_body``, its message saying how it departs. A body that only
hashes differently is left alone: it may just carry a timestamp.

The records are amended in place (``requests.parquet`` and a ``wrong_body`` note in
``run.json``), so that every reader, the summary, the agents, the charts and ``verify``, counts
the same failures. Marking again is idempotent: rows marked before are judged again against the
pooled majority. Runs made with an expectation (``--expect``, a step's ``expect:``) are judged by
it instead, and canaries (any answer counts) are never judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tracehound.analysis.content import ERROR_KIND, WRONG_KINDS, BodyAnomaly, content_anomalies, request_kinds
from tracehound.analysis.frame import Frame, concat
from tracehound.analysis.outcome import error_codes, status_codes
from tracehound.expect import ERROR_BODY_PREFIX, MINORITY_PREFIX, WRONG_BODY
from tracehound.probe.meta import WrongBodyMeta, write_meta
from tracehound.probe.records import ERROR_CODE
from tracehound.probe.run import Run, write_table

#: The least share of a request kind's 2xx answers a minority shape must reach to count as failures:
#: a trace below it (4 answers in 3,426 of a list that grew while the run filled it) is the data
#: changing, not a wrong answer; the races users report show in a few per cent of answers.
MIN_SHARE = 0.005
#: How a minority body's error message begins (and how a row marked here is told from an expectation's).
PREFIX = MINORITY_PREFIX
_WRONG = ERROR_CODE[WRONG_BODY]


@dataclass
class WrongBodies:
    """The minority answers found across some runs."""

    #: Rows found, per run folder (runs with none left out).
    by_run: dict[Path, int] = field(default_factory=dict)
    #: How they depart, one line per request kind and departure.
    lines: list[str] = field(default_factory=list)
    #: Per run given (in order): which rows are minority answers, and each one's message (None elsewhere).
    masks: list[NDArray[np.bool_]] = field(default_factory=list, repr=False)
    messages: list[NDArray[np.object_]] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return sum(self.by_run.values())


def judged(run: Run) -> bool:
    """Whether minority bodies are looked for in ``run``: a target run made without an expectation."""
    return not run.meta.is_canary and not run.meta.expect


def find_wrong_bodies(runs: Sequence[Run]) -> WrongBodies:
    """The minority answers of ``runs``, pooled over those :func:`judged`."""
    out = WrongBodies(masks=[np.zeros(r.table.num_rows, bool) for r in runs],
                      messages=[np.full(r.table.num_rows, None, object) for r in runs])
    chosen = [i for i, r in enumerate(runs) if judged(r)]
    tables = [runs[i].table for i in chosen]
    if not tables or sum(t.num_rows for t in tables) == 0:
        return out
    f = Frame(concat(tables))
    st = status_codes(f.table)
    eligible = (st >= 200) & (st < 300) & ((f.error < 0) | _ours(f.table))
    if eligible.sum() < 20:
        return out
    group, names = request_kinds(f.codes("step"), f.codes("method"), f.codes("path", max_cardinality=1 << 20), f.n)
    samples = (lambda rows: f.take("body_sample", rows)) if f.has("body_sample") else None
    h = f.codes("body_hash", max_cardinality=1 << 30)
    found = [a for a in content_anomalies(group, names, eligible, f.bytes_in, samples, h[0] if h is not None else None)
             if a.kind in WRONG_KINDS and a.share >= MIN_SHARE]
    message = np.full(f.n, None, object)
    wrong = np.zeros(f.n, bool)
    for a in found:
        message[a.rows] = (f"{ERROR_BODY_PREFIX}{a.example} where other 2xx answers are {a.majority}"
                           if a.kind == ERROR_KIND else
                           f"{PREFIX}{a.example} where the majority of 2xx answers is {a.majority} ({a.kind})")
        wrong[a.rows] = True
    out.lines = [describe(a) for a in found]
    bounds = np.cumsum([0] + [t.num_rows for t in tables])
    for j, i in enumerate(chosen):
        out.messages[i] = message[bounds[j]:bounds[j + 1]]
        out.masks[i] = wrong[bounds[j]:bounds[j + 1]]
        if out.masks[i].any():
            out.by_run[runs[i].path] = int(out.masks[i].sum())
    return out


def describe(a: BodyAnomaly) -> str:
    """One line for a departure found among a request kind's 2xx answers."""
    if a.kind == ERROR_KIND:
        return (f"{a.group}: {a.count} of {a.group_count} 2xx answers ({a.share:.0%}) are {a.example}, where the "
                f"others are {a.majority}")
    return (f"{a.group}: {a.count} of {a.group_count} 2xx answers ({a.share:.0%}) are {a.example} where the "
            f"majority is {a.majority} ({a.kind})")


def mark_wrong_bodies(runs: Sequence[Run], write: bool = True) -> WrongBodies:
    """Find the minority answers of ``runs`` and record them as ``wrong_body`` failures (idempotent).

    ``write=False`` amends the runs' tables in memory only (to re-score kept evidence without changing it).
    """
    found = find_wrong_bodies(runs)
    for run, mask, messages in zip(runs, found.masks, found.messages, strict=True):
        if judged(run) and _relabel(run, mask, messages, write) and write:
            n = int(mask.sum())
            run.meta.wrong_body = WrongBodyMeta(rows=n, rule="minority body shape among the 2xx answers to the "
                                                              "same request") if n else None
            write_meta(run.path, run.meta)
    return found


def _ours(t: pa.Table) -> NDArray[np.bool_]:
    """Rows this module marked before (``wrong_body`` with its message), not an expectation's."""
    marked: NDArray[np.bool_] = error_codes(t.column("error_kind")) == _WRONG
    if marked.any():
        prefix = pc.fill_null(pc.starts_with(pc.cast(t.column("error"), pa.string()), PREFIX), False)
        marked &= np.asarray(prefix.to_numpy(zero_copy_only=False), bool)
    return marked


def _relabel(run: Run, mask: NDArray[np.bool_], messages: NDArray[np.object_], write: bool = True) -> bool:
    """``wrong_body`` on the rows of ``mask``, cleared from rows marked before and no longer; True if it changed."""
    t = run.table
    before = _ours(t)
    if np.array_equal(before, mask):
        return False
    now, then = pa.array(mask), pa.array(before & ~mask)
    none = pa.scalar(None, pa.string())
    kinds = pc.if_else(now, pa.scalar(WRONG_BODY), pc.if_else(then, none, pc.cast(t.column("error_kind"), pa.string())))
    texts = pc.if_else(now, pa.array(messages, pa.string()),
                       pc.if_else(then, none, pc.cast(t.column("error"), pa.string())))
    i_kind, i_err = t.schema.get_field_index("error_kind"), t.schema.get_field_index("error")
    t = t.set_column(i_kind, t.schema.field(i_kind), pc.dictionary_encode(kinds).cast(t.schema.field(i_kind).type))
    t = t.set_column(i_err, t.schema.field(i_err), texts.cast(t.schema.field(i_err).type))
    if write:
        write_table(run.path, t)
    run._table = t
    return True


__all__ = ["PREFIX", "WrongBodies", "find_wrong_bodies", "judged", "mark_wrong_bodies"]
