"""The project model: a reviewed code base as modules, functions, classes, routes and the kinds
of the values they pass around.

The rules ask questions a reader of a web backend asks ("is this a sync SQLAlchemy session?",
"which endpoints reach this function?", "was this relationship eager-loaded?"). This module
answers them from the source alone, without importing it:

- imports are resolved inside the project (absolute, relative and flat ``import db`` layouts),
  so a call is followed from the endpoint into the service and repository modules it uses;
- a value's *kind* is inferred from the call that made it (``create_engine``, ``SessionLocal()``,
  ``pool.acquire()``, ``redis.asyncio.Redis``), through assignments, ``with … as``, parameters'
  annotations, FastAPI ``Depends`` (a ``yield`` dependency provides what it yields),
  ``app.state`` attributes set in a ``lifespan`` and ``self`` attributes;
- routes are read from FastAPI and Flask decorators (with router and blueprint prefixes) and from
  Django ``urlpatterns``; each function knows which routes reach it.

Inference is deliberately shallow and fails closed: an unknown kind is ``None``, and rules stay
silent about what they cannot see.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracehound.errors import TracehoundError
from tracehound.review import apis
from tracehound.review.model import (
    Binding,
    Class,
    Collector,
    Function,
    GlobalRef,
    Kind,
    Module,
    Relationship,
    Scope,
    Skipped,
    all_functions,
    method_class,
    params_with_defaults,
)
from tracehound.review.queries import find_models, model_class, rows_method, statement
from tracehound.review.routes import Route, find_routes, find_startup
from tracehound.review.syntax import Pos, arg, dotted, keyword, pos, walk

#: Folders never reviewed: environments, caches, build output, VCS data.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
                       "site-packages", "build", "dist", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
                       ".ruff_cache", ".eggs"})
MAX_FILE_BYTES = 2_000_000
_MAX_DEPTH = 14
UNKNOWN: Any = object()


class BadCodePath(TracehoundError):
    """The code to review is missing, unreadable or holds no Python file."""


# -- loading ----------------------------------------------------------------------------------


def python_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    out = []
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root).parts
        if any(part in SKIP_DIRS or (part.startswith(".") and part not in (".", "..")) for part in rel[:-1]):
            continue
        out.append(p)
    return out


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    if root.is_file():
        return path.stem, False
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return (".".join(parts) or root.name), is_package


class Project:
    """A parsed code base; build it with :meth:`load`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[Module] = []
        self.skipped: list[Skipped] = []
        #: Text of non-Python files that may configure the servers (Procfile, Dockerfile, conf …).
        self.config_text: dict[str, str] = {}
        self._by_name: dict[str, Module] = {}
        self._by_suffix: dict[str, list[Module]] = defaultdict(list)
        self._kinds: dict[tuple[int, int], Kind | None] = {}
        self._provided: dict[Function, Kind | None] = {}
        self._callees: dict[Function, list[tuple[ast.Call, Function]]] = {}
        self.state_attrs: dict[str, list[Binding]] = defaultdict(list)
        self.models: dict[Class, dict[str, Relationship]] = {}
        self.routes: list[Route] = []
        #: Routes that reach a function (through calls and dependencies).
        self.reach: dict[Function, set[Route]] = defaultdict(set)
        #: Functions run at start-up and shut-down (lifespan, on_event), and what they call.
        self.startup: set[Function] = set()
        self._global_users: dict[tuple[Module, str], set[Function]] | None = None
        self._all_calls: list[tuple[ast.Call, Scope]] | None = None
        self._qualified: dict[tuple[int, int], str | None] = {}
        self._inner_calls: set[int] = set()

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def load(cls, root: str | Path) -> Project:
        """Parse every Python file under ``root`` (a folder or one file); unparsable files are skipped."""
        root = Path(root)
        if not root.exists():
            raise BadCodePath(f"{root}: no such file or folder", hint="give the folder of the service's code")
        if root.is_file() and root.suffix != ".py":
            raise BadCodePath(f"{root}: not a Python file or a folder")
        try:
            files = python_files(root)
        except OSError as e:
            raise BadCodePath(f"{root}: cannot read: {e.strerror or e}") from None
        project = cls(root)
        for path in files:
            project._parse(path)
        if root.is_dir():
            project._read_config(root)
        project._index()
        return project

    def _rel(self, path: Path) -> str:
        return path.name if self.root.is_file() else path.relative_to(self.root).as_posix()

    def _parse(self, path: Path) -> None:
        rel = self._rel(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                self.skipped.append(Skipped(rel, f"larger than {MAX_FILE_BYTES // 1_000_000} MB"))
                return
            raw = path.read_bytes()
        except OSError as e:
            self.skipped.append(Skipped(rel, f"cannot read: {e.strerror or e}"))
            return
        if b"\0" in raw:
            self.skipped.append(Skipped(rel, "binary file"))
            return
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.skipped.append(Skipped(rel, "not UTF-8 text"))
            return
        try:
            tree = ast.parse(source, filename=rel)
        except SyntaxError as e:
            self.skipped.append(Skipped(rel, f"syntax error at line {e.lineno}: {e.msg}"))
            return
        name, is_package = _module_name(self.root, path)
        self.modules.append(Module(name, path, rel, tree, source, is_package=is_package))

    def _read_config(self, root: Path) -> None:
        pattern = re.compile(r"(Procfile|Dockerfile.*|.*\.(sh|toml|cfg|ini|ya?ml|conf|env|service))$", re.I)
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).parts
            if len(self.config_text) >= 200 or any(part in SKIP_DIRS or part.startswith(".") for part in rel):
                continue
            if p.is_file() and pattern.match(p.name) and p.stat().st_size < 200_000:
                try:
                    self.config_text[p.relative_to(root).as_posix()] = p.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue

    def _index(self) -> None:
        for m in self.modules:
            self._by_name[m.name] = m
            parts = m.name.split(".")
            for i in range(1, len(parts)):
                self._by_suffix[".".join(parts[i:])].append(m)
        for m in self.modules:
            Collector(self, m).visit_module()
        self.models = find_models(self)
        self.routes = find_routes(self)
        self.startup = find_startup(self)
        self._compute_reach()

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

    def lookup(self, qualname: str, near: Module | None = None, depth: int = 0) -> Any:
        """The project object a dotted name refers to: Module, Function, Class, GlobalRef, or None."""
        if depth > 6:
            return None
        parts = qualname.split(".")
        for i in range(len(parts), 0, -1):
            module = self.find_module(".".join(parts[:i]), near)
            if module is not None:
                return self._member(module, parts[i:], depth)
        return None

    def _member(self, module: Module, rest: list[str], depth: int) -> Any:
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

    def resolve(self, expr: ast.AST, scope: Scope) -> Any:
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
        out = []
        for a, default in params_with_defaults(fn.node):
            for dep in (default, a.annotation):
                target = self._depends_target(dep, fn)
                if target is not None:
                    out.append(target)
        return out

    def _depends_target(self, expr: ast.AST | None, scope: Scope) -> Function | None:
        if expr is None:
            return None
        module = scope.module
        for node in ast.walk(expr):
            if isinstance(node, ast.Call) and (self.qualify(node.func, module) or "").split(".")[-1] in ("Depends", "Security"):
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
        return None

    def _global_kind(self, target: Any, depth: int) -> Kind | None:
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
            dep = self._depends_target(b.value, b.scope) or self._depends_target(b.annotation, b.scope)
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
                    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and index < len(node.value.elts):
                        return self.kind(node.value.elts[index], target, depth)
        return None

    def annotation_kind(self, ann: ast.expr, scope: Scope) -> Kind | None:
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except SyntaxError:
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
            value = node.value if isinstance(node, (ast.Yield, ast.Return)) and (isinstance(node, ast.Yield) == gen) else None
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
            if ck == apis.SESSIONMAKER and (self.qualify(keyword(call, "class_"), scope) or "").endswith("AsyncSession"):
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

    def _compute_reach(self) -> None:
        for route in self.routes:
            todo = deque([(route.handler, 0), *((d, 1) for d in route.dependencies)])
            seen: set[Function] = set()
            while todo:
                fn, depth = todo.popleft()
                if fn in seen or depth > 8:
                    continue
                seen.add(fn)
                self.reach[fn].add(route)
                todo.extend((t, depth + 1) for _, t in self.callees(fn))
                todo.extend((d, depth + 1) for d in self.dependencies(fn))

    def on_request_path(self, fn: Function) -> bool:
        return bool(self.reach.get(fn))

    def routes_of(self, fn: Function | None) -> set[Route]:
        while fn is not None:
            if fn in self.reach:
                return self.reach[fn]
            fn = fn.parent
        return set()

    def routes_using_global(self, module: Module, name: str) -> set[Route]:
        """Routes whose functions use a module-level name, directly, through other globals, or
        through an ``app.state`` attribute that a start-up function builds from it."""
        users = self._users()
        out: set[Route] = set()
        todo, seen = deque([(module, name)]), set()
        while todo:
            key = todo.popleft()
            if key in seen:
                continue
            seen.add(key)
            for fn in users.get(key, ()):
                if not isinstance(fn, Function):
                    todo.append(fn)
                elif fn in self.reach:
                    out |= self.reach[fn]
                else:
                    out |= self._state_routes_built_from(fn, key)
        return out

    def _state_routes_built_from(self, fn: Function, key: tuple[Module, str]) -> set[Route]:
        out: set[Route] = set()
        for n in fn.nodes:
            if isinstance(n, ast.Assign) and any(self._global_of(x, fn) == key for x in walk(n.value)):
                for t in n.targets:
                    elts = t.elts if isinstance(t, ast.Tuple) else [t]
                    for e in elts:
                        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Attribute) and e.value.attr == "state":
                            out |= self.routes_using_state(e.attr)
        return out

    def routes_using_state(self, attr: str) -> set[Route]:
        """Routes whose functions read ``….state.<attr>``."""
        out: set[Route] = set()
        for fn, routes in self.reach.items():
            if any(isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Attribute)
                   and n.value.attr == "state" for n in fn.nodes):
                out |= routes
        return out

    def startup_only(self, fn: Function) -> bool:
        """Runs at start-up or shut-down and is reached by no route."""
        return fn in self.startup and fn not in self.reach

    def _users(self) -> dict:
        if self._global_users is None:
            users: dict[tuple[Module, str], set] = defaultdict(set)
            for m in self.modules:
                for gname, bs in m.bindings.items():
                    for b in bs:
                        for n in walk(b.value) if b.value is not None else ():
                            ref = self._global_of(n, m)
                            if ref is not None and ref != (m, gname):
                                users[ref].add((m, gname))
                for fn in all_functions(m):
                    for n in fn.nodes:
                        ref = self._global_of(n, fn)
                        if ref is not None:
                            users[ref].add(fn)
            self._global_users = users
        return self._global_users

    def _global_of(self, node: ast.AST, scope: Scope) -> tuple[Module, str] | None:
        if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(getattr(node, "ctx", None), ast.Load):
            return None
        if isinstance(node, ast.Attribute) and not isinstance(node.value, ast.Name):
            return None
        target = self.resolve(node, scope)
        return (target.module, target.name) if isinstance(target, GlobalRef) else None

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
                ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                       ast.Div: lambda: a / b if b else UNKNOWN, ast.FloorDiv: lambda: a // b if b else UNKNOWN}
                f = ops.get(type(expr.op))
                return f() if f else UNKNOWN
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


__all__ = ["UNKNOWN", "BadCodePath", "Binding", "Class", "Function", "GlobalRef", "Kind", "Module", "Project",
           "Relationship", "Route", "Scope", "Skipped"]
