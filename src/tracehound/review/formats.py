"""A review as text (one line per finding, as ruff prints them), JSON, or SARIF 2.1.0."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from tracehound import __version__
from tracehound.review.registry import all_rules
from tracehound.review.reviewer import Review, Violation
from tracehound.review.rules import Rule

FORMATS = ("text", "json", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def text(review: Review) -> str:
    """``path:line:col: CODE message`` lines, the routes each finding is on, and a summary line."""
    lines = []
    for v in review.violations:
        lines.append(f"{v.path}:{v.line}:{v.col}: {v.code} [{v.rule.name}] {v.message}")
        if v.routes:
            shown = sorted({r.label for r in v.routes})
            more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
            lines.append(f"    on {', '.join(shown[:3])}{more}")
    lines += context(review)
    n = len(review.violations)
    if n:
        by = Counter(v.rule.severity for v in review.violations)
        parts = ", ".join(f"{by[s]} {s}{'s' if by[s] > 1 else ''}" for s in ("error", "warning", "note") if by[s])
        files = f"{review.files} file{'s' if review.files != 1 else ''}"
        lines.append(f"Found {n} finding{'s' if n > 1 else ''} ({parts}) in {files}.")
    else:
        lines.append(f"No findings in {review.files} file{'s' if review.files != 1 else ''}.")
    return "\n".join(lines) + "\n"


def context(review: Review) -> list[str]:
    """What a reader needs to trust the findings: the import root, when it is not the folder given,
    and the imports that resolved to nothing (their calls are invisible to the review)."""
    out = []
    if review.layout is not None and review.layout.found:
        out.append(f"Imports resolved from {review.layout.root} ({review.layout.how}).")
    if review.unresolved:
        n = len(review.unresolved)
        by_head: dict[str, list[str]] = {}
        for u in review.unresolved:
            by_head.setdefault(u.name.split(".")[0], []).append(u.name)
        # one entry per top-level package: the longest dotted name its imports share, and a count
        by_name = sorted(((_common_prefix(names), len(names)) for names in by_head.values()), key=lambda nk: -nk[1])
        shown = ", ".join(f"{name} ({k}×)" if k > 1 else name for name, k in by_name[:4])
        more = f" and {len(by_name) - 4} more" if len(by_name) > 4 else ""
        out.append(f"{n} import{'s' if n != 1 else ''} left unresolved: {shown}{more} "
                   "(calls into them are not followed).")
    return out


def _common_prefix(names: list[str]) -> str:
    parts = [n.split(".") for n in names]
    common = []
    for column in zip(*parts, strict=False):
        if len(set(column)) > 1:
            break
        common.append(column[0])
    return ".".join(common)


def as_json(review: Review) -> str:
    doc = {"tool": "tracehound review", "version": __version__, **review.to_dict(),
           "rules": {code: r.to_dict() for code, r in all_rules().items()
                     if any(v.code == code for v in review.violations)}}
    return json.dumps(doc, indent=2) + "\n"


def sarif(review: Review, cwd: Path | None = None) -> dict[str, Any]:
    """The review as a SARIF 2.1.0 log, with what GitHub code scanning reads: rules with help,
    results with a level, a message, a region and a partial fingerprint."""
    rules = all_rules()
    order = list(rules)
    root, prefix, base = _uri_base(review.root, cwd or Path.cwd())
    results = [_result(v, order.index(v.code), prefix, base, root) for v in review.violations]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "tracehound", "version": __version__, "semanticVersion": __version__,
                            "rules": [_rule(r) for r in rules.values()]}},
        "results": results,
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": not review.errors, "toolExecutionNotifications": [
            {"level": "warning", "message": {"text": f"{s.path}: skipped: {s.reason}"},
             "locations": [{"physicalLocation": {"artifactLocation": _artifact(s.path, prefix, base)}}]}
            for s in review.skipped] + [{"level": "error", "message": {"text": e}} for e, _ in review.errors]
            + [{"level": "note", "message": {"text": line}} for line in context(review)]}],
    }
    if base:
        run["originalUriBaseIds"] = {base: {"uri": root.as_uri().rstrip("/") + "/"}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def as_sarif(review: Review) -> str:
    return json.dumps(sarif(review), indent=2) + "\n"


def render(review: Review, fmt: str) -> str:
    return {"text": text, "json": as_json, "sarif": as_sarif}[fmt](review)


def _uri_base(root: Path, cwd: Path) -> tuple[Path, str, str | None]:
    """(root folder, path prefix, uriBaseId): paths relative to the working directory when the
    reviewed code lies inside it (as a repository checkout does), else relative to %SRCROOT%."""
    folder = root.resolve() if root.is_dir() else root.resolve().parent
    try:
        rel = folder.relative_to(cwd.resolve()).as_posix()
        return folder, "" if rel == "." else rel + "/", None
    except ValueError:
        return folder, "", "SRCROOT"


def _artifact(path: str, prefix: str, base: str | None) -> dict[str, str]:
    out = {"uri": prefix + path}
    if base:
        out["uriBaseId"] = base
    return out


def _rule(r: Rule) -> dict[str, Any]:
    return {"id": r.code, "name": r.name, "shortDescription": {"text": r.summary},
            "fullDescription": {"text": " ".join(r.what.split())},
            "help": {"text": f"{' '.join(r.why.split())} Fix: {' '.join(r.fix.split())}", "markdown": r.to_markdown()},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"tags": ["reliability", "performance", *r.links],
                           "precision": "high" if r.confidence >= 0.8 else "medium" if r.confidence >= 0.5 else "low",
                           "signal": r.signal}}


def _result(v: Violation, index: int, prefix: str, base: str | None, root: Path) -> dict[str, Any]:
    region = {"startLine": v.line, "startColumn": v.col, "endLine": v.end_line, "endColumn": max(v.end_col, v.col)}
    try:
        line_text = (root / v.path).read_text(encoding="utf-8").splitlines()[v.line - 1].strip()
    except (OSError, IndexError, UnicodeDecodeError):
        line_text = ""
    digest = hashlib.sha256(f"{v.code}\0{v.path}\0{line_text}".encode()).hexdigest()[:16]
    out: dict[str, Any] = {
        "ruleId": v.code, "ruleIndex": index, "level": _SARIF_LEVEL[v.rule.severity], "message": {"text": v.message},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(v.path, prefix, base), "region": region}}],
        "partialFingerprints": {"primaryLocationLineHash": f"{digest}:1"},
        "properties": {"routes": sorted({r.label for r in v.routes}), "signal": v.rule.signal,
                       "confidence": round(v.confidence, 2)},
    }
    return out


__all__ = ["FORMATS", "as_json", "as_sarif", "context", "render", "sarif", "text"]
