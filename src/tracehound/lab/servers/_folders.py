"""Where servers keep their files: temp folders swept after a killed run, owned by whom the servers run as."""

from __future__ import annotations

import functools
import glob
import os
import pwd
import re
import shutil
import tempfile
from pathlib import Path

from tracehound.errors import ServerFailed


def temp_dir(kind: str) -> Path:
    """A new temp folder named after this process, so a later run can sweep it if we are killed."""
    _sweep_stale()
    return Path(tempfile.mkdtemp(prefix=f"tracehound-{os.getpid()}-{kind}-"))


@functools.cache  # once per process
def _sweep_stale() -> None:
    """Remove temp folders left by lab processes that were killed (SIGKILL skips every cleanup)."""
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "tracehound-*-*")):
        m = re.match(r"tracehound-(\d+)-", os.path.basename(d))
        if m and int(m.group(1)) != os.getpid() and not os.path.exists(f"/proc/{m.group(1)}"):
            shutil.rmtree(d, ignore_errors=True)


def unprivileged_ids() -> tuple[int, int] | None:
    """(uid, gid) to run servers as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        raise ServerFailed("running as root, and there is no 'nobody' user to run servers as") from None
    return pw.pw_uid, pw.pw_gid


def give_away(path: Path, ids: tuple[int, int] | None) -> None:
    """Hand ``path`` (and everything under it) to the unprivileged user, when there is one."""
    if ids is None:
        return
    for root, _dirs, files in os.walk(path):
        os.chown(root, *ids)
        for name in files:
            os.chown(os.path.join(root, name), *ids)
