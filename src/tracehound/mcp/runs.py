"""Run folders as the tools see them: new ones named like the CLI's, and the runs an argument names."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tracehound.probe.run import slugify, utc_now

if TYPE_CHECKING:
    from tracehound.probe import Run


def new_folder(root: Path, slug: str) -> Path:
    """A fresh folder under ``root`` named like the CLI's run folders: UTC time, then what it holds."""
    now = utc_now()
    base = root / f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{slugify(slug)}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def load_runs(paths: Iterable[str]) -> list[Run]:
    """Run folders, or investigation and verify folders (their runs, in order)."""
    from tracehound.errors import BadRun
    from tracehound.probe import Run

    out: list[Run] = []
    for p in map(Path, paths):
        if (p / "run.json").exists() and (p / "requests.parquet").exists():
            out.append(Run.load(p))
        elif (p / "runs").is_dir():
            found = sorted(q for q in (p / "runs").iterdir() if (q / "run.json").exists())
            if not found:
                raise BadRun(f"{str(p)!r} holds no runs")
            out += [Run.load(q) for q in found]
        else:
            raise BadRun(f"{str(p)!r} is not a run folder (no run.json and requests.parquet), nor an investigation")
    if not out:
        raise BadRun("give at least one run folder")
    for run in out:
        run.table  # noqa: B018 - read now: corrupt records are one clear error, not an empty result
    return out
