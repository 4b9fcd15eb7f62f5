"""Past work under a folder: probe and imported runs, investigations, verifications (``tracehound runs``).

Each kind of folder says what it is by the file it holds: ``report.json`` an investigation,
``verify.json`` a verification, ``run.json`` with ``requests.parquet`` a run. Investigations and
verifications keep their own runs inside (``runs/``); they are listed once, as themselves, and
:func:`run_folders` reaches inside them for those who want every run (``tracehound sql``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracehound.errors import BadReport, BadRun
from tracehound.probe.meta import META_FILE, RunMeta, read_meta
from tracehound.probe.run import REQUESTS_FILE, RUNS_DIR, iso
from tracehound.report.model import REPORT_FILE, Report, load_report
from tracehound.verification import VERIFY_FILE, VerificationDoc, load_verification

#: How deep under the folder given past work is looked for (a run folder stops the descent).
MAX_DEPTH = 4


@dataclass
class PastWork:
    """One line of ``tracehound runs``."""

    path: Path
    #: probe | import | investigation | verify
    kind: str
    started_at: str | None
    target: str
    requests: int | None
    failures: int | None
    #: A run: complete | interrupted | failed; an investigation: reproduced | not_reproduced; a verify: pass | fail.
    verdict: str | None
    #: An investigation's leading failure mode; a verification's SLO.
    detail: str | None = None
    confidence: float | None = None

    @property
    def failure_rate(self) -> float | None:
        if self.requests is None or self.failures is None:
            return None
        return self.failures / self.requests if self.requests else 0.0

    def to_dict(self) -> dict[str, Any]:
        rate = self.failure_rate
        return {"path": str(self.path), "kind": self.kind, "started_at": self.started_at, "target": self.target,
                "requests": self.requests, "failures": self.failures,
                "failure_rate": None if rate is None else round(rate, 5), "verdict": self.verdict,
                "detail": self.detail, "confidence": None if self.confidence is None else round(self.confidence, 4)}


def kind_of(folder: Path) -> str | None:
    """investigation, verify or run, by the file the folder holds; None for any other folder."""
    if (folder / REPORT_FILE).is_file():
        return "investigation"
    if (folder / VERIFY_FILE).is_file():
        return "verify"
    if (folder / META_FILE).is_file() and (folder / REQUESTS_FILE).is_file():
        return "run"
    return None


def _walk(root: Path, depth: int = 0) -> Iterator[tuple[Path, str]]:
    kind = kind_of(root)
    if kind is not None:
        yield root, kind
        return
    if depth >= MAX_DEPTH:
        return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        yield from _walk(child, depth + 1)


def _root(root: str | Path | None) -> Path:
    path = Path(root) if root is not None else RUNS_DIR
    if root is not None and not path.is_dir():
        raise BadRun(f"{str(path)!r} is not a folder")
    return path


def past_work(root: str | Path | None = None) -> list[PastWork]:
    """Every run, investigation and verification under ``root`` (default ``.tracehound/runs``), newest first."""
    path = _root(root)
    if not path.is_dir():
        return []
    out = [_describe(p, kind) for p, kind in _walk(path)]
    return sorted(out, key=lambda w: w.started_at or "", reverse=True)


def run_folders(root: str | Path | None = None) -> list[tuple[Path, Path | None]]:
    """Every run folder under ``root``, those inside investigations and verifications too: (run, its parent work)."""
    path = _root(root)
    if not path.is_dir():
        return []
    out: list[tuple[Path, Path | None]] = []
    for p, kind in _walk(path):
        if kind == "run":
            out.append((p, None))
        elif (p / "runs").is_dir():
            out += [(q, p) for q in sorted((p / "runs").iterdir()) if kind_of(q) == "run"]
    return out


def run_failures(folder: Path) -> tuple[int, int] | None:
    """(requests, failures) of a run folder, cancelled requests left out; None when unreadable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tracehound.probe.records import is_cancelled, is_failure

    try:
        t = pq.read_table(folder / REQUESTS_FILE, columns=["status", "error_kind"])
    except (OSError, pa.ArrowInvalid, KeyError):
        return None
    if t.num_rows == 0:
        return 0, 0
    return int((~is_cancelled(t)).sum()), int(is_failure(t).sum())


def listed_meta(folder: Path) -> RunMeta:
    """A listed run's ``run.json``, or an empty one when it cannot be read (a listing skips nothing)."""
    try:
        return read_meta(folder)
    except BadRun:
        return RunMeta()


def _mtime(path: Path) -> str:
    try:
        return iso(datetime.fromtimestamp(os.stat(path).st_mtime, UTC))
    except OSError:
        return ""


def _target(run: RunMeta) -> str:
    t = run.target
    if t.flow is not None:
        source = t.flow.source
        return f"flow {'?' if source is None else source} on {t.url or ''}"
    if t.url:
        return f"{'GET' if t.method is None else t.method} {t.url}"
    if t.distinct_urls:
        return f"{t.distinct_urls} URLs"
    return ""


def listed_report(folder: Path) -> Report | None:
    """The investigation's report, or None when it cannot be read (a listing shows the folder all the same)."""
    try:
        return load_report(folder)
    except BadReport:
        return None


def listed_verification(folder: Path) -> VerificationDoc | None:
    """The verification's result, or None when it cannot be read."""
    try:
        return load_verification(folder)
    except BadReport:
        return None


def _describe(path: Path, kind: str) -> PastWork:
    if kind == "investigation":
        r = listed_report(path)
        if r is None:
            return PastWork(path, "investigation", _mtime(path), "", None, None, None, None, None)
        c, top = r.case, r.top
        what = (f"flow {c.flow} on {c.base_url}" if c.flow
                else f"{'GET' if c.method is None else c.method} {'' if c.url is None else c.url}")
        return PastWork(path, "investigation", r.started_at or _mtime(path), what, r.requests, r.failures, r.verdict,
                        top.id if top else None, top.confidence if top else None)
    if kind == "verify":
        v = listed_verification(path)
        runs = sorted(q for q in (path / "runs").glob("*") if kind_of(q) == "run") if (path / "runs").is_dir() else []
        first = listed_meta(runs[0]) if runs else RunMeta()
        if v is None:
            return PastWork(path, "verify", first.started_at or _mtime(path), _target(first), None, None, None)
        verdict = None if v.passed is None else ("pass" if v.passed else "fail")
        return PastWork(path, "verify", first.started_at or v.finished_at or _mtime(path),
                        _target(first) or f"{v.mode} of {v.source or '?'}",
                        v.after.requests if v.after else None, v.after.failures if v.after else None, verdict, v.slo)
    run = listed_meta(path)
    counts = run_failures(path)
    status = run.status or ("complete" if run.complete else None)
    return PastWork(path, run.kind or "probe", run.started_at or _mtime(path), _target(run),
                    counts[0] if counts else run.counts.requests, counts[1] if counts else None, status)


__all__ = ["PastWork", "kind_of", "listed_meta", "listed_report", "listed_verification", "past_work", "run_failures",
           "run_folders"]
