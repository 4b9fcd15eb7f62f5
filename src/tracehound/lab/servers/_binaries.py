"""The server programs the lab runs, found on PATH or where Debian installs them."""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from tracehound.errors import MissingBinary


def find_binary(name: str, package: str, extra_dirs: Sequence[str] = ()) -> str:
    """The path of ``name`` on PATH or in ``extra_dirs``; :class:`MissingBinary` naming the Debian package."""
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        candidate = os.path.join(d, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise MissingBinary(f"{name} is not installed",
                        hint=f"install the Debian package {package}: apt-get install {package}")


def postgres_bindir() -> Path:
    """The folder holding ``initdb``, ``postgres`` and ``psql``: via PATH, else /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found:
        d = Path(os.path.realpath(found)).parent
        if (d / "postgres").exists():
            return d

    def version(p: str) -> tuple[int, ...]:
        m = re.search(r"/postgresql/(\d+(?:\.\d+)*)/", p)
        return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)

    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if os.access(os.path.join(bindir, "initdb"), os.X_OK) and os.access(os.path.join(bindir, "postgres"), os.X_OK):
            return Path(bindir)
    raise MissingBinary(
        "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)",
        hint="install the Debian package postgresql: apt-get install postgresql",
    )
