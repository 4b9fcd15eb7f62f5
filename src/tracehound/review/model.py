"""The nouns of the project model: modules, classes, functions, the bindings of their names, the
kinds of values, ORM relationships (:mod:`collector` fills them from a module's syntax tree)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.review.syntax import FunctionNode, Pos, body_nodes, parents, walk


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
    #: Whether the file lies in what was given to review (others are read only to resolve imports).
    in_scope: bool = True
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


#: What a dotted name can refer to in the project.
Symbol = Module | Class | Function | GlobalRef


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


__all__ = ["Binding", "Class", "Function", "GlobalRef", "Kind", "Module", "Relationship", "Scope", "Skipped", "Symbol",
           "all_functions", "method_class", "params_with_defaults"]
