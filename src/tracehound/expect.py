"""What a right answer looks like, when the user knows: ``--expect`` and a flow step's ``expect:``.

Each expectation is one short text; an answer must meet all of them::

    status=200            the status is one of these (``status=200,201``, ``status=2xx``)
    keys=items,total      the body is a JSON object with these top-level keys
    $.items               the JSON value there is present, not null and not empty ({}, [], "")
    $.items[0].id=42      the JSON value there equals this (JSON if it reads as JSON, else text)
    body~"total":\\s*\\d+  the body (as text) matches this regular expression

An answer that does not is recorded as a failure of kind ``wrong_body``, its message saying
which expectation it missed. Statuses of 400 and above and errors are failures anyway: the
expectations only judge answers that would otherwise count as right.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracehound.errors import BadExpectation
from tracehound.jsonpath import Path, lookup, parse_path

#: The error kind an answer that misses an expectation is recorded with (and a minority body shape too).
WRONG_BODY = "wrong_body"
#: How the message of a ``wrong_body`` row marked for a minority shape (no expectation given) begins.
MINORITY_PREFIX = "minority body: "
#: …and of one marked because its body says the request failed, however many answers say so.
ERROR_BODY_PREFIX = MINORITY_PREFIX + "says it failed: "
#: The forms, for the message of an expectation that fits none.
FORMS = "status=200[,201|2xx], keys=a,b, $.path, $.path=value or body~regex"
_MAX_TEXT = 2000


class ExpectationMissed(Exception):
    """An answer missed an expectation (how the Locust engine carries it to its recorder)."""


@dataclass(frozen=True)
class _Value:
    expr: str
    path: Path
    #: Compare with ``value``; without it, the value must be present, not null and not empty.
    compare: bool = False
    value: Any = None

    def miss(self, doc: Any) -> str | None:
        try:
            got = lookup(doc, self.path)
        except KeyError:
            return f"{self.expr} is missing"
        if not self.compare:
            if got is None or got in ({}, [], ""):
                return f"{self.expr} is {json.dumps(got)}"
            return None
        if got != self.value:
            return f"{self.expr} is {_short(got)}, expected {_short(self.value)}"
        return None


@dataclass(frozen=True)
class Expectation:
    """Every expectation given, parsed once; :meth:`check` says which one an answer misses."""

    #: The texts as given (what ``run.json`` and a flow file keep).
    texts: tuple[str, ...] = ()
    statuses: frozenset[int] = frozenset()
    status_classes: frozenset[int] = frozenset()
    keys: tuple[str, ...] = ()
    values: tuple[_Value, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = field(default=(), compare=False)

    @property
    def needs_json(self) -> bool:
        return bool(self.keys or self.values)

    @classmethod
    def parse(cls, texts: Iterable[str], where: str = "--expect") -> Expectation:
        """The expectations of ``texts``; :class:`BadExpectation` names the first that cannot be read."""
        statuses: set[int] = set()
        classes: set[int] = set()
        keys: list[str] = []
        values: list[_Value] = []
        patterns: list[re.Pattern[str]] = []
        given: list[str] = []
        for raw in texts:
            if not isinstance(raw, str) or not raw.strip():
                raise BadExpectation(f"{where}: an expectation is empty", hint=f"forms: {FORMS}")
            text = raw.strip()
            if len(text) > _MAX_TEXT:
                raise BadExpectation(f"{where}: an expectation of {len(text):,} characters is too long "
                                     f"(at most {_MAX_TEXT:,})")
            given.append(text)
            bad = f"{where} {_short(text)}"
            if text.startswith("status="):
                for part in text[7:].split(","):
                    p = part.strip().lower()
                    if re.fullmatch(r"[1-5]xx", p):
                        classes.add(int(p[0]))
                    elif re.fullmatch(r"[1-5]\d\d", p):
                        statuses.add(int(p))
                    else:
                        raise BadExpectation(f"{bad}: {part.strip()!r} is not a status (200) or a class (2xx)")
            elif text.startswith("keys="):
                names = [k.strip() for k in text[5:].split(",") if k.strip()]
                if not names:
                    raise BadExpectation(f"{bad}: name at least one key (keys=items,total)")
                keys += names
            elif text.startswith("body~"):
                try:
                    patterns.append(re.compile(text[5:]))
                except re.error as e:
                    raise BadExpectation(f"{bad}: not a regular expression: {e}") from None
            elif text.startswith("$"):
                expr, eq, want = text.partition("=")
                expr = expr.strip()
                try:
                    path = parse_path(expr)
                except ValueError as e:
                    raise BadExpectation(f"{bad}: not a JSON path: {e}",
                                         hint="paths look like $.items or $.items[0].id") from None
                values.append(_Value(expr, path, bool(eq), _literal(want.strip()) if eq else None))
            else:
                raise BadExpectation(f"{bad}: not an expectation", hint=f"forms: {FORMS}")
        return cls(tuple(given), frozenset(statuses), frozenset(classes), tuple(dict.fromkeys(keys)),
                   tuple(values), tuple(patterns))

    def __bool__(self) -> bool:
        return bool(self.texts)

    def check(self, status: int, body: bytes) -> str | None:
        """Why an answer (below 400, no error) is wrong; None when it meets every expectation."""
        if (self.statuses or self.status_classes) and not (
                status in self.statuses or status // 100 in self.status_classes):
            want = sorted(map(str, self.statuses)) + [f"{c}xx" for c in sorted(self.status_classes)]
            return f"status {status}, expected {' or '.join(want)}"
        if self.needs_json:
            try:
                doc = json.loads(body)
            except (ValueError, RecursionError):  # nested past the parser's depth: not JSON it reads
                return "the body is not JSON" if body.strip() else "the body is empty"
            if self.keys:
                if not isinstance(doc, dict):
                    return f"the body is a JSON {type(doc).__name__}, expected an object with {', '.join(self.keys)}"
                missing = [k for k in self.keys if k not in doc]
                if missing:
                    return f"the body lacks {', '.join(missing)}"
            for v in self.values:
                why = v.miss(doc)
                if why is not None:
                    return why
        if self.patterns:
            text = body.decode("utf-8", "replace")
            for p in self.patterns:
                if p.search(text) is None:
                    return f"the body does not match {_short(p.pattern)}"
        return None


def expectation(texts: Sequence[str] | None, where: str = "--expect") -> Expectation | None:
    """``--expect`` values parsed, None when none were given."""
    return Expectation.parse(texts, where) if texts else None


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _short(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v)
    return repr(s if len(s) <= 60 else s[:57] + "...")


__all__ = ["FORMS", "MINORITY_PREFIX", "WRONG_BODY", "Expectation", "ExpectationMissed", "expectation"]
