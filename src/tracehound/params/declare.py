"""The pools a flow's ``data:`` or the command line declares, and their check against the variables used.

A flow says::

    data: customers.csv                # one file: its columns are variables ({customer_id}, {name})

or, one entry per pool::

    data:
      customers: customers.csv         # a CSV (header row first), JSON-lines or JSON file
      region: [eu, us, ap]             # an inline list: {region}
      page: 1..50                      # a range, both ends included: {page}
      account: {file: accounts.jsonl, draw: unique}
      draw: random                     # how every pool here is drawn unless it says (default sequential)
      seed: 7                          # the seed of random draws (default 0)

and any template may hold an inline range, ``{int:1..5000}``. On the command line,
``--data-file FILE`` is a file pool and ``--param NAME=SPEC`` a list (``a,b,c``), a range
(``1..5000``) or a file (``@ids.txt``: one value per line; ``@file.csv``: its column NAME).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tracehound.errors import BadData
from tracehound.params.pool import (
    NAME,
    RANGE,
    Pool,
    check_draw,
    file_pool,
    list_pool,
    pool_name,
    range_pool,
    text,
)

#: Keys of a flow's ``data:`` mapping that are options, not pools.
OPTIONS = ("draw", "seed")
#: Inline ranges in templates: ``{int:1..5000}`` (the variable's name is ``int:1..5000``).
INLINE_PREFIX = "int:"
_ENTRY_KEYS = {"file", "values", "range", "draw", "seed"}
#: What a header value cannot hold (HTAB aside): a value with one would break or inject a header.
_BAD_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def flow_pools(raw: Any, where: str, base: Path | None = None) -> list[Pool]:
    """The pools of a flow's ``data:`` value (files relative to ``base``, the flow's folder)."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [file_pool(raw, base=base)]
    if isinstance(raw, list):
        if not all(isinstance(f, str) for f in raw):
            raise BadData(f"{where}: 'data' lists files; name other pools in a mapping (region: [eu, us])")
        return _distinct([file_pool(f, base=base) for f in raw], where)
    if not isinstance(raw, dict):
        raise BadData(f"{where}: 'data' is a file, or a mapping of names to files, lists and ranges")
    draw = check_draw(raw.get("draw", "sequential"), f"{where}: data")
    seed = _seed(raw.get("seed", 0), f"{where}: data")
    pools = []
    for name, spec in raw.items():
        if name in OPTIONS:
            continue
        if not isinstance(name, str) or not NAME.match(name):
            raise BadData(f"{where}: data: {name!r} is not a name (letters, digits, _)")
        pools.append(_entry(name, spec, f"{where}: data: {name}", base, draw, seed))
    return _distinct(pools, where)


def _entry(name: str, spec: Any, where: str, base: Path | None, draw: str, seed: int) -> Pool:
    if isinstance(spec, str):
        if RANGE.match(spec):
            return range_pool(name, spec, where, draw, seed)
        return file_pool(spec, name=name, base=base, draw=draw, seed=seed)
    if isinstance(spec, list):
        return list_pool(name, spec, where, draw, seed)
    if not isinstance(spec, dict):
        raise BadData(f"{where}: give a file, a list of values or a range such as 1..5000")
    unknown = set(spec) - _ENTRY_KEYS
    if unknown:
        raise BadData(f"{where}: unknown key {sorted(map(str, unknown))[0]!r} (expected file, values or range, "
                      "and draw, seed)")
    given = [k for k in ("file", "values", "range") if k in spec]
    if len(given) != 1:
        raise BadData(f"{where}: give exactly one of file, values or range")
    draw = check_draw(spec.get("draw", draw), where)
    seed = _seed(spec.get("seed", seed), where)
    kind = given[0]
    if kind == "values":
        return list_pool(name, spec["values"], where, draw, seed)
    value = spec[kind]
    if not isinstance(value, str):
        raise BadData(f"{where}: {kind} must be a string")
    if kind == "range":
        return range_pool(name, value, where, draw, seed)
    return file_pool(value, name=name, base=base, draw=draw, seed=seed)


def _seed(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadData(f"{where}: seed must be an integer")
    return value


def _distinct(pools: list[Pool], where: str) -> list[Pool]:
    names = [p.name for p in pools]
    for p in pools:
        if names.count(p.name) > 1:
            raise BadData(f"{where}: two data pools are called {p.name!r}", hint="name them in a mapping")
    return pools


def inline_pools(names: Iterable[str], where: str) -> list[Pool]:
    """A range pool for each ``int:A..B`` placeholder among ``names``."""
    out = []
    for name in sorted(set(names)):
        if name.startswith(INLINE_PREFIX):
            spec = name[len(INLINE_PREFIX):]
            pool = range_pool(pool_name("int_" + spec.replace("-", "m").replace("..", "_")), spec,
                              f"{where}: {{{name}}}")
            out.append(replace(pool, columns=(name,)))
    return out


def param_pool(text: str, base: Path | None = None) -> Pool:
    """``--param NAME=SPEC``: a list ``a,b,c``, a range ``1..5000``, or a file ``@ids.txt`` / ``@file.csv``."""
    name, sep, spec = text.partition("=")
    name = name.strip()
    where = f"--param {text}"
    if not sep or not NAME.match(name):
        raise BadData(f"{where}: write NAME=VALUES, as id=1..5000, region=eu,us or id=@ids.txt")
    if not spec:
        raise BadData(f"{where}: no values after '='")
    if RANGE.match(spec):
        return range_pool(name, spec, where)
    if not spec.startswith("@"):
        return list_pool(name, [v.strip() for v in spec.split(",")], where)
    path = Path(spec[1:]).expanduser()
    if path.suffix.lower() in (".csv", ".tsv", ".json", ".jsonl", ".ndjson"):
        pool = file_pool(path, name=name, base=base)
        if name not in pool.columns:
            raise BadData(f"data file {spec[1:]!r} has no column {name!r} (its columns: {', '.join(pool.columns)})",
                          hint=f"name the parameter after a column, as --param {pool.columns[0]}=@{spec[1:]}")
        return replace(pool, used=(name,))
    lines = _lines(path, spec[1:])
    return replace(list_pool(name, lines, where), kind="file", origin=spec[1:])


def _lines(path: Path, shown: str) -> list[str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadData(f"data file {shown!r} does not exist", hint="check the path") from None
    except IsADirectoryError:
        raise BadData(f"data file {shown!r} is a folder, not a file") from None
    except OSError as e:
        raise BadData(f"cannot read data file {shown!r}: {e.strerror or e}") from None
    try:
        lines = [ln.strip() for ln in raw.decode("utf-8-sig").splitlines() if ln.strip()]
    except UnicodeDecodeError:
        raise BadData(f"data file {shown!r} is not a list of values: it is not UTF-8 text") from None
    if not lines:
        raise BadData(f"data file {shown!r} is empty", hint="give it one value per line")
    return lines


def bind(pools: Sequence[Pool], used: set[str], taken: dict[str, str], where: str) -> list[Pool]:
    """The pools, each knowing the columns the flow uses; :class:`BadData` for a pool nothing uses.

    ``taken`` maps the names that are not data (built-ins, ``vars``, captures) to what they are:
    a column the flow uses may not share a name with one of them, nor with another pool's column.
    """
    out = []
    owner: dict[str, Pool] = {}
    for p in pools:
        cols = [c for c in p.columns if c in used]
        if not cols:
            raise BadData(f"{where}: {_what(p)} is not used: {_unused(p)}",
                          hint="use a column as {" + p.columns[0] + "} in a path, header or body, or drop it")
        for c in cols:
            if c in taken:
                raise BadData(f"{where}: {{{c}}} is both {taken[c]} and a column of {_what(p)}",
                              hint="rename the column")
            if c in owner:
                raise BadData(f"{where}: {{{c}}} is a column of both {_what(owner[c])} and {_what(p)}")
            owner[c] = p
        out.append(p.with_options(used=cols))
    return out


def check_header_values(pools: Sequence[Pool], names: set[str], where: str) -> None:
    """:class:`BadData` naming the first row whose value for a header (a variable of ``names``) cannot go in one."""
    for p in pools:
        for c in p.used_columns:
            col = p.column(c)
            if c not in names or isinstance(col, range):
                continue
            values = [text(v) for v in col]
            joined = "\t".join(values)
            try:
                joined.encode("latin-1")
                ok = not _BAD_IN_HEADER.search(joined)
            except UnicodeEncodeError:
                ok = False
            if ok:
                continue
            for i, v in enumerate(values):
                if _BAD_IN_HEADER.search(v) or not v.isascii() and not _latin1(v):
                    raise BadData(f"{where}: {_what(p)}, row {i + 1}: {c} = {v[:40]!r} cannot go in a header "
                                  "(a control character, or one outside Latin-1)")


def _latin1(v: str) -> bool:
    try:
        v.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _what(p: Pool) -> str:
    if p.kind == "file":
        return f"data file {p.origin!r}"
    if p.kind == "range" and p.columns[0].startswith(INLINE_PREFIX):
        return f"{{{p.columns[0]}}}"
    return f"the {p.kind} {p.name!r}"


def _unused(p: Pool) -> str:
    if p.columns == (p.name,):
        return f"{{{p.name}}} appears nowhere in the requests"
    shown = ", ".join(p.columns[:8]) + (" …" if len(p.columns) > 8 else "")
    return f"none of its columns ({shown}) appears as a placeholder in the requests"


def describe_columns(pools: Sequence[Pool]) -> str:
    """The variables the pools fill, for an error about an unknown variable."""
    return "; ".join(f"{_what(p)}: {', '.join(p.columns[:8])}" for p in pools if p.kind == "file")


__all__ = ["INLINE_PREFIX", "OPTIONS", "bind", "check_header_values", "describe_columns", "flow_pools", "inline_pools",
           "param_pool"]
