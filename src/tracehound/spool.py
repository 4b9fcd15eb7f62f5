"""Pipes a user names as files (a FIFO, ``<(zcat app.log.gz)``): read once into a temporary file.

Readers look at a file more than once (its first bytes tell its format, then it is read
through), and a pipe gives its bytes only once; a FIFO nobody writes to blocks ``open()``
forever. A pipe is opened without blocking, waited on for at most :data:`WRITER_WAIT_S`, then
copied, up to :data:`MAX_BYTES`, into a file that lives as long as the ``with`` block.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: How long a pipe may stay silent before any byte comes through it.
WRITER_WAIT_S = 10.0
#: The most a pipe is read into its temporary file.
MAX_BYTES = 2 << 30
_CHUNK = 1 << 20


class PipeUnreadable(OSError):
    """A pipe that nothing wrote to in time, or that gave more than :data:`MAX_BYTES`; ``strerror`` says which."""


def is_pipe(path: Path) -> bool:
    """Whether ``path`` is a FIFO, a socket or a character device (``/dev/stdin``), not a file or folder.

    ``stat`` never blocks, even on a FIFO without a writer.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


@contextlib.contextmanager
def regular(path: str | Path, wait_s: float | None = None, max_bytes: int | None = None) -> Iterator[Path]:
    """``path`` itself unless it is a pipe; a pipe's content read once into a temporary file otherwise.

    The temporary file keeps the pipe's name (a reader may go by its extension) and is removed
    when the block ends. :class:`PipeUnreadable` when nothing comes through the pipe within
    ``wait_s`` seconds (default :data:`WRITER_WAIT_S`), or more than ``max_bytes`` does (default
    :data:`MAX_BYTES`).
    """
    p = Path(path)
    if not is_pipe(p):
        yield p
        return
    folder = Path(tempfile.mkdtemp(prefix="tracehound-pipe-"))
    try:
        copy = folder / (p.name or "pipe")
        _drain(p, copy, WRITER_WAIT_S if wait_s is None else wait_s, MAX_BYTES if max_bytes is None else max_bytes)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _drain(pipe: Path, to: Path, wait_s: float, max_bytes: int) -> None:
    fd = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO without a writer: opened at once, not blocked on
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        if not poller.poll(int(wait_s * 1000)):
            raise PipeUnreadable(0, f"a pipe that nothing wrote to within {wait_s:g} s")
        os.set_blocking(fd, True)
        total = 0
        with open(to, "wb") as out:
            while chunk := os.read(fd, _CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise PipeUnreadable(0, f"a pipe that gave more than {max_bytes >> 30} GB: save it to a file "
                                            "and name the file")
                out.write(chunk)
    finally:
        os.close(fd)


__all__ = ["MAX_BYTES", "WRITER_WAIT_S", "PipeUnreadable", "is_pipe", "regular"]
