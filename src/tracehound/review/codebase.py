"""The code base a review reads: the files given, the package they belong to, and the project
modules they import from outside it, named from the import root (:mod:`layout`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tracehound.review.collector import module_level
from tracehound.review.files import SKIP_DIRS, BadCodePath, parse_file, python_files
from tracehound.review.layout import (
    Layout,
    given_layout,
    module_imports,
    namespace_layout,
    package_layout,
    src_layout,
)
from tracehound.review.model import Module, Skipped

#: An import statement below the top level (inside a function, a class, an ``if``).
_INDENTED_IMPORT = re.compile(r"^[ \t]+(?:from[ \t]+[\w.]+[ \t]+import|import)[ \t]", re.M)


@dataclass
class Codebase:
    layout: Layout
    modules: list[Module]
    #: Files of the scope that could not be read.
    skipped: list[Skipped]


def read_codebase(path: Path) -> Codebase:
    """The modules a review of ``path`` (a folder or a file) needs, and how their imports resolve."""
    if not path.exists():
        raise BadCodePath(f"{path}: no such file or folder", hint="give the folder of the service's code")
    if path.is_file() and path.suffix != ".py":
        raise BadCodePath(f"{path}: not a Python file or a folder")
    scope = path.resolve()
    layout = package_layout(scope) or src_layout(scope)
    try:
        if layout is None:
            layout = given_layout(scope)
            files = python_files(scope)
            parsed = [parse_file(p, layout) for p in files]
            imported = (n for m in parsed if isinstance(m, Module) for n in module_imports(m.tree))
            found = namespace_layout(scope, imported)
            if found is not None:
                for m in parsed:
                    _rename(m, layout.base, found)
                layout = found
                done = set(files)
                parsed += [parse_file(p, layout) for p in python_files(_read_first(layout)) if p not in done]
        else:
            parsed = [parse_file(p, layout) for p in python_files(_read_first(layout))]
    except OSError as e:
        raise BadCodePath(f"{path}: cannot read: {e.strerror or e}") from None
    modules = [m for m in parsed if isinstance(m, Module)]
    skipped = [s for s in parsed if isinstance(s, Skipped) and layout.in_scope(layout.base / s.path)]
    _follow_imports(layout, modules)
    return Codebase(layout, modules, skipped)


def _read_first(layout: Layout) -> Path:
    """What is read before following imports: the topmost package holding the scope, or the project."""
    start = layout.scope if layout.scope.is_dir() else layout.scope.parent
    for root in layout.roots:
        if start != root and start.is_relative_to(root):
            return root / start.relative_to(root).parts[0]
    return start


def _rename(item: Module | Skipped, old_base: Path, layout: Layout) -> None:
    """Name a module read under another layout (and place a skipped file) by ``layout``."""
    if isinstance(item, Module):
        item.name, item.is_package = layout.module_name(item.path)
        item.rel = layout.rel(item.path)
    else:
        item.path = layout.rel(old_base / item.path)


def imported_names(m: Module) -> Iterator[tuple[str, int, bool]]:
    """(absolute module name, line, relative?) of every import of a module, ``from a import b`` as ``a.b``."""
    nodes = ast.walk(m.tree) if _INDENTED_IMPORT.search(m.source) else module_level(m.tree.body)
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno, False
        elif isinstance(node, ast.ImportFrom):
            base = absolute_base(m, node)
            if base is None:  # above the import root: counted as unresolved, under the name as written
                yield "." * node.level + (node.module or ""), node.lineno, True
                continue
            for a in node.names:
                name = base if a.name == "*" else f"{base}.{a.name}" if base else a.name
                yield name, node.lineno, bool(node.level)


def absolute_base(m: Module, node: ast.ImportFrom) -> str | None:
    """The absolute module a ``from … import`` reads from (None: a relative import above the root)."""
    if not node.level:
        return node.module or ""
    pkg = m.package.split(".") if m.package else []
    if node.level - 1 > len(pkg):
        return None
    base = pkg[: len(pkg) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _follow_imports(layout: Layout, modules: list[Module]) -> None:
    """Read the project modules that ``modules`` import from outside what was read, transitively."""
    known = {m.name for m in modules}
    read = {m.path for m in modules}
    files: dict[str, Path | None] = {}
    todo = [n for m in modules for n, _, _ in imported_names(m)]
    while todo:
        name = todo.pop()
        if not name or name in known:
            continue
        if name not in files:
            files[name] = module_file(layout, name)
        path = files[name]
        if path is None or path in read:
            continue
        read.add(path)
        m = parse_file(path, layout)
        if isinstance(m, Module):
            modules.append(m)
            known.add(m.name)
            todo += [n for n, _, _ in imported_names(m)]


def module_file(layout: Layout, name: str) -> Path | None:
    """The file of the project module ``name`` (or of the longest module prefix of it) under an import root."""
    parts = name.split(".")
    if any(p in SKIP_DIRS or not p.isidentifier() for p in parts):
        return None
    for root in layout.roots:
        for i in range(len(parts), 0, -1):
            base = root.joinpath(*parts[:i])
            for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
                if candidate.is_file():
                    return candidate
    return None


__all__ = ["Codebase", "absolute_base", "imported_names", "module_file", "read_codebase"]
