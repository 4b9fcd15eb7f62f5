"""The shape of the package: no import circle, no module a reader cannot hold."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

import tracehound

ROOT = Path(tracehound.__file__).parent
#: The lab's scenario and family apps are services under test, not tracehound's own code.
EXCLUDED = (ROOT / "lab" / "scenarios", ROOT / "lab" / "families")
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        if any(e in path.parents for e in EXCLUDED):
            continue
        parts = ["tracehound", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every tracehound module ``name`` imports, at any depth of the file: inside functions and
    ``if TYPE_CHECKING:`` blocks too (a circle closed there is still two modules that know each other)."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # `from pkg import submodule` loads the submodule; any other name comes from `pkg` itself.
            # (A parent package's __init__ runs before any of its modules, for every import alike, so
            # that implicit step is not counted as an arrow.)
            subs = {f"{mod}.{a.name}" for a in node.names} & known
            out.update(subs)
            if len(subs) < len(node.names):
                out.add(mod)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {m for m in out if m in known and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def test_the_package_has_no_import_circle() -> None:
    mods = _modules()
    graph = {name: _imports(name, path, set(mods)) for name, path in mods.items()}
    assert _cycles(graph) == []


def test_the_circle_finder_finds_a_planted_circle(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_file_holds_a_merge_conflict_left_unresolved() -> None:
    # A merge that stopped half-way once left its markers in a README that nothing parses.
    repo = ROOT.parent.parent
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, check=False, timeout=120)
    names = [n for n in tracked.stdout.decode().split("\0") if n] if tracked.returncode == 0 else []
    if not names:
        pytest.skip("not a git checkout")
    ours, theirs = re.compile(rb"^<{7} ", re.M), re.compile(rb"^>{7} ", re.M)
    left = [n for n in names if (repo / n).is_file() and ours.search(data := (repo / n).read_bytes())
            and theirs.search(data)]
    assert not left, left
