"""The signature table: log messages that name a known way of failing, kept as data.

``signatures.yaml`` beside this module holds one entry per signature (its pattern, the signal it
emits, the logs that can show it, examples it must match) and the descriptions of every ``log:``
signal. A signature reports what a line shows, never a cause: the catalog weighs the signal.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).with_name("signatures.yaml")
#: Which logs a signature can appear in; :mod:`tracehound.logs.formats` maps each log kind to one.
ROLES = ("app", "gateway", "database", "cache")


@dataclass(frozen=True)
class Signature:
    id: str
    signal: str
    title: str
    pattern: re.Pattern[str]
    seen_in: tuple[str, ...]
    relates_to: tuple[str, ...] = ()
    fallback: bool = False
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    signatures: tuple[Signature, ...]
    #: signal name → what it means
    signals: dict[str, str]
    #: every pattern in one alternation: one search tells whether any signature can match
    any_: re.Pattern[str]

    def match(self, text: str) -> tuple[int, ...]:
        """Indices of the signatures found in ``text``; fallbacks only when nothing else matched."""
        if self.any_.search(text) is None:
            return ()
        hits = [i for i, s in enumerate(self.signatures) if s.pattern.search(text)]
        specific = [i for i in hits if not self.signatures[i].fallback]
        return tuple(specific or hits)

    def by_signal(self, name: str) -> list[Signature]:
        return [s for s in self.signatures if s.signal == name]

    def to_markdown(self) -> str:
        """The table as a page for readers: each signal, what it means, the signatures that emit it."""
        out = ["# Log signatures", "",
               ("Generated from `src/tracehound/logs/signatures.yaml` by "
                "`python -m tracehound.logs --docs docs/log-signatures.md`. A signature says what a log line shows;"),
               "the failure-mode catalog alone weighs the signal it emits.", ""]
        for name, desc in self.signals.items():
            out += [f"## `{name}`", "", desc[:1].upper() + desc[1:] + ".", ""]
            sigs = self.by_signal(name)
            if not sigs:
                out += ["Computed from the alignment of events with the runs, not from a pattern.", ""]
            for sig in sigs:
                tail = " Counts only when no other signature matched the same event." if sig.fallback else ""
                out += [(f"- **{sig.title}** (`{sig.id}`; in {', '.join(sig.seen_in)} logs;"
                         f" relates to {', '.join(sig.relates_to) or '-'}).{tail}"),
                        f"  Pattern: `{sig.pattern.pattern}`", "  Example:", "", "  ```", f"  {sig.examples[0]}",
                        "  ```", ""]
        return "\n".join(out).rstrip() + "\n"


class BadSignatureTable(ValueError):
    """The signature table is invalid (a bug in the shipped data, or in a user's own table)."""


def load_table(path: Path = TABLE) -> Table:
    """Read and validate a signature table."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise BadSignatureTable(f"cannot read {path}: {e}") from None
    if (not isinstance(raw, dict) or not isinstance(raw.get("signals"), dict)
            or not isinstance(raw.get("signatures"), list)):
        raise BadSignatureTable(f"{path}: expected 'signals:' (a mapping) and 'signatures:' (a list)")
    signals = {str(k): str(v) for k, v in raw["signals"].items()}
    for name in signals:
        if not re.fullmatch(r"log:[a-z0-9_]+", name):
            raise BadSignatureTable(f"{path}: signal {name!r} must be log:lower_snake_case")
    out: list[Signature] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw["signatures"]):
        out.append(_signature(path, i, entry, signals, seen))
    any_ = re.compile("|".join(f"(?:{s.pattern.pattern})" for s in out))
    return Table(tuple(out), signals, any_)


def _signature(path: Path, i: int, e: Any, signals: dict[str, str], seen: set[str]) -> Signature:
    where = f"{path.name}: signature #{i + 1}"
    if not isinstance(e, dict):
        raise BadSignatureTable(f"{where}: not a mapping")
    for key in ("id", "signal", "title", "pattern", "seen_in", "examples"):
        if not e.get(key):
            raise BadSignatureTable(f"{where}: missing {key!r}")
    sid = str(e["id"])
    where = f"{path.name}: signature {sid!r}"
    if sid in seen:
        raise BadSignatureTable(f"{where}: duplicate id")
    seen.add(sid)
    if e["signal"] not in signals:
        raise BadSignatureTable(f"{where}: signal {e['signal']!r} is not listed under signals:")
    roles = tuple(e["seen_in"])
    if not roles or any(r not in ROLES for r in roles):
        raise BadSignatureTable(f"{where}: seen_in must list some of {', '.join(ROLES)}")
    try:
        pattern = re.compile(str(e["pattern"]))
    except re.error as err:
        raise BadSignatureTable(f"{where}: bad pattern: {err}") from None
    return Signature(
        id=sid, signal=str(e["signal"]), title=str(e["title"]), pattern=pattern, seen_in=roles,
        relates_to=tuple(e.get("relates_to") or ()), fallback=bool(e.get("fallback", False)),
        examples=tuple(str(x) for x in e["examples"]), counter_examples=tuple(str(x) for x in e.get("not") or ()),
    )


@functools.cache
def default_table() -> Table:
    """The table shipped with tracehound (read once)."""
    return load_table()


def main(argv: list[str] | None = None) -> int:
    """``python -m tracehound.logs --docs FILE``: write the table's page (``--check``: compare)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tracehound.logs")
    ap.add_argument("--docs", type=Path, required=True, help="the Markdown page to write")
    ap.add_argument("--check", action="store_true", help="exit 1 if the page is not up to date instead of writing it")
    args = ap.parse_args(argv)
    text = default_table().to_markdown()
    if args.check:
        return 0 if args.docs.exists() and args.docs.read_text() == text else 1
    args.docs.parent.mkdir(parents=True, exist_ok=True)
    args.docs.write_text(text)
    return 0



__all__ = ["ROLES", "TABLE", "BadSignatureTable", "Signature", "Table", "default_table", "load_table"]
