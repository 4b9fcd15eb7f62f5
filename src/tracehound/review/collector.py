"""The collector: fills a module's imports, functions, classes and the bindings of their names from
its syntax tree, and records the ``app.state`` attributes it assigns."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review.model import Binding, Class, Function, Module, Scope, params_with_defaults
from tracehound.review.syntax import FunctionNode, pos, target_names

#: ``app.state`` attribute name → the places it is assigned.
StateAttrs = dict[str, list[Binding]]

#: The node types that bind names (everything else is skipped at once: the collector sees every node).
_BINDERS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.With, ast.AsyncWith, ast.For,
                      ast.AsyncFor, ast.comprehension, ast.Import, ast.ImportFrom})


class Collector:
    """Fills a module's imports, functions, classes and bindings, and the ``app.state`` attributes it assigns."""

    def __init__(self, module: Module, state_attrs: StateAttrs) -> None:
        self.module = module
        self.state_attrs = state_attrs

    def visit_module(self) -> None:
        m = self.module
        for node in module_level(m.tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        m.imports[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        m.imports[head] = head
            elif isinstance(node, ast.ImportFrom):
                base = self._from_base(node)
                for alias in node.names:
                    if alias.name != "*":
                        m.imports[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        for node in module_level(m.tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                m.functions[node.name] = self._function(node, None, None, f"{m.name}.{node.name}")
            elif isinstance(node, ast.ClassDef):
                m.classes[node.name] = self._class(node, f"{m.name}.{node.name}")
            else:
                self._bind_statement(node, m)

    def _from_base(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        pkg = self.module.package.split(".") if self.module.package else []
        up = node.level - 1
        base = pkg[: len(pkg) - up] if up else pkg
        return ".".join([*base, *([node.module] if node.module else [])])

    def _class(self, node: ast.ClassDef, qualname: str) -> Class:
        cls = Class(node.name, qualname, node, self.module)
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                cls.methods[stmt.name] = self._function(stmt, cls, None, f"{qualname}.{stmt.name}")
            elif isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    for n in target_names(t):
                        cls.attrs.setdefault(n.id, []).append(
                            Binding(n.id, pos(stmt), "assign", stmt.value, self.module, stmt))
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                cls.attrs.setdefault(stmt.target.id, []).append(
                    Binding(stmt.target.id, pos(stmt), "assign", stmt.value, self.module, stmt, stmt.annotation))
        return cls

    def _function(self, node: FunctionNode, cls: Class | None, parent: Function | None, qualname: str) -> Function:
        fn = Function(node.name, qualname, node, self.module, cls, parent)
        for a, default in params_with_defaults(node):
            fn.bindings.setdefault(a.arg, []).append(Binding(a.arg, pos(a), "param", default, fn, a, a.annotation))
        self_name = node.args.args[0].arg if cls is not None and node.args.args else None
        for n in fn.nodes:
            kind = type(n)
            if kind not in _BINDERS and kind is not ast.FunctionDef and kind is not ast.AsyncFunctionDef:
                continue  # most nodes bind nothing: skipped here, without a call per node
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = self._function(n, None, fn, f"{qualname}.{n.name}")
                fn.bindings.setdefault(n.name, []).append(Binding(n.name, pos(n), "def", None, fn, n))
                self.module.functions.setdefault(f"{node.name}.{n.name}", inner)
                continue
            self._bind_statement(n, fn)
            if isinstance(n, (ast.Assign, ast.AnnAssign)):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                for t in targets:
                    if not isinstance(t, ast.Attribute):
                        continue
                    on_self = isinstance(t.value, ast.Name) and t.value.id == self_name
                    if cls is not None and on_self:
                        cls.attrs.setdefault(t.attr, []).append(
                            Binding(t.attr, pos(n), "assign", n.value, fn, n, getattr(n, "annotation", None)))
                    if isinstance(t.value, ast.Attribute) and t.value.attr == "state":
                        self._state(t.attr).append(Binding(t.attr, pos(n), "assign", n.value, fn, n))
        return fn

    def _state(self, attr: str) -> list[Binding]:
        return self.state_attrs.setdefault(attr, [])

    def _bind_statement(self, n: ast.AST, scope: Scope) -> None:
        if type(n) not in _BINDERS:
            return
        def add(name: ast.Name, how: str, value: ast.expr | None, ann: ast.expr | None = None) -> None:
            scope.bindings.setdefault(name.id, []).append(Binding(name.id, pos(n), how, value, scope, n, ann))

        if isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Name):
                    add(t, "assign", n.value)
                elif isinstance(t, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in t.elts):
                    for i, e in enumerate(t.elts):
                        if isinstance(e, ast.Name):
                            b = Binding(e.id, pos(n), "unpack", n.value, scope, n, index=i)
                            scope.bindings.setdefault(e.id, []).append(b)
                        elif isinstance(e, ast.Attribute) and isinstance(e.value, ast.Attribute) \
                                and e.value.attr == "state":
                            self._state(e.attr).append(Binding(e.attr, pos(n), "unpack", n.value, scope, n, index=i))
                else:
                    for name in target_names(t):
                        add(name, "assign", None)
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Attribute) and t.value.attr == "state" \
                        and isinstance(scope, Module):
                    self._state(t.attr).append(Binding(t.attr, pos(n), "assign", n.value, scope, n))
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            add(n.target, "assign", n.value, n.annotation)
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            add(n.target, "augassign", n.value)
        elif isinstance(n, ast.NamedExpr):
            add(n.target, "assign", n.value)
        elif isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                if isinstance(item.optional_vars, ast.Name):
                    add(item.optional_vars, "with", item.context_expr)
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            for name in target_names(n.target):
                add(name, "for", n.iter if isinstance(n.target, ast.Name) else None)
        elif isinstance(n, (ast.Import, ast.ImportFrom)) and isinstance(scope, Function):
            for alias in n.names:
                if isinstance(n, ast.Import):
                    local = alias.asname or alias.name.split(".")[0]
                    target = alias.name if alias.asname else local
                else:
                    local, target = alias.asname or alias.name, f"{self._from_base(n)}.{alias.name}"
                known = scope.imports.get(local, target)
                scope.imports[local] = target if known == target else None  # imported two ways: unknown


def module_level(body: list[ast.stmt]) -> Iterator[ast.stmt | ast.NamedExpr]:
    """Module statements, including those under top-level ``if``/``try``/``with`` blocks."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.With)):
            children = list(node.body) + list(getattr(node, "orelse", [])) + list(getattr(node, "finalbody", []))
            for h in getattr(node, "handlers", []):
                children += h.body
            yield from module_level(children)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)):
            for n in ast.walk(node):
                if isinstance(n, ast.NamedExpr):
                    yield n


__all__ = ["Collector", "StateAttrs", "module_level"]
