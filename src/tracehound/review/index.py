"""The index of a parsed code base: its modules by name, and what a name means where it is used.

Imports are resolved inside the project (absolute, relative and flat ``import db`` layouts), so
that a dotted name used in one module leads to the function, class or global of another; a
name's binding is the one visible at the place it is read; constants are evaluated through
assignments and settings modules. Kinds of values and the call graph build on it
(:mod:`tracehound.review.kinds`), and the routes on those (:mod:`tracehound.review.project`).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracehound.review.collector import Collector, StateAttrs
from tracehound.review.model import (
    Binding,
    Class,
    Function,
    GlobalRef,
    Module,
    Relationship,
    Scope,
    Skipped,
    Symbol,
    all_functions,
)
from tracehound.review.syntax import Pos, arg, dotted, pos

#: What :meth:`Index.value` gives for an expression whose value it cannot tell.
UNKNOWN: Any = object()


class Index:
    """The modules of a code base, indexed: names resolved through imports, bindings, calls, constants."""

    def __init__(self, root: Path, modules: list[Module], skipped: list[Skipped], config_text: dict[str, str]) -> None:
        self.root = root
        self.modules = modules
        self.skipped = skipped
        #: Text of non-Python files that may configure the servers (Procfile, Dockerfile, conf …).
        self.config_text = config_text
        self.state_attrs: StateAttrs = defaultdict(list)
        #: ORM model classes and their relationships (found by :class:`~tracehound.review.kinds.KindIndex`).
        self.models: dict[Class, dict[str, Relationship]] = {}
        self._by_name: dict[str, Module] = {}
        self._by_suffix: dict[str, list[Module]] = defaultdict(list)
        self._all_calls: list[tuple[ast.Call, Scope]] | None = None
        self._qualified: dict[tuple[int, int], str | None] = {}
        self._inner_calls: set[int] = set()
        for m in self.modules:
            self._by_name[m.name] = m
            parts = m.name.split(".")
            for i in range(1, len(parts)):
                self._by_suffix[".".join(parts[i:])].append(m)
        for m in self.modules:
            Collector(m, self.state_attrs).visit_module()

    # -- names ------------------------------------------------------------------------------

    def find_module(self, name: str, near: Module | None = None) -> Module | None:
        if name in self._by_name:
            return self._by_name[name]
        if near is not None and near.package:
            sibling = f"{near.package}.{name}"
            if sibling in self._by_name:
                return self._by_name[sibling]
        hits = self._by_suffix.get(name, [])
        return hits[0] if len(hits) == 1 else None

    def qualify(self, expr: ast.AST, scope: Scope) -> str | None:
        """The dotted name an expression refers to, through the module's imports and definitions."""
        key = (id(expr), id(scope))
        if key not in self._qualified:
            self._qualified[key] = self._qualify(expr, scope)
        return self._qualified[key]

    def _qualify(self, expr: ast.AST, scope: Scope) -> str | None:
        name = dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        module = scope.module
        if isinstance(scope, Function) and self.binding(head, scope, pos(expr), local_only=True) is not None:
            return None  # a local variable, not a module-level thing
        f: Function | None = scope if isinstance(scope, Function) else None
        while f is not None and head not in f.imports:
            f = f.parent
        if f is not None:
            local = f.imports[head]
            return None if local is None else f"{local}.{rest}" if rest else local
        if head in module.imports:
            base = module.imports[head]
        elif head in module.functions or head in module.classes or head in module.bindings:
            base = f"{module.name}.{head}"
        else:
            base = head  # a builtin, or an unknown global
        return f"{base}.{rest}" if rest else base

    def lookup(self, qualname: str, near: Module | None = None, depth: int = 0) -> Symbol | None:
        """The project object a dotted name refers to: Module, Function, Class, GlobalRef, or None."""
        if depth > 6:
            return None
        parts = qualname.split(".")
        for i in range(len(parts), 0, -1):
            module = self.find_module(".".join(parts[:i]), near)
            if module is not None:
                return self._member(module, parts[i:], depth)
        return None

    def _member(self, module: Module, rest: list[str], depth: int) -> Symbol | None:
        if not rest:
            return module
        head = rest[0]
        if head in module.functions and len(rest) == 1:
            return module.functions[head]
        if head in module.classes:
            c = module.classes[head]
            if len(rest) == 1:
                return c
            return c.methods.get(rest[1]) if len(rest) == 2 else None
        if head in module.bindings and len(rest) == 1:
            return GlobalRef(module, head)
        if head in module.imports:
            return self.lookup(".".join([module.imports[head], *rest[1:]]), module, depth + 1)
        sub = self._by_name.get(f"{module.name}.{head}")
        return self._member(sub, rest[1:], depth + 1) if sub is not None else None

    def resolve(self, expr: ast.AST, scope: Scope) -> Symbol | None:
        """The project object an expression refers to (see :meth:`lookup`)."""
        q = self.qualify(expr, scope)
        return self.lookup(q, scope.module) if q else None

    def binding(self, name: str, scope: Scope, at: Pos | None = None, local_only: bool = False) -> Binding | None:
        """The binding of ``name`` visible at ``at``: the latest one before it in the nearest scope
        that binds the name (a loop may use a later one: then the first)."""
        s: Scope | None = scope
        while s is not None:
            found = s.bindings.get(name)
            if found:
                if at is None or s is not scope:
                    return found[-1] if isinstance(s, Module) else found[0]
                before = [b for b in found if b.pos <= at]
                return before[-1] if before else found[0]
            s = s.parent if isinstance(s, Function) else None
        if isinstance(scope, Function) and not local_only:
            found = scope.module.bindings.get(name)
            if found:
                return found[-1]
        return None

    # -- functions and calls ----------------------------------------------------------------

    def functions(self, module: Module | None = None) -> Iterator[Function]:
        """Every function and method (nested ones included), of one module or of all."""
        for m in [module] if module is not None else self.modules:
            yield from all_functions(m)

    def scopes(self) -> Iterator[tuple[Scope, list[ast.AST]]]:
        """Every module and function with its own nodes: each node of the project once."""
        for m in self.modules:
            yield m, m.nodes
            for fn in all_functions(m):
                yield fn, fn.nodes

    def all_calls(self) -> list[tuple[ast.Call, Scope]]:
        """Every call of the project with the scope it is in (computed once)."""
        if self._all_calls is None:
            self._all_calls = [(n, scope) for scope, nodes in self.scopes() for n in nodes if isinstance(n, ast.Call)]
            self._inner_calls = {id(n.func.value) for n, _ in self._all_calls
                                 if isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Call)}
        return self._all_calls

    def outermost(self, call: ast.Call) -> bool:
        """Whether a call is the last of its method chain (``select(E).where(…)`` → the ``where`` call)."""
        self.all_calls()
        return id(call) not in self._inner_calls

    # -- constants --------------------------------------------------------------------------

    def value(self, expr: ast.AST | None, scope: Scope, depth: int = 0) -> Any:
        """A constant the expression evaluates to (environment lookups give their default), else UNKNOWN."""
        if expr is None or depth > 8:
            return UNKNOWN
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
            v = self.value(expr.operand, scope, depth + 1)
            return -v if isinstance(v, (int, float)) else UNKNOWN
        if isinstance(expr, ast.BinOp):
            a, b = self.value(expr.left, scope, depth + 1), self.value(expr.right, scope, depth + 1)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                return _arithmetic(expr.op, a, b)
            return UNKNOWN
        if isinstance(expr, ast.Tuple):
            return tuple(self.value(e, scope, depth + 1) for e in expr.elts)
        if isinstance(expr, ast.Call):
            q = self.qualify(expr.func, scope) or ""
            if q in ("int", "float", "str") and expr.args:
                v = self.value(expr.args[0], scope, depth + 1)
                try:
                    return {"int": int, "float": float, "str": str}[q](v) if v is not UNKNOWN else UNKNOWN
                except (TypeError, ValueError):
                    return UNKNOWN
            if q in ("os.environ.get", "os.getenv"):
                return self.value(arg(expr, 1, "default"), scope, depth + 1) if arg(expr, 1, "default") else UNKNOWN
            return UNKNOWN
        if isinstance(expr, ast.Name):
            b = self.binding(expr.id, scope, pos(expr))
            if b is not None:
                return self.value(b.value, b.scope, depth + 1) if b.how == "assign" else UNKNOWN
        if isinstance(expr, (ast.Name, ast.Attribute)):
            target = self.resolve(expr, scope)
            if isinstance(target, GlobalRef):
                bs = target.module.bindings.get(target.name) or []
                if len(bs) == 1 and bs[0].how == "assign":
                    return self.value(bs[0].value, target.module, depth + 1)
        return UNKNOWN


def _arithmetic(op: ast.operator, a: float, b: float) -> Any:
    """``a op b`` for the operators settings use (``+ - * / //``), else UNKNOWN; a division by zero is UNKNOWN."""
    if isinstance(op, ast.Add):
        return a + b
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.Div):
        return a / b if b else UNKNOWN
    if isinstance(op, ast.FloorDiv):
        return a // b if b else UNKNOWN
    return UNKNOWN


__all__ = ["UNKNOWN", "Index"]
