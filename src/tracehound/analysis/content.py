"""Content anomalies among successful answers: a 200 whose body departs from the majority.

"It returns {} now and then" is a failure no status shows. Within each kind of request (a flow
step, or a method and path with the numbers masked), the 2xx answers are compared with the
majority by

- **JSON shape**: the top-level type, whether it is empty, and the top-level keys (read from the
  recorded body sample, which is redacted and may be cut off: a cut-off sample still shows its
  first keys);
- **size**, when the group's sizes are tight (most within ±10 % of the median) and a few are far off;
- **hash**, when nearly every answer is byte-identical and a few are not.

Shapes are parsed once per distinct sample, never per request. Big inputs are sampled.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tracehound.analysis.frame import Codes
from tracehound.analysis.stats import saturate

#: How clearly each kind of departure marks a wrong answer.
CLARITY = {"error": 1.0, "empty": 1.0, "type": 0.9, "keys": 0.8, "size": 0.6, "hash": 0.4}
#: Departures that make an answer wrong, not merely different: a body that hashes differently
#: but has the majority's shape and size may just carry a timestamp.
WRONG_KINDS = frozenset({"error", "empty", "type", "keys", "size"})
#: A 2xx body that says the request failed, when other answers to the same request do not:
#: ``"ok": false``, ``"success": false``, ``"status": "error"``, or an ``error`` or ``errors`` field
#: that holds something. Counted however many answers say it, since the service says it itself.
ERROR_KIND = "error"
#: At least this share of a request kind's 2xx answers must not say they failed, for those that do
#: to be told apart (a request that always answers so is how that service answers it).
MIN_RIGHT_SHARE = 0.02
_FALSE_FLAGS = ("ok", "success", "succeeded")
_ERROR_STATUSES = frozenset({"error", "fail", "failed", "failure"})
_ERROR_TEXT = re.compile(r'"(?:ok|success|succeeded)"\s*:\s*false|"status"\s*:\s*"(?:error|fail(?:ed|ure)?)"'
                         r'|"errors?"\s*:\s*(?:"[^"]|\{\s*"|\[\s*[^\]\s])', re.I)
MAX_ROWS = 200_000
_MASK = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\b[0-9a-f]{16,}\b|\d+")


@dataclass(frozen=True)
class Shape:
    kind: str  # object | array | string | number | bool | null | text | none
    empty: bool
    keys: frozenset[str] = frozenset()
    truncated: bool = False
    #: The body says the request failed (:data:`ERROR_KIND`).
    error: bool = False

    def describe(self) -> str:
        if self.error:
            return f"a body that says it failed ({replace(self, error=False).describe()})"
        if self.kind == "none":
            return "no body"
        if self.empty:
            return {"object": "{}", "array": "[]", "null": "null"}.get(self.kind, f"empty {self.kind}")
        if self.keys:
            ks = sorted(self.keys)
            more = "…" if self.truncated or len(ks) > 4 else ""
            return f"{self.kind} with keys {', '.join(ks[:4])}{more}"
        return self.kind


def shape_of(sample: str | None) -> Shape:
    """The JSON shape of a (possibly cut-off) body sample."""
    if sample is None:
        return Shape("none", True)
    s = sample.strip()
    if not s:
        return Shape("none", True)
    try:
        v = json.loads(s)
    except (ValueError, RecursionError):
        if s[0] in "{[":
            return Shape("object" if s[0] == "{" else "array", False, _visible_keys(s), truncated=True,
                         error=s[0] == "{" and _ERROR_TEXT.search(s) is not None)
        return Shape("text", False)
    if isinstance(v, dict):
        return Shape("object", not v, frozenset(v), error=says_it_failed(v))
    if isinstance(v, list):
        first = v[0] if v else None
        return Shape("array", not v, frozenset(first) if isinstance(first, dict) else frozenset())
    if v is None:
        return Shape("null", True)
    kind = "bool" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "string"
    return Shape(kind, v == "")


def says_it_failed(body: dict[str, Any]) -> bool:
    """Whether a JSON object says its request failed: a false ok/success flag, an error status, an error field."""
    for k, v in body.items():
        key = str(k).lower()
        if key in _FALSE_FLAGS and v is False:
            return True
        if key == "status" and isinstance(v, str) and v.lower() in _ERROR_STATUSES:
            return True
        if key in ("error", "errors") and v not in (None, False, "", [], {}, 0):
            return True
    return False


def _visible_keys(s: str) -> frozenset[str]:
    """Keys at the first level of a cut-off JSON text (of an object, or of an array's first object)."""
    keys: set[str] = set()
    depth = 0
    target = 1 if s[0] == "{" else 2
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            if j >= n:
                break
            k = j + 1
            while k < n and s[k] in " \t\r\n":
                k += 1
            if depth == target and k < n and s[k] == ":":
                keys.add(s[i + 1 : j])
            i = j + 1
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth < target and s[0] == "[":
                break
        i += 1
    return frozenset(keys)


def departs(row: Shape, majority: Shape) -> str | None:
    """How ``row`` departs from the majority's shape: empty, type or keys; None when it does not."""
    if row == majority:
        return None
    if row.empty and not majority.empty:
        return "empty"
    if row.kind != majority.kind:
        return "type"
    if row.keys and majority.keys:
        common = row.keys & majority.keys
        union = row.keys | majority.keys
        # A cut-off sample shows only its first keys: compare only what both could show.
        if row.truncated or majority.truncated:
            if not common:
                return "keys"
        elif len(common) / len(union) < 0.5:
            return "keys"
    elif majority.keys and not row.keys and not row.truncated:
        return "keys"
    return None


@dataclass
class BodyAnomaly:
    group: str
    kind: str  # empty | type | keys | size | hash
    count: int
    group_count: int
    majority: str
    example: str
    rows: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp), repr=False)
    #: Share of the group's answers the counts were taken from (1.0 unless sampled).
    sampled: float = 1.0

    @property
    def share(self) -> float:
        return self.count / self.group_count if self.group_count else 0.0

    @property
    def strength(self) -> float:
        return CLARITY[self.kind] * saturate(self.count)


def content_anomalies(group: NDArray[np.integer[Any]], group_names: list[str], eligible: NDArray[np.bool_],
                      bytes_in: NDArray[np.integer[Any]],
                      samples: pa.ChunkedArray | pa.Array | Callable[[NDArray[np.intp]], pa.Array] | None,
                      body_hash: NDArray[np.integer[Any]] | None = None, max_share: float = 0.4, min_count: int = 2,
                      seed: int = 0) -> list[BodyAnomaly]:
    """Departures from the majority body within each group of ``eligible`` (2xx) answers.

    ``group`` holds a code per row (-1 = none) naming ``group_names``; ``samples`` is the
    ``body_sample`` column (or a function giving it at sorted rows); ``body_hash`` its codes (-1 = none).
    """
    rows = np.flatnonzero(np.asarray(eligible) & (np.asarray(group) >= 0))
    if rows.size == 0:
        return []
    sampled = 1.0
    if rows.size > MAX_ROWS:
        rng = np.random.default_rng(seed)
        sampled = MAX_ROWS / rows.size
        rows = np.sort(rng.choice(rows, MAX_ROWS, replace=False))
    g = np.asarray(group)[rows]
    shapes: list[Shape] | None = None
    shape_code = None
    if samples is not None:
        taken = samples(rows) if callable(samples) else samples.take(pa.array(rows))
        enc = pc.dictionary_encode(taken)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks() if enc.num_chunks != 1 else enc.chunk(0)
        values = enc.dictionary.to_pylist()
        shapes = [shape_of(v) for v in values] + [Shape("none", True)]
        shape_code = pc.fill_null(enc.indices, len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
    out: list[BodyAnomaly] = []
    order = np.argsort(g, kind="stable")
    bounds = np.flatnonzero(np.r_[True, g[order][1:] != g[order][:-1], True])
    for a, b in itertools.pairwise(bounds):
        idx = order[a:b]
        name = group_names[int(g[idx[0]])]
        n = idx.size
        if n < 5:
            continue
        found = False
        if shapes is not None and shape_code is not None:
            found = _shape_anomalies(out, name, rows[idx], shape_code[idx], shapes, n, max_share, min_count, sampled)
        if not found:
            found = _size_anomalies(out, name, rows[idx], np.asarray(bytes_in)[rows[idx]], n, max_share, min_count,
                                    sampled)
        if not found and body_hash is not None:
            _hash_anomalies(out, name, rows[idx], np.asarray(body_hash)[rows[idx]], n, max_share, min_count, sampled)
    out.sort(key=lambda x: -x.strength)
    return out


def _shape_anomalies(out: list[BodyAnomaly], name: str, rows: NDArray[np.intp], codes: NDArray[np.int64],
                     shapes: list[Shape], n: int, max_share: float, min_count: int, sampled: float) -> bool:
    # Distinct samples map to few shapes: count by shape, not by sample.
    uniq_codes, inverse = np.unique(codes, return_inverse=True)
    shape_ids: dict[Shape, int] = {}
    sid = np.array([shape_ids.setdefault(shapes[c], len(shape_ids)) for c in uniq_codes])[inverse]
    by_id = list(shape_ids)
    counts = np.bincount(sid, minlength=len(by_id))
    found = _error_answers(out, name, rows, sid, by_id, counts, n, min_count, sampled)
    if found:
        # The rest are judged among themselves.
        counts[[j for j, sh in enumerate(by_id) if sh.error]] = 0
        n = int(counts.sum())
    major = int(np.argmax(counts))
    if n < 5 or counts[major] < (1 - max_share) * n:
        return found
    kinds: dict[str, list[int]] = {}
    for j, sh in enumerate(by_id):
        if j == major or counts[j] == 0:
            continue
        how = departs(sh, by_id[major])
        if how is not None:
            kinds.setdefault(how, []).append(j)
    for how, ids in kinds.items():
        mask = np.isin(sid, ids)
        c = int(mask.sum())
        if c < min_count:
            continue
        example = by_id[ids[int(np.argmax(counts[ids]))]].describe()
        out.append(BodyAnomaly(name, how, c, n, by_id[major].describe(), example, rows[mask], sampled))
        found = True
    return found


def _error_answers(out: list[BodyAnomaly], name: str, rows: NDArray[np.intp], sid: NDArray[np.intp],
                   shapes: list[Shape], counts: NDArray[np.int64], n: int, min_count: int, sampled: float) -> bool:
    """2xx answers whose body says they failed, beside answers to the same request that do not."""
    errs = [j for j, sh in enumerate(shapes) if sh.error and counts[j]]
    right = [j for j, sh in enumerate(shapes) if not sh.error and sh.kind != "none" and counts[j]]
    c_err, c_right = int(counts[errs].sum()), int(counts[right].sum())
    if c_err < min_count or c_right < max(min_count, MIN_RIGHT_SHARE * n):
        return False
    mask = np.isin(sid, errs)
    example = shapes[errs[int(np.argmax(counts[errs]))]].describe()
    usual = shapes[right[int(np.argmax(counts[right]))]].describe()
    out.append(BodyAnomaly(name, ERROR_KIND, c_err, n, usual, example, rows[mask], sampled))
    return True


def _size_anomalies(out: list[BodyAnomaly], name: str, rows: NDArray[np.intp], size: NDArray[np.integer[Any]], n: int,
                    max_share: float, min_count: int, sampled: float) -> bool:
    known = size >= 0
    if known.sum() < 5:
        return False
    med = float(np.median(size[known]))
    if med <= 0:
        return False
    rel = np.abs(size - med) / med
    if (rel[known] <= 0.1).mean() < 0.8:
        return False
    off = known & (rel > 0.5)
    c = int(off.sum())
    if c < min_count or c > max_share * n:
        return False
    ex = int(np.median(size[off]))
    out.append(BodyAnomaly(name, "size", c, n, f"{med:.0f} bytes", f"{ex} bytes", rows[off], sampled))
    return True


def _hash_anomalies(out: list[BodyAnomaly], name: str, rows: NDArray[np.intp], h: NDArray[np.integer[Any]], n: int,
                    max_share: float, min_count: int, sampled: float) -> bool:
    known = h >= 0
    if known.sum() < 20:
        return False
    counts = np.bincount(h[known])
    top = int(np.argmax(counts))
    if counts[top] < 0.95 * known.sum():
        return False
    off = known & (h != top)
    c = int(off.sum())
    if c < min_count:
        return False
    out.append(BodyAnomaly(name, "hash", c, n, "one identical body", f"{len(np.unique(h[off]))} other bodies",
                           rows[off], sampled))
    return True


def request_kinds(step: Codes | None, method: Codes | None, path: Codes | None, n: int
                  ) -> tuple[NDArray[np.int32], list[str]]:
    """Each request's kind, as codes and names: its flow step, or else its method and path with numbers masked.

    Every row gets a kind, so that a plain target's requests are not lost beside a run whose
    requests carry step names.
    """
    def text(c: Codes | None, mask: bool = False) -> tuple[NDArray[np.int32], list[str]]:
        if c is None:
            return np.full(n, -1, np.int32), []
        return c[0], [_MASK.sub("N", str(v)) if mask else str(v) for v in c[1]]

    sc, sv = text(step)
    mc, mv = text(method)
    pc_, pv = text(path, mask=True)
    if n == 0:
        return np.zeros(0, np.int32), []
    nm, npth = len(mv) + 1, len(pv) + 1
    # One integer per row from the small per-column codes; names are made per distinct key only.
    key = ((sc.astype(np.int64) + 1) * nm + (mc.astype(np.int64) + 1)) * npth + (pc_.astype(np.int64) + 1)
    uniq, inverse = np.unique(key, return_inverse=True)
    index: dict[str, int] = {}
    remap = []
    for k in uniq.tolist():
        s_, rest = divmod(k, nm * npth)
        m_, p_ = divmod(rest, npth)
        name = sv[s_ - 1] if s_ else " ".join(x for x in (mv[m_ - 1] if m_ else "", pv[p_ - 1] if p_ else "") if x)
        # Paths that differ only in their numbers are one kind.
        remap.append(index.setdefault(name or "all", len(index)))
    codes: NDArray[np.int32] = np.asarray(remap, np.int32)[inverse.reshape(-1)]
    return codes, list(index)


def wrong_rows(found: list[BodyAnomaly]) -> NDArray[np.intp]:
    """The rows of the departures that make an answer wrong (:data:`WRONG_KINDS`), sorted."""
    parts = [a.rows for a in found if a.kind in WRONG_KINDS]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.intp)


__all__ = ["ERROR_KIND", "WRONG_KINDS", "BodyAnomaly", "Shape", "content_anomalies", "departs", "request_kinds",
           "says_it_failed", "shape_of", "wrong_rows"]
