"""Log files: opened (gzip or plain), checked for text, streamed line by line in constant memory.

Each path either yields lines or gets one reason why not: it does not exist, it cannot be read,
it is empty, it is binary, its gzip stream is corrupt. A folder stands for the files in it.
The caller reports the reason and goes on with the other files.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from gzip import GzipFile
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
#: How much of a file decides whether it is text.
SNIFF_BYTES = 64 * 1024
#: A line longer than this is cut; the rest of it is skipped, so one huge line cannot fill memory.
MAX_LINE_BYTES = 64 * 1024
_CHUNK = 1 << 20


@dataclass
class Source:
    """One file to read: its path, whether it is gzip, and why it was skipped (if it was)."""

    path: Path
    gzip: bool = False
    skipped: str | None = None
    size: int = 0
    #: Decoded sample of the first lines (for format detection).
    sample: list[str] = field(default_factory=list)
    #: Set while reading: a problem that cut the file short ("truncated gzip stream").
    cut_short: str | None = None

    def lines(self) -> Iterator[str]:
        """The file's lines, decoded as UTF-8 (bad bytes replaced), each at most MAX_LINE_BYTES."""
        try:
            raw = self._open()
        except OSError as e:
            self.cut_short = f"cannot read: {e.strerror or e}"
            return
        with raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            try:
                while True:
                    line = text.readline(MAX_LINE_BYTES)
                    if not line:
                        break
                    if len(line) == MAX_LINE_BYTES and not line.endswith("\n"):
                        _skip_rest(text)
                    yield line
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
                self.cut_short = f"stopped early: {_reason(e)}"


    def _open(self) -> GzipFile | BinaryIO:
        if self.gzip:
            return gzip.open(self.path, "rb")
        return open(self.path, "rb", buffering=_CHUNK)


def _skip_rest(text: io.TextIOWrapper) -> None:
    while True:
        part = text.readline(MAX_LINE_BYTES)
        if not part or part.endswith("\n"):
            return


def _reason(e: BaseException) -> str:
    if isinstance(e, EOFError):
        return "the gzip stream is truncated"
    if isinstance(e, (zlib.error, gzip.BadGzipFile)):
        return f"the gzip stream is corrupt ({e})"
    return getattr(e, "strerror", None) or str(e)


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """The files named: a folder stands for the regular, non-hidden files directly in it."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(c for c in p.iterdir() if c.is_file() and not c.name.startswith(".")))
        else:
            out.append(p)
    return out


def open_source(path: Path) -> Source:
    """Check one path and sniff its start; ``skipped`` says why it cannot be read."""
    src = Source(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        src.skipped = "no such file"
        return src
    except OSError as e:
        src.skipped = f"cannot read: {e.strerror or e}"
        return src
    if path.is_dir():
        src.skipped = "is a folder"
        return src
    src.size = st.st_size
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as e:
        src.skipped = f"cannot read: {e.strerror or e}"
        return src
    if not head:
        src.skipped = "empty file"
        return src
    if head[:2] == GZIP_MAGIC:
        src.gzip = True
        try:
            # A decompressor, not gzip.open: it gives what a truncated stream holds instead of nothing.
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, SNIFF_BYTES)
        except zlib.error as e:
            src.skipped = f"not a readable gzip file: {e}"
            return src
        if not head:
            src.skipped = "empty file (gzip)"
            return src
    if _binary(head):
        src.skipped = "binary file, not a log"
        return src
    text = head.decode("utf-8", "replace")
    src.sample = text.splitlines()[:200]
    if len(head) == SNIFF_BYTES and src.sample:
        src.sample.pop()  # the last line may be cut
    if not any(s.strip() for s in src.sample) and len(head) < SNIFF_BYTES:
        src.skipped = "empty log (only blank lines)"
    return src


def _binary(head: bytes) -> bool:
    """NUL bytes, or a large share of bytes that are neither text nor UTF-8, mean not a log."""
    if b"\x00" in head:
        return True
    ctrl = sum(1 for b in head[:8192] if b < 9 or 13 < b < 32)
    if ctrl > 0.05 * min(len(head), 8192):
        return True
    bad = head[:8192].decode("utf-8", "replace").count("\ufffd")
    return bad > 0.1 * min(len(head), 8192)


__all__ = ["MAX_LINE_BYTES", "Source", "expand", "open_source"]
