"""The reviewer: load a code base, run every rule, and place each finding on the routes it affects."""

from __future__ import annotations

import ast
import gc
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.review.files import BadCodePath
from tracehound.review.imports import UnresolvedImport, unresolved_imports
from tracehound.review.layout import Layout
from tracehound.review.model import Function, Module, Skipped
from tracehound.review.project import Project
from tracehound.review.registry import CHECKS, all_rules
from tracehound.review.routes import Route
from tracehound.review.rules import Hit, Rule


@dataclass
class Violation:
    """One finding: a rule, a place in a file (1-based line and column), a message, and the routes it is on."""

    rule: Rule
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    message: str
    confidence: float
    routes: list[Route] = field(default_factory=list)
    function: str | None = None

    @property
    def code(self) -> str:
        return self.rule.code

    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.rule.code, "name": self.rule.name, "severity": self.rule.severity, "path": self.path,
                "line": self.line, "col": self.col, "end_line": self.end_line, "end_col": self.end_col,
                "message": self.message, "signal": self.rule.signal, "links": list(self.rule.links),
                "confidence": round(self.confidence, 2), "function": self.function,
                "routes": sorted({r.label for r in self.routes})}


@dataclass
class Review:
    #: The folder finding paths are relative to (the project's, when a folder inside it was given).
    root: Path
    violations: list[Violation]
    skipped: list[Skipped]
    #: Files reviewed (those given; files read only to resolve imports are not counted).
    files: int
    routes: list[Route]
    #: Rules that crashed on this code (a bug of tracehound): "TH401: KeyError …", with the traceback.
    errors: list[tuple[str, str]] = field(default_factory=list)
    project: Project | None = field(default=None, repr=False)
    #: Where imports were resolved from, and how that was found.
    layout: Layout | None = None
    #: Imports of the files reviewed that named neither a module of the code base nor a library.
    unresolved: list[UnresolvedImport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "files": self.files,
                "import_root": str(self.layout.root) if self.layout else str(self.root),
                "import_root_found_as": self.layout.how if self.layout else "the folder given",
                "unresolved_imports": [{"name": u.name, "path": u.path, "line": u.line} for u in self.unresolved],
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
                "routes": sorted({r.label for r in self.routes}),
                "violations": [v.to_dict() for v in self.violations],
                "errors": [e for e, _ in self.errors]}


def review(path: str | Path, select: Iterable[str] | None = None) -> Review:
    """Review the Python code under ``path`` (a folder or a file) with every rule, or the ``select``ed codes.

    Imports resolve from the import root found above ``path`` (:mod:`~tracehound.review.layout`);
    only findings in ``path`` are reported. Unparsable files are skipped (listed in
    ``Review.skipped``); a missing path, or one without any Python file, raises :class:`BadCodePath`.
    """
    rules = all_rules()
    wanted = {c.upper() for c in select} if select else set(rules)
    unknown = wanted - set(rules)
    if unknown:
        raise BadCodePath(f"unknown rule {sorted(unknown)[0]}", hint=f"known: {', '.join(rules)}")
    with _collector_paused():
        project = Project.load(path)
        files = len(project.scoped_modules)
        if not files and not project.skipped:
            raise BadCodePath(f"{path}: no Python files to review")
        out: list[Violation] = []
        errors: list[tuple[str, str]] = []
        for check in sorted(CHECKS, key=lambda c: c.rule.code):
            r = check.rule
            if r.code not in wanted:
                continue
            try:
                out += [_violation(project, r, hit) for hit in check(project) if hit.scope.module.in_scope]
            except Exception as e:  # noqa: BLE001 - one rule's bug must not hide the others' findings
                errors.append((f"{r.code} failed: {type(e).__name__}: {e}", traceback.format_exc()))
        unresolved = unresolved_imports(project, project.layout)
    unique = {(v.code, v.path, v.line, v.col, v.message): v for v in out}
    violations = sorted(unique.values(), key=lambda v: (v.path, v.line, v.col, v.code))
    return Review(project.layout.base, violations, project.skipped, files, project.routes, errors, project,
                  project.layout, unresolved)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: parsing allocates millions of AST nodes that all
    live until the review ends, and rescanning them on every collection tripled the time of a
    large review. Reference counting still frees what is dropped. Afterwards the objects made
    meanwhile go straight to the oldest generation (``freeze``, ``unfreeze``) instead of being
    scanned by the next young collections, which cost as much again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # nobody else froze objects (a pre-fork server): ours only
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def _violation(project: Project, rule: Rule, hit: Hit) -> Violation:
    node, scope = hit.node, hit.scope
    module = scope.module
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0) + 1
    end_line = getattr(node, "end_lineno", None) or line
    end_col = (getattr(node, "end_col_offset", None) or col - 1) + 1
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        end_line, end_col = line, col + len(f"def {node.name}")
    confidence = hit.confidence if hit.confidence is not None else rule.confidence
    return Violation(rule, module.rel, line, col, end_line, end_col, hit.message, confidence,
                     sorted(_routes(project, hit), key=lambda r: r.label),
                     scope.qualname if isinstance(scope, Function) else None)


def _routes(project: Project, hit: Hit) -> set[Route]:
    """The routes a finding is on: those reaching its function, or using the global or the
    ``app.state`` attribute its statement defines."""
    if hit.extra_routes:
        return set(hit.extra_routes)
    module = hit.scope.module
    if hit.global_name:
        return project.routes_using_global(module, hit.global_name)
    if isinstance(hit.scope, Function):
        found = project.routes_of(hit.scope)
        if found:
            return found
    stmt = _statement(module, hit.node)
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    out: set[Route] = set()
    for t in targets:
        if isinstance(t, ast.Name) and isinstance(hit.scope, Module):
            out |= project.routes_using_global(module, t.id)
        elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Attribute) and t.value.attr == "state":
            out |= project.routes_using_state(t.attr)
    return out


def _statement(module: Module, node: ast.AST) -> ast.AST:
    parents = module.parents
    while node in parents and not isinstance(node, ast.stmt):
        node = parents[node]
    return node


__all__ = ["Review", "Violation", "review"]
