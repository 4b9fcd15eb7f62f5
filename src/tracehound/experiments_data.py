"""Experiments over the data a request carries: do the failures follow some values, not the load?

Two builders, each returning an :class:`~tracehound.experiments.Experiment` the investigation's
runner runs like any other (its flow carries the data; it always runs on the native engine):

``data_values``  the user gave a pool of values (``--data-file``, ``--param``, a flow's ``data:``):
                 up to :data:`MAX_VALUES` of each pool's rows, spread over the pool, each sent
                 :data:`REPEATS` times in order at low concurrency, so that every value gets
                 requests enough to tell a value that always fails from bad luck;
``id_sweep``     none was given, but the target's path has a segment that looks like an id
                 (``/customers/1234``): a bounded sweep of the ids around it, each sent
                 :data:`REPEATS` times. The ids are guessed, and its purpose says so.

:func:`data_experiment` picks the one that fits a case (or none).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from tracehound.case import Case
from tracehound.experiments import Experiment
from tracehound.flow import Flow
from tracehound.params import Pool
from tracehound.params.request import request_flow
from tracehound.probe import LoadShape, Target

#: Values of a pool an experiment sends at most, and how many times each.
MAX_VALUES = 200
REPEATS = 3
#: Ids a sweep tries at most (half below the one in the path, half from it up), and how many times each.
SWEEP_IDS = 100
SWEEP_REPEATS = 3
#: Virtual users: low, so that load cannot be what makes a value fail.
CONCURRENCY = 2
_ID = re.compile(r"^\d{1,15}$")


def data_values(case: Case, seconds: float = 20.0, max_values: int = MAX_VALUES, repeats: int = REPEATS,
                concurrency: int = CONCURRENCY) -> Experiment:
    """Each of up to ``max_values`` values of every pool, ``repeats`` times, at low concurrency.

    :class:`ValueError` when the case has no pool of values (see :func:`data_experiment`).
    """
    flow = case.flow
    if flow is None or not flow.data:
        raise ValueError("the case gives no pool of values")
    pools = tuple(_sample(p, max_values) for p in flow.data)
    largest = max(p.size for p in pools)
    names = ", ".join(p.name for p in pools)
    shown = f"{largest} values of {names}" if len(pools) == 1 else f"up to {largest} values of each of {names}"
    iterations = largest * repeats
    return Experiment(
        "data_values",
        f"{shown}, each sent {repeats} times in order at {concurrency} concurrent users: do the failures follow "
        "some values whatever the load?",
        LoadShape(concurrency=concurrency, requests=iterations * len(flow.steps) + concurrency * len(flow.setup),
                  duration=seconds),
        concurrency=concurrency, flow=replace(flow, data=pools))


def id_sweep(case: Case, seconds: float = 20.0, ids: int = SWEEP_IDS, repeats: int = SWEEP_REPEATS,
             concurrency: int = CONCURRENCY) -> Experiment:
    """Ids around the one in the target's path, each ``repeats`` times: no data was given, so they are guessed.

    :class:`ValueError` when no path segment looks like an id (see :func:`id_segment`).
    """
    found = id_segment(case)
    if found is None:
        raise ValueError("no segment of the target's path looks like an id")
    path, index, value = found
    lo = max(0 if value == 0 else 1, value - ids // 2)
    hi = lo + ids - 1
    segments = path.split("/")
    segments[index] = f"{{int:{lo}..{hi}}}"
    swept = "/".join(segments)
    flow = _with_path(case, swept)
    flow = replace(flow, data=tuple(p.with_options(draw="sequential") for p in flow.data))
    return Experiment(
        "id_sweep",
        f"no data was given, so ids are guessed: {value} in {path} swept over {lo}..{hi} ({ids} ids, {repeats} "
        f"requests each, {concurrency} concurrent users): do the failures follow some ids?",
        LoadShape(concurrency=concurrency, requests=ids * repeats, duration=seconds),
        concurrency=concurrency, flow=flow)


def data_experiment(case: Case, seconds: float = 20.0) -> Experiment | None:
    """The data experiment that fits ``case``: its pools' values, else a sweep of an id in its path, else none."""
    if case.flow is not None and case.flow.data:
        return data_values(case, seconds)
    if id_segment(case) is not None:
        return id_sweep(case, seconds)
    return None


def id_segment(case: Case) -> tuple[str, int, int] | None:
    """The target's path (no query), the index of its last segment that looks like an id, and the id."""
    path = _target_path(case)
    if path is None:
        return None
    segments = path.split("/")
    for i in range(len(segments) - 1, -1, -1):
        if _ID.match(segments[i]):
            return path, i, int(segments[i])
    return None


def _target_path(case: Case) -> str | None:
    """The path of the request the case watches, when it is a literal one (not a flow's templated step).

    A flow's is its template text (literal braces doubled), a target's the path as sent.
    """
    if case.target is not None:
        return case.target.path.split("?", 1)[0]
    assert case.flow is not None
    step = case.flow.last_step
    if step.absolute or step.target.names:
        return None
    return step.target.text.split("?", 1)[0]


def _with_path(case: Case, path: str) -> Flow:
    """The case's request (or flow) with its target's path replaced by ``path`` (which holds a placeholder)."""
    if case.target is not None:
        t = case.target
        query = t.path.partition("?")[2]
        url = t.endpoint.origin + path + ("?" + query if query else "")
        return request_flow(Target(url, t.method, t.headers, t.body), [])
    assert case.flow is not None
    # A flow's path is template text already (literal braces doubled): the placeholder goes in as it is.
    doc: dict[str, Any] = case.flow.to_dict()
    last = doc["steps"][-1]
    query = last["path"].partition("?")[2]
    last["path"] = path + ("?" + query if query else "")
    return Flow.from_dict(doc, source=case.flow.source)


def _sample(pool: Pool, k: int) -> Pool:
    """``pool`` with at most ``k`` of its rows, spread evenly over it, drawn in order."""
    pool = pool.with_options(draw="sequential")
    if pool.size <= k:
        return pool
    step = pool.size / k
    rows = [int(i * step) for i in range(k)]
    data = tuple([col[r] for r in rows] for col in pool.data)
    return replace(pool, data=data, origin=f"{pool.origin} (a sample of {k} of its {pool.size} rows)")


__all__ = ["CONCURRENCY", "MAX_VALUES", "REPEATS", "SWEEP_IDS", "SWEEP_REPEATS", "data_experiment", "data_values",
           "id_segment", "id_sweep"]
