"""The layout of a reviewed code base: where its imports are resolved from, whatever folder was given.

A user points the reviewer at the folder they think of as the code — the repository, ``src/``,
the package ``app/`` or one of its sub-packages — and ``from app.auth.password import
verify_password`` must mean the same module in every case. So the folder given is only the
*scope* (whose findings are reported); the *import root* is found by walking up from it, as
Python would find it on ``sys.path``:

- inside a package (a folder with ``__init__.py``), the folder holding the topmost package;
- a ``src/`` layout (a ``src`` folder beside ``pyproject.toml``, ``setup.cfg`` or ``setup.py``):
  ``src/`` for the modules in it, paths reported from the project folder;
- a folder without ``__init__.py`` whose own modules import it by name (``app/main.py`` saying
  ``from app.db import …``, a namespace package): its parent;
- otherwise the folder given (a flat layout: ``import db``).

Module names are dotted paths from the import root; finding paths are relative to the base.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: How many folders up a namespace package is looked for.
_MAX_NAMESPACE_DEPTH = 4
#: Files that mark a project's folder.
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py")
#: Source folders declared by setuptools (``where``, ``package-dir``, setup.cfg's ``package_dir = =src``)
#: and Poetry (``from = "src"``).
_DECLARED = (re.compile(r"""^\s*where\s*=\s*\[\s*["']([^"']+)["']""", re.M),
             re.compile(r"""^\s*package[-_]dir\s*=\s*\{\s*["']{2}\s*[=:]\s*["']([^"']+)["']""", re.M),
             re.compile(r"""^[ \t]*=[ \t]*([\w./-]+)[ \t]*$""", re.M),
             re.compile(r"""\bfrom\s*=\s*["']([^"']+)["']"""))


@dataclass(frozen=True)
class Layout:
    """Where a review's imports are resolved from and its paths are reported from."""

    #: The folder finding paths are relative to (the project's folder, or the import root).
    base: Path
    #: Import roots, most specific first: a module is named by its path from the first that holds it.
    roots: tuple[Path, ...]
    #: What was given (a folder or a file): only its findings are reported.
    scope: Path
    #: How the import root was found, for the output ("the folder holding package app").
    how: str

    @property
    def root(self) -> Path:
        """The main import root (of the package given, or of the ``src/`` layout)."""
        return self.roots[0]

    @property
    def found(self) -> bool:
        """Whether the import root is other than the folder given (so the output should say which)."""
        start = self.scope if self.scope.is_dir() else self.scope.parent
        return self.root != start or self.base != start

    def module_name(self, path: Path) -> tuple[str, bool]:
        """The dotted name of the module at ``path`` and whether it is a package's ``__init__``."""
        root = next((r for r in self.roots if path.is_relative_to(r)), self.base)
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        return (".".join(parts) or root.name), is_package

    def rel(self, path: Path) -> str:
        """The path reported for a file: relative to the base (or its name, for a file outside it)."""
        return path.relative_to(self.base).as_posix() if path.is_relative_to(self.base) else path.name

    def in_scope(self, path: Path) -> bool:
        return path == self.scope or path.is_relative_to(self.scope)

    def describe(self) -> str:
        return f"{self.root} ({self.how})"


def package_layout(scope: Path) -> Layout | None:
    """The layout when ``scope`` lies in a package: the import root holds its topmost package."""
    start = scope if scope.is_dir() else scope.parent
    top = start
    while (top / "__init__.py").is_file() and top.parent != top:
        top = top.parent
    if top == start:
        return None
    package = start.relative_to(top).parts[0]
    return _with_project(top, scope, f"the folder holding package {package}")


def src_layout(scope: Path) -> Layout | None:
    """The layout of a project folder given with its ``src/`` (or declared) source folder."""
    start = scope if scope.is_dir() else scope.parent
    if start.name == "src" and _is_project(start.parent):
        return Layout(start.parent, (start, start.parent), scope, "src layout")
    if not _is_project(start):
        return None
    for name in _declared_source_dirs(start):
        folder = start / name
        if folder.is_dir() and folder != start:
            return Layout(start, (folder, start), scope, f"{name}/ layout of {_project_file(start)}")
    return None


def namespace_layout(scope: Path, imported: Iterable[str]) -> Layout | None:
    """The layout of a folder without ``__init__.py`` inside a package its modules import by name
    (``app/api/auth.py`` saying ``from app.core.password import …``): the folder holding that
    package. The search stops at a project's folder, which is a root, not a package."""
    start = scope if scope.is_dir() else scope.parent
    heads: dict[str, set[str]] = {}
    for name in imported:
        head, _, rest = name.partition(".")
        heads.setdefault(head, set()).add(rest.split(".")[0])
    found = None
    node = start
    for _ in range(_MAX_NAMESPACE_DEPTH):
        if _is_project(node) or node.parent == node:
            break
        children = heads.get(node.name, set())
        if any(not c or (node / c).is_dir() or (node / f"{c}.py").is_file() for c in children):
            found = node
        node = node.parent
    if found is None:
        return None
    return _with_project(found.parent, scope, f"namespace package {found.name} imported by its own modules")


def given_layout(scope: Path) -> Layout:
    start = scope if scope.is_dir() else scope.parent
    return Layout(start, (start,), scope, "the folder given")


def _with_project(root: Path, scope: Path, how: str) -> Layout:
    """A layout rooted at ``root``; when that is a project's ``src/``, paths are reported from the project."""
    if root.name == "src" and _is_project(root.parent):
        return Layout(root.parent, (root, root.parent), scope, f"{how}, src layout")
    return Layout(root, (root,), scope, how)


def _is_project(folder: Path) -> bool:
    return any((folder / f).is_file() for f in PROJECT_FILES)


def _project_file(folder: Path) -> str:
    return next(f for f in PROJECT_FILES if (folder / f).is_file())


def _declared_source_dirs(folder: Path) -> list[str]:
    """``src``, and the source folders ``pyproject.toml``/``setup.cfg`` declare (``where``, ``package-dir``)."""
    out = ["src"]
    for name in ("pyproject.toml", "setup.cfg"):
        path = folder / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        except OSError:
            continue
        for pattern in _DECLARED:
            for m in pattern.finditer(text):
                declared = m.group(1).strip("/")
                if declared and declared not in (".", *out) and ".." not in declared:
                    out.insert(0, declared)
    return out


def module_imports(tree: ast.Module) -> list[str]:
    """The absolute module names a module's top-level statements import (``from a.b import c`` → ``a.b.c``)."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out += [f"{node.module}.{a.name}" for a in node.names]
    return out


__all__ = ["PROJECT_FILES", "Layout", "given_layout", "module_imports", "namespace_layout", "package_layout",
           "src_layout"]
