"""A failure mode as data: one catalog entry, what it is, how the evidence weighs it, how to fix it.

:class:`FailureMode` is what :mod:`tracehound.diagnosis.entries` reads from ``catalog/<id>.yaml``;
the diagnoser reads ``prior``, ``signals``, ``absent`` and ``why`` (it satisfies
:class:`tracehound.diagnosis.scoring.Entry`), ``tracehound explain`` prints :meth:`FailureMode.to_markdown`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracehound.diagnosis.markdown import cell, num, percent, weight

#: The success criteria an entry may set, in the order ``--slo`` writes them.
SLO_KEYS = ("error_rate", "p95_ms", "p99_ms")


@dataclass(frozen=True)
class DiscriminatingExperiment:
    """An experiment that tells this failure mode apart from its look-alikes."""

    name: str
    why: str
    expect: str


@dataclass(frozen=True)
class CodeFix:
    title: str
    language: str
    before: str
    after: str


@dataclass(frozen=True)
class Fixes:
    immediate: tuple[str, ...]
    short_term: tuple[str, ...]
    long_term: tuple[str, ...]
    code: tuple[CodeFix, ...] = ()


@dataclass(frozen=True)
class Verification:
    steps: tuple[str, ...]
    #: Default success criteria for ``tracehound verify``: error_rate (fraction), p95_ms, p99_ms.
    slo: Mapping[str, float]
    rollback: str = ""

    def slo_text(self) -> str:
        """The criteria in ``tracehound verify --slo`` syntax, e.g. ``error_rate<1%,p95<500ms``."""
        parts = []
        for key in SLO_KEYS:
            if key not in self.slo:
                continue
            v = self.slo[key]
            parts.append(f"error_rate<{num(100 * v)}%" if key == "error_rate" else f"{key[:-3]}<{num(v)}ms")
        return ",".join(parts)


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    threshold: str
    why: str


@dataclass(frozen=True)
class Prevention:
    alerts: tuple[Alert, ...]
    ci: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    title: str
    url: str


@dataclass(frozen=True)
class FailureMode:
    """One catalog entry. The mappings are shared by every caller: treat them as read-only."""

    id: str
    title: str
    summary: str
    symptoms: tuple[str, ...]
    prior: float
    signals: dict[str, float]
    absent: dict[str, float]
    why: dict[str, str]
    experiments: tuple[DiscriminatingExperiment, ...]
    fixes: Fixes
    verification: Verification
    prevention: Prevention
    references: tuple[Reference, ...]
    #: Generic user wording → log-odds points when a symptom says it (see :mod:`tracehound.diagnosis.symptom`).
    symptom_phrases: Mapping[str, float] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False, repr=False)

    def signal_names(self) -> set[str]:
        """Every signal the entry weighs, seen or expected."""
        return set(self.signals) | set(self.absent)

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain JSON-able data, in the file's order."""
        v = self.verification
        return {
            "id": self.id, "title": self.title, "summary": self.summary, "symptoms": list(self.symptoms),
            "symptom_phrases": dict(self.symptom_phrases), "prior": self.prior, "signals": dict(self.signals),
            "absent": dict(self.absent), "why": dict(self.why),
            "experiments": [vars(e).copy() for e in self.experiments],
            "fixes": {"immediate": list(self.fixes.immediate), "short_term": list(self.fixes.short_term),
                      "long_term": list(self.fixes.long_term), "code": [vars(c).copy() for c in self.fixes.code]},
            "verification": {"steps": list(v.steps), "slo": dict(v.slo), "slo_arg": v.slo_text(),
                             "rollback": v.rollback},
            "prevention": {"alerts": [vars(a).copy() for a in self.prevention.alerts], "ci": list(self.prevention.ci)},
            "references": [vars(r).copy() for r in self.references],
        }

    def to_markdown(self) -> str:
        """The entry as a page, in the manner of ``ruff rule``: what, evidence, fixes, checks."""
        return _page(self)


# -- the entry as a page ---------------------------------------------------------------------


def _slo_words(slo: Mapping[str, float]) -> str:
    words = [f"error rate below {num(100 * slo['error_rate'])} %"]
    words += [f"{k[:-3]} below {num(slo[k])} ms" for k in ("p95_ms", "p99_ms") if k in slo]
    return ", ".join(words)


def _page(m: FailureMode) -> str:
    lines = [f"# {m.title} (`{m.id}`)", "", m.summary, "",
             f"Base rate (prior): {percent(m.prior)} of intermittent web-API failures.", "", "## Symptoms", ""]
    lines += [f"- {s}" for s in m.symptoms]
    if m.symptom_phrases:
        lines += ["", "## Symptom phrases", "",
                  "Wording in a user's report (`--symptom`) that points to this mode, and the points it adds "
                  "to the score (a denied phrase counts half, against; the total is capped).", "",
                  "| phrase | points |", "| --- | ---: |"]
        lines += [f"| {cell(p)} | {weight(w)} |" for p, w in m.symptom_phrases.items()]

    lines += ["", "## Evidence", "",
              "How the diagnoser weighs each signal: natural-log likelihood ratios at full strength, "
              "positive for, negative against. *Seen* applies when an agent reports the signal; "
              "*not seen* when the data could have shown it and did not.", "",
              "| signal | seen | not seen | why |", "| --- | ---: | ---: | --- |"]
    order = sorted(m.signal_names(), key=lambda n: (-(m.signals.get(n, 0.0)), m.absent.get(n, 0.0), n))
    for name in order:
        seen, not_seen = weight(m.signals.get(name)), weight(m.absent.get(name))
        lines.append(f"| `{name}` | {seen} | {not_seen} | {cell(m.why[name])} |")

    lines += ["", "## Experiments that tell it apart", ""]
    for i, e in enumerate(m.experiments, 1):
        lines.append(f"{i}. **{e.name}.** {e.why} *Expect:* {e.expect}")

    lines += ["", "## Fixes"]
    for label, items in (("Immediate", m.fixes.immediate), ("Short term", m.fixes.short_term),
                         ("Long term", m.fixes.long_term)):
        lines += ["", f"### {label}", ""] + [f"- {s}" for s in items]
    for c in m.fixes.code:
        lines += ["", f"### Code: {c.title}", "", "Before:", "", f"```{c.language}", c.before.rstrip(), "```", "",
                  "After:", "", f"```{c.language}", c.after.rstrip(), "```"]

    v = m.verification
    lines += ["", "## Verification", ""]
    lines += [f"{i}. {s}" for i, s in enumerate(v.steps, 1)]
    lines += ["", f"Success criteria: {_slo_words(v.slo)}.", "", "```sh",
              f'tracehound verify report.json --slo "{v.slo_text()}"', "```"]
    if v.rollback:
        lines += ["", f"Rollback: {v.rollback}"]

    lines += ["", "## Prevention", "", "### Alerts", ""]
    for a in m.prevention.alerts:
        lines.append(f"- **{a.name}**: `{a.expr}` ({a.threshold}). {a.why}")
    lines += ["", "### CI checks", ""] + [f"- {s}" for s in m.prevention.ci]

    lines += ["", "## References", ""] + [f"- [{r.title}]({r.url})" for r in m.references]
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["SLO_KEYS", "Alert", "CodeFix", "DiscriminatingExperiment", "FailureMode", "Fixes", "Prevention",
           "Reference", "Verification"]
