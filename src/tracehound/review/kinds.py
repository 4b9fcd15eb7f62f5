"""Kinds of values and the call graph, which need each other: what an expression evaluates to,
and which project function a call runs.

A value's *kind* is inferred from the call that made it (``create_engine``, ``SessionLocal()``,
``pool.acquire()``, ``redis.asyncio.Redis``), through assignments, ``with … as``, parameters'
annotations, FastAPI ``Depends`` (a ``yield`` dependency provides what it yields), ``app.state``
attributes set in a ``lifespan`` and ``self`` attributes. A method call runs the method of the
kind of object it is called on, so the call graph follows kinds, and kinds follow calls into the
functions that return them.

Inference is deliberately shallow and fails closed: an unknown kind is ``None``, and rules stay
silent about what they cannot see.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tracehound.review import apis
from tracehound.review.index import Index
from tracehound.review.model import (
    Binding,
    Class,
    Function,
    GlobalRef,
    Kind,
    Module,
    Scope,
    Skipped,
    Symbol,
    method_class,
    params_with_defaults,
)
from tracehound.review.queries import find_models, model_class, rows_method, statement
from tracehound.review.syntax import arg, keyword, pos

_MAX_DEPTH = 14


class KindIndex(Index):
    """An :class:`Index` that also tells what values are and which function a call runs."""

    def __init__(self, root: Path, modules: list[Module], skipped: list[Skipped], config_text: dict[str, str]) -> None:
        super().__init__(root, modules, skipped, config_text)
        self._kinds: dict[tuple[int, int], Kind | None] = {}
        self._provided: dict[Function, Kind | None] = {}
        self._callees: dict[Function, list[tuple[ast.Call, Function]]] = {}
        self._dependencies: dict[Function, list[Function]] = {}
        self.models = find_models(self)

    # -- calls ------------------------------------------------------------------------------

    def callee(self, call: ast.Call, scope: Scope) -> Function | None:
        """The project function a call runs (a method through ``self`` or a known instance)."""
        func = call.func
        if isinstance(func, ast.Attribute):
            base = func.value
            if isinstance(scope, Function):
                cls = method_class(scope, base)
                if cls is not None:
                    return self.method(cls, func.attr)
            k = self.kind(base, scope)
            if k is not None and k.name == apis.OBJECT and k.cls is not None:
                return self.method(k.cls, func.attr)
        target = self.resolve(func, scope)
        if isinstance(target, Function):
            return target
        if isinstance(target, Class):
            return self.method(target, "__init__")
        return None

    def method(self, cls: Class, name: str, depth: int = 0) -> Function | None:
        if name in cls.methods:
            return cls.methods[name]
        if depth > 5:
            return None
        for base in cls.node.bases:
            target = self.resolve(base, cls.module)
            if isinstance(target, Class):
                found = self.method(target, name, depth + 1)
                if found is not None:
                    return found
        return None

    def callees(self, fn: Function) -> list[tuple[ast.Call, Function]]:
        if fn not in self._callees:
            self._callees[fn] = []
            out = []
            for call in (n for n in fn.nodes if isinstance(n, ast.Call)):
                target = self.callee(call, fn)
                if target is not None and target is not fn:
                    out.append((call, target))
            self._callees[fn] = out
        return self._callees[fn]

    def dependencies(self, fn: Function) -> list[Function]:
        """FastAPI dependencies of a function's parameters (``Depends(f)``, ``Annotated[T, Depends(f)]``)."""
        if fn not in self._dependencies:
            out = []
            for a, default in params_with_defaults(fn.node):
                for dep in (default, a.annotation):
                    target = self.depends_target(dep, fn)
                    if target is not None:
                        out.append(target)
            self._dependencies[fn] = out
        return self._dependencies[fn]

    def depends_target(self, expr: ast.AST | None, scope: Scope) -> Function | None:
        if expr is None:
            return None
        module = scope.module
        for node in ast.walk(expr):
            if isinstance(node, ast.Call) \
                    and (self.qualify(node.func, module) or "").split(".")[-1] in ("Depends", "Security"):
                target_expr = arg(node, 0, "dependency")
                target = self.resolve(target_expr, module) if target_expr is not None else None
                if isinstance(target, Function):
                    return target
                if isinstance(target, Class):
                    return self.method(target, "__call__") or self.method(target, "__init__")
        return None

    # -- kinds ------------------------------------------------------------------------------

    def kind(self, expr: ast.AST | None, scope: Scope, depth: int = 0) -> Kind | None:
        """What ``expr`` evaluates to, as a :class:`Kind`, or None when it cannot tell."""
        if expr is None or depth > _MAX_DEPTH:
            return None
        key = (id(expr), id(scope))
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None  # a cycle resolves to unknown
        k = self._kind(expr, scope, depth + 1)
        self._kinds[key] = k
        return k

    def _kind(self, expr: ast.AST, scope: Scope, depth: int) -> Kind | None:
        if isinstance(expr, ast.Await):
            return self.kind(expr.value, scope, depth)
        if isinstance(expr, ast.Call):
            return self._call_kind(expr, scope, depth)
        if isinstance(expr, ast.Name):
            if isinstance(scope, Function):
                cls = method_class(scope, expr)
                if cls is not None:
                    return Kind(apis.OBJECT, cls=cls)
            b = self.binding(expr.id, scope, pos(expr))
            if b is not None:
                return self.binding_kind(b, depth)
            return self._global_kind(self.resolve(expr, scope), depth)
        if isinstance(expr, ast.Attribute):
            return self._attribute_kind(expr, scope, depth)
        if isinstance(expr, ast.Subscript):
            base = self.kind(expr.value, scope, depth)
            if base is not None and base.name == apis.DEFAULTDICT:
                return base.inner
            return None
        if isinstance(expr, ast.IfExp):
            return self.kind(expr.body, scope, depth) or self.kind(expr.orelse, scope, depth)
        if isinstance(expr, ast.BoolOp):
            for v in expr.values:
                k = self.kind(v, scope, depth)
                if k is not None:
                    return k
            return None
        if isinstance(expr, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
            return Kind(apis.MUTABLE, scope=scope)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):  # ``base / "name"`` is a path too
            k = self.kind(expr.left, scope, depth)
            return Kind(apis.PATH) if k is not None and k.name == apis.PATH else None
        return None

    def _global_kind(self, target: Symbol | None, depth: int) -> Kind | None:
        if isinstance(target, GlobalRef):
            bs = target.module.bindings.get(target.name) or []
            for b in reversed(bs):
                k = self.binding_kind(b, depth)
                if k is not None:
                    return k
        return None

    def _attribute_kind(self, expr: ast.Attribute, scope: Scope, depth: int) -> Kind | None:
        base = expr.value
        if isinstance(base, ast.Attribute) and base.attr == "state":
            for b in self.state_attrs.get(expr.attr, []):
                k = self.binding_kind(b, depth)
                if k is not None:
                    return k
            return None
        cls = method_class(scope, base) if isinstance(scope, Function) else None
        if cls is None:
            bk = self.kind(base, scope, depth)
            if bk is not None and bk.name == apis.OBJECT:
                cls = bk.cls
            elif bk is not None and bk.name == apis.MODEL and bk.cls is not None:
                rel = self.models.get(bk.cls, {}).get(expr.attr)
                target = model_class(self, rel.target) if rel and rel.target else None
                if rel is not None and target is not None:
                    return Kind(apis.ROWS if rel.uselist is not False else apis.MODEL, cls=target)
                return None
        if cls is not None:
            for b in self.class_attr(cls, expr.attr):
                k = self.binding_kind(b, depth)
                if k is not None:
                    return k
            return None
        return self._global_kind(self.resolve(expr, scope), depth)

    def class_attr(self, cls: Class, name: str, depth: int = 0) -> list[Binding]:
        if name in cls.attrs or depth > 5:
            return cls.attrs.get(name, [])
        for base in cls.node.bases:
            target = self.resolve(base, cls.module)
            if isinstance(target, Class):
                found = self.class_attr(target, name, depth + 1)
                if found:
                    return found
        return []

    def binding_kind(self, b: Binding, depth: int = 0) -> Kind | None:
        if b.how in ("assign", "with"):
            k = self.kind(b.value, b.scope, depth)
            if k is None and b.annotation is not None:
                k = self.annotation_kind(b.annotation, b.scope)
            return k
        if b.how == "unpack":
            return self._element_kind(b.value, b.index, b.scope, depth)
        if b.how == "for":
            k = self.kind(b.value, b.scope, depth)
            if k is not None and k.name == apis.ROWS:
                return Kind(apis.MODEL, cls=k.cls, eager=k.eager)
            return None
        if b.how == "param":
            assert isinstance(b.scope, Function)
            dep = self.depends_target(b.value, b.scope) or self.depends_target(b.annotation, b.scope)
            if dep is not None:
                k = self.provided_kind(dep, depth)
                if k is not None:
                    return k
            return self.annotation_kind(b.annotation, b.scope) if b.annotation is not None else None
        return None

    def _element_kind(self, value: ast.expr | None, index: int, scope: Scope, depth: int) -> Kind | None:
        """The kind of item ``index`` of a tuple: a literal, or what a project function returns."""
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Tuple) and index < len(value.elts):
            return self.kind(value.elts[index], scope, depth)
        if isinstance(value, ast.Call):
            target = self.callee(value, scope)
            if target is not None:
                for node in target.nodes:
                    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) \
                            and index < len(node.value.elts):
                        return self.kind(node.value.elts[index], target, depth)
        return None

    def annotation_kind(self, ann: ast.expr, scope: Scope) -> Kind | None:
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except (SyntaxError, RecursionError, MemoryError):
                return None
        if isinstance(ann, ast.Subscript):
            head = (self.qualify(ann.value, scope) or "").split(".")[-1]
            inner = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            if head in ("Annotated", "Optional") and inner:
                return self.annotation_kind(inner[0], scope)
            return None
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            return self.annotation_kind(ann.left, scope) or self.annotation_kind(ann.right, scope)
        q = self.qualify(ann, scope.module)
        if q is None:
            return None
        q = apis.canonical(q)
        if q in apis.ANNOTATIONS:
            return Kind(apis.ANNOTATIONS[q])
        k = apis.kind_of_constructor(q)
        if k is not None:
            return Kind(k)
        target = self.lookup(q, scope.module)
        if isinstance(target, Class):
            return Kind(apis.MODEL if target in self.models else apis.OBJECT, cls=target)
        return None

    def provided_kind(self, fn: Function, depth: int = 0) -> Kind | None:
        """What calling ``fn`` gives: what it yields (a dependency) or returns; None when its
        branches give different kinds (a factory of sync or async engines is neither)."""
        if fn in self._provided:
            return self._provided[fn]
        self._provided[fn] = None
        out = None
        gen = fn.is_generator
        for node in fn.nodes:
            gives = isinstance(node, ast.Yield) if gen else isinstance(node, ast.Return)
            value = node.value if gives and isinstance(node, (ast.Yield, ast.Return)) else None
            k = self.kind(value, fn, depth) if value is not None else None
            if k is not None and out is not None and (k.name, k.cls) != (out.name, out.cls):
                out = None
                break
            out = out or k
        if out is None and fn.node.returns is not None and not gen:
            out = self.annotation_kind(fn.node.returns, fn)
        self._provided[fn] = out
        return out

    def _call_kind(self, call: ast.Call, scope: Scope, depth: int) -> Kind | None:
        func = call.func
        q = self.qualify(func, scope)
        if q is not None:
            ck = apis.kind_of_constructor(q)
            class_ = keyword(call, "class_")
            if ck == apis.SESSIONMAKER and class_ is not None \
                    and (self.qualify(class_, scope) or "").endswith("AsyncSession"):
                ck = apis.ASYNC_SESSIONMAKER
            if ck == apis.DEFAULTDICT:
                factory = arg(call, 0, "default_factory")
                inner = None
                if factory is not None:
                    fq = self.qualify(factory, scope)
                    fk = apis.kind_of_constructor(fq) if fq else None
                    inner = Kind(fk, scope=scope) if fk else None
                return Kind(apis.DEFAULTDICT, origin=call, scope=scope, inner=inner)
            if ck is not None:
                return Kind(ck, origin=call, scope=scope)
            target = self.lookup(q, scope.module)
            if isinstance(target, Class):
                return Kind(apis.MODEL if target in self.models else apis.OBJECT, origin=call, scope=scope, cls=target)
            if isinstance(target, Function):
                return self.provided_kind(target, depth)
        if isinstance(func, ast.Attribute):
            method = func.attr
            base = self.kind(func.value, scope, depth)
            if base is None:
                return None
            if (base.name, method) in apis.METHOD_RESULTS:
                return Kind(apis.METHOD_RESULTS[(base.name, method)], origin=call, scope=scope, inner=base)
            if base.name == apis.OBJECT and base.cls is not None:
                m = self.method(base.cls, method)
                return self.provided_kind(m, depth) if m is not None else None
            if base.name in apis.DB:
                return self._query_kind(call, method, base, scope, depth)
            if base.name in (apis.ROWS, apis.MODEL):
                return rows_method(call, method, base, self, scope)
            return None
        k = self.kind(func, scope, depth)
        if k is not None and (k.name, "__call__") in apis.METHOD_RESULTS:
            return Kind(apis.METHOD_RESULTS[(k.name, "__call__")], origin=call, scope=scope, inner=k)
        return None

    def _query_kind(self, call: ast.Call, method: str, base: Kind, scope: Scope, depth: int) -> Kind | None:
        if method in ("get", "get_one") and call.args:
            target = self.resolve(call.args[0], scope)
            if isinstance(target, Class) and target in self.models:
                return Kind(apis.MODEL, cls=target, origin=call, scope=scope)
            return None
        if method == "query" and call.args:
            target = self.resolve(call.args[0], scope)
            if isinstance(target, Class) and target in self.models:
                return Kind(apis.ROWS, cls=target, origin=call, scope=scope)
            return None
        if method in ("scalars", "execute", "stream_scalars") and call.args:
            stmt = statement(self, call.args[0], scope)
            if stmt is not None:
                return Kind(apis.ROWS, origin=call, scope=scope, cls=stmt.entity, eager=frozenset(stmt.eager),
                            bounded=stmt.bounded)
        return None


__all__ = ["KindIndex"]
