"""Imports left unresolved: what the reviewer could not follow, counted rather than dropped.

An import resolves when it names a module of the code base read (:mod:`codebase`). One that does
not is a library's — the standard library, a dependency the project declares (``pyproject.toml``,
``requirements*.txt``, ``setup.cfg``, ``setup.py``, ``Pipfile``), a library the reviewer knows by
its API (:mod:`apis`), or one installed beside tracehound — or else it is *unresolved*: project
code the review cannot see (a folder outside the import root, a module generated at build time),
whose blocking calls and routes are then invisible. Those are reported with the review.
"""

from __future__ import annotations

import configparser
import functools
import importlib.util
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tracehound.review import apis
from tracehound.review.codebase import imported_names
from tracehound.review.index import Index
from tracehound.review.layout import Layout
from tracehound.review.model import Module

#: Distributions whose import name is not their normalised name.
IMPORT_NAMES = {
    "pyjwt": "jwt", "python_jose": "jose", "pyyaml": "yaml", "python_dotenv": "dotenv",
    "python_multipart": "multipart", "beautifulsoup4": "bs4", "pillow": "PIL", "psycopg2_binary": "psycopg2",
    "psycopg_binary": "psycopg", "scikit_learn": "sklearn", "opencv_python": "cv2", "attrs": "attr",
    "python_dateutil": "dateutil", "mysqlclient": "MySQLdb", "pyzmq": "zmq", "python_socketio": "socketio",
    "djangorestframework": "rest_framework", "django_cors_headers": "corsheaders", "argon2_cffi": "argon2",
    "pycryptodome": "Crypto", "grpcio": "grpc", "pyopenssl": "OpenSSL", "msgpack_python": "msgpack",
    "python_json_logger": "pythonjsonlogger", "mysql_connector_python": "mysql", "protobuf": "google",
    "faiss_cpu": "faiss", "pymupdf": "fitz", "python_slugify": "slugify", "factory_boy": "factory",
    "google_api_python_client": "googleapiclient", "atlassian_python_api": "atlassian",
    "python_magic": "magic", "pywin32": "win32api", "setuptools": "pkg_resources", "websocket_client": "websocket",
    "python_keycloak": "keycloak", "pyjwkest": "jwkest", "flask_sqlalchemy": "flask_sqlalchemy",
}
#: Distribution families sharing one top-level package (``google-cloud-storage`` → ``google``).
FAMILIES = ("google", "azure", "opentelemetry", "ruamel", "zope", "backports", "jaraco")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class UnresolvedImport:
    """An import of a reviewed file that names no module of the code base nor a library."""

    name: str
    path: str
    line: int


def unresolved_imports(index: Index, layout: Layout) -> list[UnresolvedImport]:
    """The imports of the files in scope that resolve neither to a module read nor to a library."""
    declared = frozenset().union(*(declared_dependencies(d) for d in _project_folders(index, layout)))
    out = []
    for m in index.modules:
        if not m.in_scope:
            continue
        for name, line, relative in imported_names(m):
            if _resolves(index, name, m) or (not relative and _is_library(name.split(".")[0], declared)):
                continue
            out.append(UnresolvedImport(name, m.rel, line))
    return sorted(set(out), key=lambda u: (u.path, u.line, u.name))


def _resolves(index: Index, name: str, near: Module) -> bool:
    """Whether ``a.b.c`` names a module read, or a member of one (``from a.b import c``)."""
    if not name or index.find_module(name, near) is not None:
        return True
    parent = name.rpartition(".")[0]
    return bool(parent) and index.find_module(parent, near) is not None


def _is_library(head: str, declared: frozenset[str]) -> bool:
    """Whether a top-level name is a library's (declared names compare without case: ``ipython`` is ``IPython``)."""
    return head in sys.stdlib_module_names or head.lower() in declared or head in _known_heads() or _installed(head)


@functools.cache
def _known_heads() -> frozenset[str]:
    return apis.library_heads()


@functools.cache
def _installed(head: str) -> bool:
    """Whether a top-level module of that name is importable beside tracehound (found, not imported)."""
    try:
        return importlib.util.find_spec(head) is not None
    except (ImportError, ValueError):
        return False


def _project_folders(index: Index, layout: Layout) -> list[Path]:
    """The folders that may declare the dependencies of the files in scope: the base, the import
    roots, and every folder between a reviewed file and the base (a monorepo's ``backend/``)."""
    folders = dict.fromkeys([layout.base, *layout.roots])
    for m in index.modules:
        if m.in_scope:
            for d in m.path.parents:
                if not d.is_relative_to(layout.base) or d in folders:
                    break
                folders[d] = None
    return list(folders)


def declared_dependencies(folder: Path) -> frozenset[str]:
    """The import names of the distributions the project in ``folder`` declares."""
    names: set[str] = set()
    for text in _read(folder / "pyproject.toml"), _read(folder / "Pipfile"):
        if text:
            names |= _toml_dependencies(text)
    cfg = _read(folder / "setup.cfg")
    if cfg:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(cfg)
            names |= set(parser.get("options", "install_requires", fallback="").splitlines())
        except configparser.Error:
            pass
    setup = _read(folder / "setup.py")
    m = re.search(r"install_requires\s*=\s*\[(.*?)\]", setup, re.S)
    if m:
        names |= set(re.findall(r"""["']([^"']+)["']""", m.group(1)))
    for req in [*folder.glob("requirements*.txt"), *folder.glob("requirements/*.txt")]:
        names |= {line for line in _read(req).splitlines() if not line.lstrip().startswith(("-", "#"))}
    return frozenset(n.lower() for n in filter(None, (import_name(r) for r in names)))


def import_name(requirement: str) -> str | None:
    """The top-level import name of a requirement (``PyJWT>=2`` → ``jwt``, ``google-cloud-storage`` → ``google``)."""
    m = _REQUIREMENT.match(requirement)
    if m is None:
        return None
    dist = re.sub(r"[-.]+", "_", m.group(1)).lower()
    family = dist.split("_")[0]
    return IMPORT_NAMES.get(dist) or (family if family in FAMILIES else dist)


def _toml_dependencies(text: str) -> set[str]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return set()
    out: set[str] = set()
    project = doc.get("project", {})
    out |= {d for d in project.get("dependencies", []) if isinstance(d, str)}
    for group in project.get("optional-dependencies", {}).values():
        out |= {d for d in group if isinstance(d, str)}
    poetry = doc.get("tool", {}).get("poetry", {})
    out |= set(poetry.get("dependencies", {}))
    for group in poetry.get("group", {}).values():
        out |= set(group.get("dependencies", {}))
    out |= set(doc.get("packages", {})) | set(doc.get("dev-packages", {}))
    for group in doc.get("dependency-groups", {}).values():  # PEP 735
        out |= {d for d in group if isinstance(d, str)}
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""


__all__ = ["UnresolvedImport", "declared_dependencies", "import_name", "unresolved_imports"]
