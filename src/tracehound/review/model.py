"""The nouns of the project model: modules, classes, functions, the bindings of their names, the
kinds of values, ORM relationships; and the collector that fills them from a module's syntax tree."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tracehound.review.syntax import FunctionNode, Pos, body_nodes, parents, pos, target_names, walk

if TYPE_CHECKING:
    from tracehound.review.project import Project


@dataclass(eq=False)
class Binding:
    """One place a name gets a value: an assignment, ``with … as``, a ``for`` target or a parameter."""

    name: str
    pos: Pos
    #: assign | with | for | param | augassign
    how: str
    value: ast.expr | None
    scope: Scope
    node: ast.AST
    annotation: ast.expr | None = None
    #: how == "unpack": the position of the name in the target tuple.
    index: int = 0


@dataclass(eq=False)
class Module:
    name: str
    path: Path
    rel: str
    tree: ast.Module
    source: str
    imports: dict[str, str] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, Class] = field(default_factory=dict)
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    is_package: bool = False
    _parents: dict[ast.AST, ast.AST] | None = field(default=None, repr=False)
    _nodes: list[ast.AST] | None = field(default=None, repr=False)

    @property
    def nodes(self) -> list[ast.AST]:
        """The module-level nodes (not inside functions or classes), in source order, walked once."""
        if self._nodes is None:
            self._nodes = list(walk(self.tree.body))
        return self._nodes

    @property
    def parents(self) -> dict[ast.AST, ast.AST]:
        """Each node's parent (computed once)."""
        if self._parents is None:
            self._parents = parents(self.tree)
        return self._parents

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]

    @property
    def module(self) -> Module:
        return self

    def __repr__(self) -> str:
        return f"Module({self.name})"


@dataclass(eq=False)
class Class:
    name: str
    qualname: str
    node: ast.ClassDef
    module: Module
    methods: dict[str, Function] = field(default_factory=dict)
    #: Class-body assignments and ``self.x = …`` in its methods.
    attrs: dict[str, list[Binding]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Class({self.qualname})"


@dataclass(eq=False)
class Function:
    name: str
    qualname: str
    node: FunctionNode
    module: Module
    cls: Class | None = None
    parent: Function | None = None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    #: Imports inside the function body (None: the name is imported two different ways).
    imports: dict[str, str | None] = field(default_factory=dict)
    _nodes: list[ast.AST] | None = field(default=None, repr=False)

    @property
    def nodes(self) -> list[ast.AST]:
        """The nodes of the body (nested functions excluded), in source order, walked once."""
        if self._nodes is None:
            self._nodes = list(body_nodes(self.node))
        return self._nodes

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def is_generator(self) -> bool:
        return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in self.nodes)

    @property
    def label(self) -> str:
        return f"{self.qualname.removeprefix(self.module.name + '.')}()"

    @property
    def decorators(self) -> list[ast.expr]:
        return self.node.decorator_list

    def __repr__(self) -> str:
        return f"Function({self.qualname})"


Scope = Module | Function


@dataclass(eq=False)
class GlobalRef:
    """A module-level name of the project."""

    module: Module
    name: str


@dataclass(frozen=True)
class Kind:
    """What a value is, as far as the reviewer can tell (a name from :mod:`apis`), and where it came from."""

    name: str
    origin: ast.Call | None = None
    scope: Scope | None = None
    cls: Class | None = None
    #: ROWS and MODEL: the relationships loaded eagerly, and whether the query is bounded.
    eager: frozenset[str] = frozenset()
    bounded: bool = False
    #: DEFAULTDICT: the kind of the values it makes; sessions: the factory they came from.
    inner: Kind | None = None


@dataclass(frozen=True)
class Relationship:
    name: str
    target: str | None
    uselist: bool | None
    lazy: str | None
    line: int


@dataclass
class Skipped:
    path: str
    reason: str


#: The node types that bind names (everything else is skipped at once: the collector sees every node).
_BINDERS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.With, ast.AsyncWith, ast.For,
                      ast.AsyncFor, ast.comprehension, ast.Import, ast.ImportFrom})


class Collector:
    """Fills a module's imports, functions, classes and bindings, and the project's state index."""

    def __init__(self, project: Project, module: Module) -> None:
        self.project = project
        self.module = module

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
                        cls.attrs.setdefault(n.id, []).append(Binding(n.id, pos(stmt), "assign", stmt.value, self.module, stmt))
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                cls.attrs.setdefault(stmt.target.id, []).append(
                    Binding(stmt.target.id, pos(stmt), "assign", stmt.value, self.module, stmt, stmt.annotation))
        return cls

    def _function(self, node: FunctionNode, cls: Class | None, parent: Function | None, qualname: str) -> Function:
        fn = Function(node.name, qualname, node, self.module, cls, parent)
        for a, default in params_with_defaults(node):
            fn.bindings.setdefault(a.arg, []).append(Binding(a.arg, pos(a), "param", default, fn, a, a.annotation))
        self_name = node.args.args[0].arg if cls is not None and node.args.args else None
        fn._nodes = list(walk(node.body))  # the same walk as Function.nodes: done once, here
        for n in fn._nodes:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = self._function(n, None, fn, f"{qualname}.{n.name}")
                fn.bindings.setdefault(n.name, []).append(Binding(n.name, pos(n), "def", None, fn, n))
                self.module.functions.setdefault(f"{node.name}.{n.name}", inner)
                continue
            self._bind_statement(n, fn)
            if isinstance(n, (ast.Assign, ast.AnnAssign)):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                for t in targets:
                    on_self = isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == self_name
                    if cls is not None and on_self:
                        cls.attrs.setdefault(t.attr, []).append(
                            Binding(t.attr, pos(n), "assign", n.value, fn, n, getattr(n, "annotation", None)))
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Attribute) and t.value.attr == "state":
                        self.project.state_attrs[t.attr].append(Binding(t.attr, pos(n), "assign", n.value, fn, n))
        return fn

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
                        elif isinstance(e, ast.Attribute) and isinstance(e.value, ast.Attribute) and e.value.attr == "state":
                            self.project.state_attrs[e.attr].append(Binding(e.attr, pos(n), "unpack", n.value, scope, n, index=i))
                else:
                    for name in target_names(t):
                        add(name, "assign", None)
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Attribute) and t.value.attr == "state" \
                        and isinstance(scope, Module):
                    self.project.state_attrs[t.attr].append(Binding(t.attr, pos(n), "assign", n.value, scope, n))
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
        elif isinstance(n, (ast.For, ast.AsyncFor)) or isinstance(n, ast.comprehension):
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


def module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
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
                    yield n  # type: ignore[misc]


def params_with_defaults(node: FunctionNode) -> list[tuple[ast.arg, ast.expr | None]]:
    a = node.args
    positional = a.posonlyargs + a.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = list(zip(positional, defaults, strict=False))
    out += list(zip(a.kwonlyargs, a.kw_defaults, strict=False))
    if a.vararg:
        out.append((a.vararg, None))
    if a.kwarg:
        out.append((a.kwarg, None))
    return out


def all_functions(m: Module) -> Iterator[Function]:
    seen: set[int] = set()
    for fn in m.functions.values():
        if id(fn) not in seen:
            seen.add(id(fn))
            yield fn
    for cls in m.classes.values():
        for fn in cls.methods.values():
            if id(fn) not in seen:
                seen.add(id(fn))
                yield fn



def method_class(fn: Function, expr: ast.AST) -> Class | None:
    """The class when ``expr`` is the ``self`` (or ``cls``) of the method ``fn`` is in."""
    f: Function | None = fn
    while f is not None and f.cls is None:
        f = f.parent
    if f is None or f.cls is None or not isinstance(expr, ast.Name) or not f.node.args.args:
        return None
    return f.cls if expr.id == f.node.args.args[0].arg else None


__all__ = ["Binding", "Class", "Collector", "Function", "GlobalRef", "Kind", "Module", "Relationship", "Scope", "Skipped",
           "all_functions", "method_class", "module_level", "params_with_defaults"]
