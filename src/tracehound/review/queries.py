"""ORM models and the queries over them: relationships (collection or not, lazy or eager), and
what a ``select(E)…``/``session.query(E)…`` chain loads — its entity, eager loads and bound."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from tracehound.review import apis
from tracehound.review.index import Index
from tracehound.review.model import Class, Function, Kind, Relationship, Scope
from tracehound.review.syntax import dotted, keyword, pos, string

#: Methods of a query that bound the rows it returns.
BOUNDING_METHODS = ("limit", "slice", "fetch", "first", "one", "one_or_none", "scalar_one", "scalar_one_or_none", "get")


@dataclass
class Statement:
    """A query's entity, the relationships it loads eagerly, and whether it is bounded."""

    entity: Class
    head: ast.Call
    eager: set[str] = field(default_factory=set)
    joined: list[tuple[str, ast.Call]] = field(default_factory=list)
    bounded: bool = False

    def extend(self, project: Index, chain: list[ast.Call], scope: Scope) -> Statement:
        for call in chain:
            name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
            if name == "options":
                for opt in call.args:
                    for loader, rel, node in loader_options(project, opt, scope):
                        if apis.LOADER_OPTIONS[loader]:
                            self.eager.add(rel)
                        if loader == "joinedload":
                            self.joined.append((rel, node))
            elif name in BOUNDING_METHODS:
                self.bounded = True
        return self


def rows_method(call: ast.Call, method: str, base: Kind, project: Index, scope: Scope) -> Kind | None:
    if base.name == apis.MODEL:
        return None
    if method in ("first", "one", "one_or_none", "scalar_one", "scalar_one_or_none", "scalar"):
        return Kind(apis.MODEL, cls=base.cls, eager=base.eager, origin=call, scope=scope)
    if method == "options":
        eager = set(base.eager)
        for opt in call.args:
            eager |= {rel for loader, rel, _ in loader_options(project, opt, scope) if apis.LOADER_OPTIONS[loader]}
        return Kind(apis.ROWS, cls=base.cls, eager=frozenset(eager), bounded=base.bounded, origin=call, scope=scope)
    bounded = base.bounded or method in ("limit", "slice", "fetchmany")
    return Kind(apis.ROWS, cls=base.cls, eager=base.eager, bounded=bounded, origin=call, scope=scope)


def relationship(name: str, call: ast.Call, ann: ast.expr | None) -> Relationship:
    target = string(call.args[0]) if call.args else None
    uselist: bool | None = None
    if ann is not None:
        inner = ann.slice if isinstance(ann, ast.Subscript) else None
        if isinstance(inner, ast.Subscript):
            head = dotted(inner.value) or ""
            uselist = head.split(".")[-1].lower() in ("list", "set", "sequence", "collection")
            elt = inner.slice
            target = target or (dotted(elt) or string(elt))
        elif inner is not None:
            uselist = False
            target = target or dotted(inner) or string(inner)
            if target and target.startswith("Optional["):
                target = target[9:-1]
    uv = keyword(call, "uselist")
    if isinstance(uv, ast.Constant) and isinstance(uv.value, bool):
        uselist = uv.value
    lazy = string(keyword(call, "lazy"))
    return Relationship(name, target.strip("'\"") if target else None, uselist, lazy, call.lineno)


def model_class(project: Index, name: str | None) -> Class | None:
    """The model class called ``name`` (a relationship's target)."""
    if not name:
        return None
    for cls in project.models:
        if cls.name == name.split(".")[-1]:
            return cls
    return None

def statement(project: Index, expr: ast.AST, scope: Scope, depth: int = 0) -> Statement | None:
    """The entity, eager loads and bound of a ``select(E)…``/``session.query(E)…`` expression."""
    if depth > 4:
        return None
    if isinstance(expr, ast.Name) and isinstance(scope, Function):
        b = project.binding(expr.id, scope, pos(expr))
        if b is not None and b.how == "assign" and b.value is not None:
            return statement(project, b.value, b.scope, depth + 1)
        return None
    chain: list[ast.Call] = []
    node: ast.AST | None = expr
    while isinstance(node, ast.Call):
        chain.append(node)
        node = node.func.value if isinstance(node.func, ast.Attribute) else None
    if not chain:
        return None
    head = chain[-1]
    head_name = (project.qualify(head.func, scope) or "").split(".")[-1] if not isinstance(head.func, ast.Attribute) \
        else head.func.attr
    if head_name not in ("select", "query") or not head.args:
        if isinstance(head.func, ast.Attribute) and isinstance(head.func.value, ast.Name):
            inner = statement(project, head.func.value, scope, depth + 1)
            if inner is not None:
                return inner.extend(project, chain, scope)
        return None
    entity = project.resolve(head.args[0], scope)
    if not isinstance(entity, Class) or entity not in project.models:
        return None
    return Statement(entity, head).extend(project, chain[:-1], scope)

def loader_options(project: Index, option: ast.AST, scope: Scope) -> list[tuple[str, str, ast.Call]]:
    """(loader, relationship, call) for the first hop of a loader option: ``selectinload(E.rel).…``."""
    node = option
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in apis.LOADER_OPTIONS:
        node = node.func.value
    if not isinstance(node, ast.Call):
        return []
    loader = (project.qualify(node.func, scope) or "").split(".")[-1]
    if loader not in apis.LOADER_OPTIONS:
        return []
    out = []
    for a in node.args:
        rel = a.attr if isinstance(a, ast.Attribute) else string(a)
        if rel:
            out.append((loader, rel, node))
    return out


def find_models(project: Index) -> dict[Class, dict[str, Relationship]]:
    """ORM model classes (declarative: mapped columns, relationships or a table name) and their relationships."""
    models: dict[Class, dict[str, Relationship]] = {}
    for m in project.modules:
        for cls in m.classes.values():
            rels: dict[str, Relationship] = {}
            mapped = False
            for stmt in cls.node.body:
                target, value, ann = None, None, None
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    target, value = stmt.targets[0].id, stmt.value
                elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    target, value, ann = stmt.target.id, stmt.value, stmt.annotation
                if target == "__tablename__":
                    mapped = True
                if isinstance(value, ast.Call):
                    fname = (project.qualify(value.func, m) or "").split(".")[-1]
                    if fname in ("mapped_column", "Column", "relationship", "Field", "Relationship"):
                        mapped = True
                    if fname in ("relationship", "Relationship") and target:
                        rels[target] = relationship(target, value, ann)
            if mapped:
                models[cls] = rels
    return models


__all__ = ["Statement", "find_models", "loader_options", "model_class", "relationship", "rows_method", "statement"]
