"""The project: a reviewed code base as modules, functions, classes, routes and the kinds of the
values they pass around.

The rules ask questions a reader of a web backend asks ("is this a sync SQLAlchemy session?",
"which endpoints reach this function?", "was this relationship eager-loaded?"). The project
answers them from the source alone, without importing it, in layers that each build on the one
below:

- :mod:`~tracehound.review.layout` finds the import root above the folder given (a package, a
  ``src/`` layout, a namespace package), and :mod:`~tracehound.review.codebase` reads the files
  given, their package, and the project modules they import from outside it
  (:mod:`~tracehound.review.files` parses each one);
- :mod:`~tracehound.review.index` resolves names through imports (absolute, relative and flat
  ``import db`` layouts), so a call is followed from the endpoint into the service and
  repository modules it uses;
- :mod:`~tracehound.review.kinds` infers what values are and which function a call runs;
- :mod:`~tracehound.review.routes` reads routes from FastAPI and Flask decorators (with router
  and blueprint prefixes) and Django ``urlpatterns``;
- and here, each function learns which routes reach it.
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from pathlib import Path

from tracehound.review.codebase import read_codebase
from tracehound.review.files import BadCodePath, config_files
from tracehound.review.index import UNKNOWN
from tracehound.review.kinds import KindIndex
from tracehound.review.layout import Layout
from tracehound.review.model import (
    Binding,
    Class,
    Function,
    GlobalRef,
    Kind,
    Module,
    Relationship,
    Scope,
    Skipped,
    all_functions,
)
from tracehound.review.routes import Route, find_routes, find_startup
from tracehound.review.syntax import walk

#: A module-level name of the project, as a key.
GlobalKey = tuple[Module, str]


class Project(KindIndex):
    """A parsed code base and the routes that reach each of its functions; build it with :meth:`load`."""

    def __init__(self, layout: Layout, modules: list[Module], skipped: list[Skipped],
                 config_text: dict[str, str]) -> None:
        super().__init__(layout.base, modules, skipped, config_text)
        #: Where imports resolve from and paths are reported from (:mod:`~tracehound.review.layout`).
        self.layout = layout
        self.routes: list[Route] = find_routes(self)
        #: Functions run at start-up and shut-down (lifespan, on_event), and what they call.
        self.startup: set[Function] = find_startup(self)
        #: Routes that reach a function (through calls and dependencies).
        self.reach: dict[Function, set[Route]] = defaultdict(set)
        self._global_users: dict[GlobalKey, set[Function | GlobalKey]] | None = None
        self._compute_reach()

    @classmethod
    def load(cls, path: str | Path) -> Project:
        """Parse the Python files under ``path`` (a folder or one file), and the project modules they
        import from outside it, found from the import root; unparsable files are skipped."""
        code = read_codebase(Path(path))
        base = code.layout.base
        return cls(code.layout, code.modules, code.skipped, config_files(base) if base.is_dir() else {})

    @property
    def scoped_modules(self) -> list[Module]:
        """The modules of what was given to review (the others were read to resolve imports)."""
        return [m for m in self.modules if m.in_scope]

    # -- routes -----------------------------------------------------------------------------

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

    def _state_routes_built_from(self, fn: Function, key: GlobalKey) -> set[Route]:
        out: set[Route] = set()
        for n in fn.nodes:
            if isinstance(n, ast.Assign) and any(self._global_of(x, fn) == key for x in walk(n.value)):
                for t in n.targets:
                    elts = t.elts if isinstance(t, ast.Tuple) else [t]
                    for e in elts:
                        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Attribute) \
                                and e.value.attr == "state":
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

    def _users(self) -> dict[GlobalKey, set[Function | GlobalKey]]:
        if self._global_users is None:
            users: dict[GlobalKey, set[Function | GlobalKey]] = defaultdict(set)
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

    def _global_of(self, node: ast.AST, scope: Scope) -> GlobalKey | None:
        if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(getattr(node, "ctx", None), ast.Load):
            return None
        if isinstance(node, ast.Attribute) and not isinstance(node.value, ast.Name):
            return None
        target = self.resolve(node, scope)
        return (target.module, target.name) if isinstance(target, GlobalRef) else None


__all__ = ["UNKNOWN", "BadCodePath", "Binding", "Class", "Function", "GlobalRef", "Kind", "Module", "Project",
           "Relationship", "Route", "Scope", "Skipped"]
