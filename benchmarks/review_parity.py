"""Parity with flake8-async's blocking-call rules: recall of the lines its fixtures mark, and the
share of our flagged lines it does not mark, per rule family.

    git clone https://github.com/python-trio/flake8-async /tmp/flake8-async   # or any mirror of it
    python benchmarks/review_parity.py /tmp/flake8-async [--rev HEAD] [--show]

The peer's fixtures (``tests/eval_files/async2xx*.py``) mark each line it flags with a comment
``# ASYNC210: …``. They are read from the peer's git history at run time (``git show REV:path``,
from a clone or a bare mirror), written to a temporary folder, and reviewed one by one with the
blocking-call rule (TH101); nothing of them is kept. A line counts once however many errors the
peer marks on it.

Fixtures left out, and why:

- ``async22x.py`` and ``async23x.py`` are the trio/anyio forms (``NOASYNCIO``); their asyncio
  twins ``async22x_asyncio.py`` and ``async23x_asyncio.py`` hold the same calls, and in the
  ``open()`` case differ only where ``trio.wrap_file`` makes a call safe, which asyncio lacks.
- ``async232*.py`` (methods of an open file object), ``async240.py`` (``os.path``, trio/anyio
  only) and ``async250*.py`` (``input()``) are rules outside the blocking-call set this measures.

``async251_multi_library.py`` is marked ``NOASYNCIO`` only for its message's wording and imports
asyncio, so it is kept.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tracehound.review import review

#: Our rules that are the counterpart of the peer's blocking-call rules.
OURS = ("TH101",)
#: Family -> the peer's fixture files for asyncio code.
FAMILIES: dict[str, tuple[str, ...]] = {
    "ASYNC210-212 HTTP clients": ("async210.py", "async211.py", "async212.py"),
    "ASYNC220-222 processes": ("async22x_asyncio.py",),
    "ASYNC230-231 file I/O": ("async23x_asyncio.py",),
    "ASYNC251 time.sleep": ("async251.py", "async251_multi_library.py"),
}
EXCLUDED = {
    "async22x.py": "trio/anyio form of async22x_asyncio.py (same calls)",
    "async23x.py": "trio/anyio form of async23x_asyncio.py (trio.wrap_file does not exist in asyncio)",
}
MARK = re.compile(r"#\s*(ASYNC2\d\d)(?:_\w+)?:")
BARS = {"recall": 0.90, "unmarked": 0.05}


@dataclass
class Tally:
    marked: set[tuple[str, int]] = field(default_factory=set)
    flagged: set[tuple[str, int]] = field(default_factory=set)
    by_code: dict[str, set[tuple[str, int]]] = field(default_factory=lambda: defaultdict(set))

    @property
    def found(self) -> set[tuple[str, int]]:
        return self.marked & self.flagged

    @property
    def unmarked(self) -> set[tuple[str, int]]:
        return self.flagged - self.marked

    def recall(self) -> float:
        return len(self.found) / len(self.marked) if self.marked else 1.0

    def unmarked_share(self) -> float:
        return len(self.unmarked) / len(self.flagged) if self.flagged else 0.0


def peer_file(peer: Path, rev: str, name: str) -> str:
    """A fixture's text from the peer's git history (a clone, or the git directory of a mirror)."""
    git_dir = peer / ".git" if (peer / ".git").exists() else peer
    out = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{rev}:tests/eval_files/{name}"],
                         capture_output=True, text=True, check=True)
    return out.stdout


def marked_lines(text: str) -> dict[int, set[str]]:
    """Line -> the peer's codes marked on it (commented-out lines skipped, as the peer's harness does)."""
    out: dict[int, set[str]] = {}
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("#"):
            continue
        codes = set(MARK.findall(line))
        if codes:
            out[i] = codes
    return out


def measure(peer: Path, rev: str) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="th-parity-") as tmp:
        for family, names in FAMILIES.items():
            t = tallies[family] = Tally()
            for name in names:
                text = peer_file(peer, rev, name)
                folder = Path(tmp) / name.removesuffix(".py")
                folder.mkdir()
                path = folder / name
                path.write_text(text, encoding="utf-8")
                for line, codes in marked_lines(text).items():
                    t.marked.add((name, line))
                    for c in codes:
                        t.by_code[c].add((name, line))
                result = review(path, select=OURS)
                if result.errors:
                    raise SystemExit(f"{name}: {result.errors[0][0]}")
                t.flagged |= {(name, v.line) for v in result.violations}
    return tallies


def table(tallies: dict[str, Tally]) -> str:
    rows = [f"{'family':28} {'marked':>6} {'found':>6} {'recall':>7} {'flagged':>8} {'unmarked':>9} {'share':>6}"]
    total = Tally()
    for family, t in tallies.items():
        rows.append(f"{family:28} {len(t.marked):6} {len(t.found):6} {t.recall():7.1%} {len(t.flagged):8} "
                    f"{len(t.unmarked):9} {t.unmarked_share():6.1%}")
        total.marked |= t.marked
        total.flagged |= t.flagged
    rows.append(f"{'all':28} {len(total.marked):6} {len(total.found):6} {total.recall():7.1%} "
                f"{len(total.flagged):8} {len(total.unmarked):9} {total.unmarked_share():6.1%}")
    rows += ["", "recall per peer code: " + ", ".join(
        f"{code} {len(lines & t.flagged)}/{len(lines)}"
        for t in tallies.values() for code, lines in sorted(t.by_code.items()))]
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("peer", type=Path, help="a clone of python-trio/flake8-async, or its git directory")
    ap.add_argument("--rev", default="HEAD", help="the peer's revision to read the fixtures from")
    ap.add_argument("--show", action="store_true", help="list the missed and the unmarked lines")
    args = ap.parse_args()
    tallies = measure(args.peer, args.rev)
    print(table(tallies))
    print("left out: " + "; ".join(f"{n} ({why})" for n, why in EXCLUDED.items()))
    if args.show:
        for family, t in tallies.items():
            for name, line in sorted(t.marked - t.flagged):
                print(f"missed    {family}: {name}:{line}")
            for name, line in sorted(t.unmarked):
                print(f"unmarked  {family}: {name}:{line}")
    ok = all(t.recall() >= BARS["recall"] and t.unmarked_share() <= BARS["unmarked"] for t in tallies.values())
    print(f"bars: recall >= {BARS['recall']:.0%}, unmarked <= {BARS['unmarked']:.0%} per family: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
