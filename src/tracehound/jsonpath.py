"""``$.a.b[0]``: the small JSON path that flow captures and expectations share."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\.([A-Za-z_][\w-]*)|\[(-?\d+)\]|\[['\"]([^'\"]+)['\"]\]")

Path = tuple[str | int, ...]


def parse_path(expr: str) -> Path:
    """The keys and indexes of ``$.a.b[0]`` (``$`` alone: the whole document); :class:`ValueError` says where not."""
    if not expr.startswith("$"):
        raise ValueError(f"{expr!r} must start with '$'")
    tokens: list[str | int] = []
    pos = 1
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot parse {expr!r} at {expr[pos:]!r}")
        if m.group(1) is not None:
            tokens.append(m.group(1))
        elif m.group(2) is not None:
            tokens.append(int(m.group(2)))
        else:
            tokens.append(m.group(3))
        pos = m.end()
    return tuple(tokens)


def lookup(value: Any, path: Path) -> Any:
    """The value at ``path``; :class:`KeyError` when a key or index is missing."""
    for tok in path:
        try:
            if isinstance(tok, int):
                if not isinstance(value, list):
                    raise KeyError(tok)
                value = value[tok]
            else:
                if not isinstance(value, dict):
                    raise KeyError(tok)
                value = value[tok]
        except IndexError:
            raise KeyError(tok) from None
    return value


__all__ = ["Path", "lookup", "parse_path"]
