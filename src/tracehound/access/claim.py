"""Whether ``tracehound import`` should read a file as an access log or as a load tool's output."""

from __future__ import annotations

from pathlib import Path

from tracehound.access import formats
from tracehound.access.importer import compression_of, head_lines
from tracehound.errors import BadImport


def is_access_log(path: str | Path, fmt: str = "auto") -> bool:
    """An explicit access-log ``--format``, or (``auto``) a file that no load-tool importer claims
    and whose first lines are an access log. Errors reading the file are left to the importer."""
    name = fmt.strip().lower()
    if name != "auto":
        return name in formats.FORMATS
    p = Path(path)
    from tracehound.probe.importers import detect

    try:
        detect(p)
        return False
    except BadImport as e:
        unknown = e
    try:
        lines = head_lines(p, compression_of(p))
        if formats.sniff(lines, "auto") is not None:
            return True
    except BadImport as e:
        # JSON lines that lack a time or status field: an access log still, whose error says what to map.
        if "--map" in (e.hint or ""):
            return True
        raise unknown from None
    from tracehound.probe.importers import FORMATS

    raise BadImport(f"cannot import {str(p)!r}: cannot tell its format from its first line {lines[0][:60]!r}",
                    hint="pass --format " + "|".join((*FORMATS, *formats.FORMATS)))


__all__ = ["is_access_log"]
