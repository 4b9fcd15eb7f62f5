"""Code-review rules as data: a code, a name, the documentation, and the check that finds it.

Each rule is declared beside its check (in ``tracehound/review/checks/``) by decorating the check
with its :class:`Rule`, in the manner of ruff's rule pages: what it does, why it breaks under
load, an example, the fix, and the failure modes of the catalog it relates to (for readers: what
the agent emits is the rule's signal, and only the catalog weighs it). The decorated function
becomes a :class:`Check`, and :data:`tracehound.review.registry.CHECKS` lists them all.
``tracehound review --rule CODE`` prints a page; ``docs/rules/`` holds them all
(:mod:`tracehound.review.docs`).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tracehound.review.model import Scope
from tracehound.review.project import Project
from tracehound.review.routes import Route

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Rule:
    """A rule's code, name, signal and documentation; used as a decorator, it makes its check a :class:`Check`."""

    code: str
    name: str
    #: The ``code:`` signal the code agent emits for it.
    signal: str
    #: Failure-mode ids of the catalog this rule's findings relate to.
    links: tuple[str, ...]
    #: One line: what a finding means.
    summary: str
    what: str
    why: str
    example: str
    fix: str
    fixed: str
    #: error: fails under load as written; warning: a risk that needs a condition; note: context.
    severity: str = "warning"
    #: How surely a hit is the cause it names, in [0, 1]: scales the signal's strength.
    confidence: float = 0.8
    references: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.code}: severity must be one of {SEVERITIES}")
        if not self.signal.startswith("code:"):
            raise ValueError(f"rule {self.code}: its signal must be in the code: namespace")

    def __call__(self, find: CheckFunction) -> Check:
        """Pair this rule with the function that finds its violations."""
        return Check(self, find)

    def to_markdown(self) -> str:
        links = ", ".join(f"[`{i}`](../failure-modes/{i}.md)" for i in self.links) or "none yet"
        lines = [f"# {self.name} ({self.code})", "", f"{self.summary}", "",
                 f"Severity: {self.severity}. Emits `{self.signal}`. Related failure modes: {links}.", "",
                 "## What it does", "", _para(self.what), "", "## Why it breaks under load", "", _para(self.why), "",
                 "## Example", "", "```python", _code(self.example), "```", "", "## Use instead", "",
                 _para(self.fix), "", "```python", _code(self.fixed), "```"]
        if self.references:
            lines += ["", "## References", ""] + [f"- [{t}]({u})" for t, u in self.references]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "signal": self.signal, "links": list(self.links),
                "summary": self.summary, "severity": self.severity}


@dataclass
class Hit:
    """What a check reports: a node in a scope, a message, and optionally a confidence of its own."""

    node: ast.AST
    scope: Scope
    message: str
    confidence: float | None = None
    #: Module-level findings: the global whose users decide which routes the finding is on.
    global_name: str | None = None
    extra_routes: set[Route] = field(default_factory=set)


#: The function that finds a rule's violations in a project.
CheckFunction = Callable[[Project], Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    """A rule and the function that finds its violations."""

    rule: Rule
    find: CheckFunction

    def __call__(self, project: Project) -> Iterable[Hit]:
        return self.find(project)


def _para(text: str) -> str:
    """Paragraphs of a docstring-like text, each joined onto one line (Markdown wraps them)."""
    return "\n\n".join(" ".join(p.split()) for p in textwrap.dedent(text).strip().split("\n\n"))


def _code(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


__all__ = ["SEVERITIES", "Check", "CheckFunction", "Hit", "Rule"]
