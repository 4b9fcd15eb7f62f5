"""The files of a reviewed code base: which are read, which are parsed into modules, which are
skipped and why, and the non-Python files that may configure its servers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tracehound.errors import TracehoundError
from tracehound.review.layout import Layout
from tracehound.review.model import Module, Skipped

#: Folders never reviewed: environments, caches, build output, VCS data.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
                       "site-packages", "build", "dist", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
                       ".ruff_cache", ".eggs"})
MAX_FILE_BYTES = 2_000_000
#: Files that may configure the servers (Procfile, Dockerfile, shell, TOML, INI, YAML, conf, env, unit files).
CONFIG_FILE = re.compile(r"(Procfile|Dockerfile.*|.*\.(sh|toml|cfg|ini|ya?ml|conf|env|service))$", re.I)
MAX_CONFIG_FILES = 200
MAX_CONFIG_BYTES = 200_000


class BadCodePath(TracehoundError):
    """The code to review is missing, unreadable or holds no Python file."""


def python_files(root: Path) -> list[Path]:
    """The Python files under ``root`` (or ``root`` itself), outside hidden and skipped folders."""
    if root.is_file():
        return [root]
    out = []
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root).parts
        if any(part in SKIP_DIRS or (part.startswith(".") and part not in (".", "..")) for part in rel[:-1]):
            continue
        out.append(p)
    return out


def parse_file(path: Path, layout: Layout) -> Module | Skipped:
    """The module a file holds, named by ``layout``, or why it was skipped (too large, unreadable,
    binary, not UTF-8, a syntax error)."""
    rel = layout.rel(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return Skipped(rel, f"larger than {MAX_FILE_BYTES // 1_000_000} MB")
        raw = path.read_bytes()
    except OSError as e:
        return Skipped(rel, f"cannot read: {e.strerror or e}")
    if b"\0" in raw:
        return Skipped(rel, "binary file")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Skipped(rel, "not UTF-8 text")
    try:
        tree = ast.parse(source, filename=rel)
    except SyntaxError as e:
        return Skipped(rel, f"syntax error at line {e.lineno}: {e.msg}")
    except (RecursionError, MemoryError):
        return Skipped(rel, "nested too deeply to parse")
    name, is_package = layout.module_name(path)
    return Module(name, path, rel, tree, source, is_package=is_package, in_scope=layout.in_scope(path))


def config_files(root: Path) -> dict[str, str]:
    """The text of the files under the folder ``root`` that may configure its servers, by relative path."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if len(out) >= MAX_CONFIG_FILES or any(part in SKIP_DIRS or part.startswith(".") for part in rel):
            continue
        if p.is_file() and CONFIG_FILE.match(p.name) and p.stat().st_size < MAX_CONFIG_BYTES:
            try:
                out[p.relative_to(root).as_posix()] = p.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    return out


__all__ = ["MAX_FILE_BYTES", "SKIP_DIRS", "BadCodePath", "config_files", "parse_file", "python_files"]
