"""Routes: which functions serve which requests, read from FastAPI and Flask decorators (with
router and blueprint prefixes) and Django ``urlpatterns``; and the functions run at start-up."""

from __future__ import annotations

import ast
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field

from tracehound.review import apis
from tracehound.review.kinds import KindIndex
from tracehound.review.model import Class, Function, Module, Scope, all_functions
from tracehound.review.syntax import arg, keyword, string

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
#: The kind of an app or router object → its framework.
_FRAMEWORKS = {apis.FASTAPI: "fastapi", apis.ROUTER: "fastapi", apis.FLASK: "flask", apis.BLUEPRINT: "flask"}
#: Django's URL functions.
_DJANGO_PATHS = ("path", "re_path", "url")
#: Decorators of functions run at start-up or shut-down (besides ``on_event(…)``).
_STARTUP_DECORATORS = ("before_first_request", "before_serving", "after_serving")


@dataclass(eq=False)
class Route:
    framework: str
    methods: tuple[str, ...]
    path: str
    handler: Function
    node: ast.AST
    dependencies: list[Function] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{'|'.join(self.methods) or 'ANY'} {self.path}"

    def matches(self, method: str | None, path: str) -> bool:
        """Whether a request (its path, query string ignored) would be served by this route."""
        if method and self.methods and method.upper() not in self.methods and not (
                method.upper() == "HEAD" and "GET" in self.methods):
            return False
        return _route_regex(self.path).match(_norm_path(path.split("?", 1)[0])) is not None


def find_routes(project: KindIndex) -> list[Route]:
    """Every route of the project."""
    return _RouteFinder(project).find()


class _RouteFinder:
    def __init__(self, project: KindIndex) -> None:
        self.project = project
        self.routes: list[Route] = []

    def find(self) -> list[Route]:
        prefixes = self._mount_prefixes()
        for m in self.project.modules:
            for fn in all_functions(m):
                for dec in fn.decorators:
                    self._route_from_decorator(fn, dec, prefixes)
        for call, scope in self.project.all_calls():
            if isinstance(call.func, ast.Attribute) and call.func.attr in ("add_api_route", "add_url_rule"):
                self._route_from_call(scope, call, prefixes)
        self._django_routes()
        return self.routes

    def _owner(self, expr: ast.AST, scope: Scope) -> tuple[str | None, ast.Call | None]:
        k = self.project.kind(expr, scope)
        if k is None:
            return None, None
        framework = _FRAMEWORKS.get(k.name)
        return framework, k.origin

    def _mount_prefixes(self) -> dict[int, list[str]]:
        """Router/blueprint creation call → the path prefixes it is mounted under."""
        own: dict[int, str] = {}
        mounted: dict[int, list[tuple[int | None, str]]] = defaultdict(list)
        for node, scope in self.project.all_calls():
            q = self.project.qualify(node.func, scope) or ""
            ck = apis.kind_of_constructor(q)
            if ck in (apis.ROUTER, apis.BLUEPRINT):
                own[id(node)] = string(keyword(node, "prefix" if ck == apis.ROUTER else "url_prefix")) or ""
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("include_router", "register_blueprint") \
                    and node.args:
                _, child = self._owner(node.args[0], scope)
                _, parent = self._owner(node.func.value, scope)
                extra = string(keyword(node, "prefix")) or string(keyword(node, "url_prefix")) or ""
                if child is not None:
                    mounted[id(child)].append((id(parent) if parent is not None else None, extra))

        def full(cid: int, seen: frozenset[int]) -> list[str]:
            mine = own.get(cid, "")
            if cid in seen or not mounted.get(cid):
                return [mine]
            out = []
            for parent, extra in mounted[cid]:
                for p in (full(parent, seen | {cid}) if parent is not None else [""]):
                    out.append(p + extra + mine)
            return out

        return {cid: full(cid, frozenset()) for cid in set(own) | set(mounted)}

    def _route_from_decorator(self, fn: Function, dec: ast.expr, prefixes: dict[int, list[str]]) -> None:
        if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)):
            return
        verb = dec.func.attr
        if verb not in (*HTTP_METHODS, "route", "api_route", "websocket"):
            return
        path = string(arg(dec, 0, "path")) or string(keyword(dec, "rule"))
        if path is None or not path.startswith("/") and path != "":
            return
        framework, origin = self._owner(dec.func.value, fn.module)
        if framework is None:
            framework = _guess_framework(fn.module)
            if framework is None:
                return
        methods = _methods(verb, dec)
        deps = [d for d in (self.project.depends_target(e, fn) for e in _list_items(keyword(dec, "dependencies"))) if d]
        deps += self._owner_dependencies(origin, fn.module)
        for prefix in prefixes.get(id(origin), [""]) if origin is not None else [""]:
            self.routes.append(Route(framework, methods, prefix + path, fn, dec, deps))

    def _owner_dependencies(self, origin: ast.Call | None, module: Module) -> list[Function]:
        if origin is None:
            return []
        given = _list_items(keyword(origin, "dependencies"))
        return [d for d in (self.project.depends_target(e, module) for e in given) if d]

    def _route_from_call(self, scope: Scope, call: ast.Call, prefixes: dict[int, list[str]]) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        path = string(arg(call, 0, "path" if func.attr == "add_api_route" else "rule"))
        view = arg(call, 1, "endpoint") if func.attr == "add_api_route" else keyword(call, "view_func")
        if func.attr == "add_url_rule" and view is None and len(call.args) > 2:
            view = call.args[2]
        target = self.project.resolve(view, scope) if view is not None else None
        if path is None or not isinstance(target, Function):
            return
        framework, origin = self._owner(func.value, scope)
        verb = "api_route" if func.attr == "add_api_route" else "route"
        for prefix in prefixes.get(id(origin), [""]) if origin is not None else [""]:
            self.routes.append(Route(framework or _guess_framework(scope.module) or "unknown", _methods(verb, call),
                                     prefix + path, target, call))

    def _django_routes(self) -> None:
        patterns: dict[Module, ast.expr] = {}
        for m in self.project.modules:
            for b in m.bindings.get("urlpatterns", []):
                if b.value is not None:
                    patterns[m] = b.value
        #: urls module -> (the module including it, the prefix it is included under)
        included: dict[Module, list[tuple[Module, str]]] = defaultdict(list)
        for m, value in patterns.items():
            for entry in _list_items(value):
                if isinstance(entry, ast.Call) and _call_name(entry) in _DJANGO_PATHS and len(entry.args) > 1:
                    inner = entry.args[1]
                    if isinstance(inner, ast.Call) and _call_name(inner) == "include" and inner.args:
                        name = string(inner.args[0])
                        sub = self.project.find_module(name, m) if name else self.project.resolve(inner.args[0], m)
                        if isinstance(sub, Module):
                            included[sub].append((m, string(entry.args[0]) or ""))

        def prefixes(m: Module, seen: frozenset[Module]) -> list[str]:
            if m not in included or m in seen:
                return ["/"]
            return [p + own for parent, own in included[m] for p in prefixes(parent, seen | {m})]

        for m, value in patterns.items():
            for entry in _list_items(value):
                if not (isinstance(entry, ast.Call) and _call_name(entry) in _DJANGO_PATHS and len(entry.args) > 1):
                    continue
                route = string(entry.args[0])
                if route is None:
                    continue
                regex = _call_name(entry) in ("re_path", "url")
                for handler, methods in self._django_views(entry.args[1], m):
                    for p in prefixes(m, frozenset()):
                        template = p + (("re:" + route) if regex else route)
                        self.routes.append(Route("django", methods, template, handler, entry))

    def _django_views(self, view: ast.expr, module: Module) -> list[tuple[Function, tuple[str, ...]]]:
        if isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) and view.func.attr == "as_view":
            cls = self.project.resolve(view.func.value, module)
            if isinstance(cls, Class):
                return [(f, (name.upper(),)) for name in HTTP_METHODS
                        if (f := self.project.method(cls, name)) is not None]
            return []
        target = self.project.resolve(view, module)
        return [(target, ())] if isinstance(target, Function) else []


def find_startup(project: KindIndex) -> set[Function]:
    """Functions run at start-up and shut-down (lifespan, on_event, …) and everything they call."""
    roots: list[Function] = []
    for node, scope in project.all_calls():
        q = project.qualify(node.func, scope) or ""
        if apis.kind_of_constructor(q) in (apis.FASTAPI, apis.ROUTER) or q.endswith("Starlette"):
            for key in ("lifespan", "on_startup", "on_shutdown"):
                given = keyword(node, key)
                for e in _list_items(given) or ([given] if given is not None else []):
                    t = project.resolve(e, scope)
                    if isinstance(t, Function):
                        roots.append(t)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "add_event_handler" and len(node.args) > 1:
            t = project.resolve(node.args[1], scope)
            if isinstance(t, Function):
                roots.append(t)
    for m in project.modules:
        for fn in all_functions(m):
            for dec in fn.decorators:
                on_event = isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) \
                    and dec.func.attr == "on_event"
                if on_event or isinstance(dec, ast.Attribute) and dec.attr in _STARTUP_DECORATORS:
                    roots.append(fn)
    found: set[Function] = set()
    todo = deque(roots)
    while todo:
        fn = todo.popleft()
        if fn in found:
            continue
        found.add(fn)
        todo.extend(t for _, t in project.callees(fn))
    return found


def _guess_framework(module: Module) -> str | None:
    for q in module.imports.values():
        root = q.split(".")[0]
        if root in ("fastapi", "starlette"):
            return "fastapi"
        if root in ("flask", "quart"):
            return "flask"
    return None


def _methods(verb: str, call: ast.Call) -> tuple[str, ...]:
    if verb in HTTP_METHODS:
        return (verb.upper(),)
    if verb == "websocket":
        return ("GET",)
    items = [string(e) for e in _list_items(keyword(call, "methods"))]
    return tuple(m.upper() for m in items if m) or (("GET",) if verb == "route" else ())


def _list_items(expr: ast.AST | None) -> list[ast.expr]:
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return list(expr.elts)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _list_items(expr.left) + _list_items(expr.right)
    return []


def _call_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else ""


_PARAM = re.compile(r"\{([^}:]+)(:[^}]*)?\}|<(?:([a-z_]+):)?([^>]+)>")


def _norm_path(path: str) -> str:
    path = "/" + path.lstrip("/")
    return path.rstrip("/") or "/"


def _route_regex(template: str) -> re.Pattern[str]:
    if "re:" in template:
        prefix, _, regex = template.partition("re:")
        regex = regex.lstrip("^").rstrip("$")
        return re.compile("^" + re.escape(_norm_path(prefix).rstrip("/")) + "/?" + regex.rstrip("/") + "/?$")
    out, last = "", 0
    t = _norm_path(template)
    for m in _PARAM.finditer(t):
        out += re.escape(t[last:m.start()])
        conv = (m.group(2) or "").lstrip(":") or (m.group(3) or "")
        out += ".+" if conv == "path" else "[^/]+"
        last = m.end()
    out += re.escape(t[last:])
    return re.compile(f"^{out}$")


__all__ = ["HTTP_METHODS", "Route", "find_routes", "find_startup"]
