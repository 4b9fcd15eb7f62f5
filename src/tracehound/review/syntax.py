"""Small helpers over Python's ``ast``: walking one scope, positions, parents, names."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

Pos = tuple[int, int]
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def pos(node: ast.AST) -> Pos:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def end(node: ast.AST) -> Pos:
    end_line: int | None = getattr(node, "end_lineno", None)
    end_col: int | None = getattr(node, "end_col_offset", None)
    line: int = getattr(node, "lineno", 0)
    return (end_line or line, end_col or 0)


def within(inner: ast.AST, outer: ast.AST) -> bool:
    """Whether ``inner`` lies inside ``outer``'s source span."""
    return pos(outer) <= pos(inner) and end(inner) <= end(outer)


def children(node: ast.AST) -> list[ast.AST]:
    """A node's child nodes in field order (``ast.iter_child_nodes`` without its generators' cost)."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            out.extend(v for v in value if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def walk(nodes: ast.AST | Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under ``nodes`` in source order, not entering nested functions, lambdas or classes.

    Comprehensions are entered: their body runs as part of the enclosing function's work.
    """
    stack = [nodes] if isinstance(nodes, ast.AST) else list(nodes)
    stack.reverse()
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, NESTED_SCOPES):
            continue
        below = children(node)
        below.reverse()
        stack.extend(below)


def body_nodes(fn: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of a function's body (its decorators and defaults run in the enclosing scope)."""
    return walk(fn.body)


def has_await(nodes: ast.AST | Iterable[ast.AST]) -> bool:
    return any(isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith)) for n in walk(nodes))


def dotted(expr: ast.AST) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
        return ".".join(reversed(parts))
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def has_kwargs_splat(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def arg(call: ast.Call, index: int, name: str | None = None) -> ast.expr | None:
    """Positional argument ``index`` or keyword ``name``."""
    if name is not None:
        v = keyword(call, name)
        if v is not None:
            return v
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return call.args[index]
    return None


def string(expr: ast.AST | None) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    """Each node's parent, for every node under ``tree``."""
    out: dict[ast.AST, ast.AST] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in children(node):
            out[child] = node
            stack.append(child)
    return out


def target_names(target: ast.AST) -> Iterator[ast.Name]:
    """The names bound by an assignment target (``a``, ``a, b``, ``[a, *b]``)."""
    if isinstance(target, ast.Name):
        yield target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from target_names(elt)
    elif isinstance(target, ast.Starred):
        yield from target_names(target.value)


def identifier_words(expr: ast.AST) -> list[str]:
    """The lower-case words of the names in an expression: ``app.state.read_replica`` →
    ``['app', 'state', 'read', 'replica']``."""
    words: list[str] = []
    for node in ast.walk(expr):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name:
            words += _split_words(name)
    return words


def _split_words(name: str) -> list[str]:
    out, cur = [], ""
    for ch in name:
        if ch == "_" or ch.isdigit():
            if cur:
                out.append(cur.lower())
            cur = ""
        elif ch.isupper() and cur and not cur[-1].isupper():
            out.append(cur.lower())
            cur = ch
        else:
            cur += ch
    if cur:
        out.append(cur.lower())
    return out
