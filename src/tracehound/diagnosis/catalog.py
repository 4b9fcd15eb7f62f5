"""The failure-mode catalog: one YAML entry per failure mode, validated on load.

Each file ``catalog/<id>.yaml`` describes one cause of intermittent failure as data: what it is,
which signals support or refute it and by how much, the experiments that tell it apart from its
look-alikes, fixes, verification, prevention and references. The diagnoser
(:mod:`tracehound.diagnosis.scoring`) reads ``prior``, ``signals``, ``absent`` and ``why``;
``tracehound explain ID`` and the pages in ``docs/failure-modes/`` render the rest.

The format (every key required unless marked optional)::

    id: db_pool_exhaustion            # = the file's name; a stable id (tracehound.failure_modes)
    title: Database connection pool exhausted
    summary: what it is and why it is intermittent (2-4 sentences)
    symptoms: [as users report them]
    prior: 0.10                       # base rate among intermittent web-API failures; all sum to ~1
    signals:                          # registered signal -> natural-log likelihood ratio at full
      failures_rise_with_concurrency: 1.5     # strength: positive supports, negative refutes
    absent:                           # optional. Signals this mode makes likely: when the data could
      failures_rise_with_concurrency: -1.5    # have shown one (tested) and did not, add this (< 0)
    why:                              # one sentence per signal named above, for the explanation
      failures_rise_with_concurrency: requests queue for a fixed number of connections ...
    experiments: [{name, why, expect}]        # the experiments that tell it apart
    fixes:
      immediate: [...]
      short_term: [...]
      long_term: [...]
      code: [{title, language, before, after}]    # optional (may be empty)
    verification:
      steps: [...]
      slo: {error_rate: 0.01, p95_ms: 500}    # error_rate required; p95_ms, p99_ms optional
      rollback: ...                           # optional
    prevention:
      alerts: [{name, expr, threshold, why}]
      ci: [...]
    references: [{title, url}]

Regenerate the docs after editing an entry::

    python -m tracehound.diagnosis.catalog --docs docs/failure-modes
"""

from __future__ import annotations

import argparse
import difflib
import functools
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from tracehound.diagnosis.signals import REGISTRY
from tracehound.errors import BadCatalog, UnknownFailureMode
from tracehound.failure_modes import FAILURE_MODES, NONE

#: The catalog shipped with tracehound: one ``<id>.yaml`` per failure mode.
CATALOG_DIR = Path(__file__).with_name("catalog")
#: Signal namespaces registered by the agents that emit them (``log:queuepool_timeout`` …).
NAMESPACES = ("log", "pg", "redis", "code", "browser", "har", "metrics")
#: A weight beyond this is a typo, not a likelihood ratio (e^6 ≈ 400 : 1).
MAX_WEIGHT = 6.0
SLO_KEYS = ("error_rate", "p95_ms", "p99_ms")
DOCS_COMMAND = "python -m tracehound.diagnosis.catalog --docs docs/failure-modes"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SIGNAL = re.compile(r"^(?:(?P<ns>[a-z]+):)?[a-z0-9][a-z0-9_.-]*$")
_TOP_KEYS = ("id", "title", "summary", "symptoms", "prior", "signals", "absent", "why", "experiments",
             "fixes", "verification", "prevention", "references")


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
            parts.append(f"error_rate<{_num(100 * v)}%" if key == "error_rate" else f"{key[:-3]}<{_num(v)}ms")
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
    path: Path | None = field(default=None, compare=False, repr=False)

    def signal_names(self) -> set[str]:
        """Every signal the entry weighs, seen or expected."""
        return set(self.signals) | set(self.absent)

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain JSON-able data, in the file's order."""
        v = self.verification
        return {
            "id": self.id, "title": self.title, "summary": self.summary, "symptoms": list(self.symptoms),
            "prior": self.prior, "signals": dict(self.signals), "absent": dict(self.absent), "why": dict(self.why),
            "experiments": [vars(e).copy() for e in self.experiments],
            "fixes": {"immediate": list(self.fixes.immediate), "short_term": list(self.fixes.short_term),
                      "long_term": list(self.fixes.long_term), "code": [vars(c).copy() for c in self.fixes.code]},
            "verification": {"steps": list(v.steps), "slo": dict(v.slo), "slo_arg": v.slo_text(), "rollback": v.rollback},
            "prevention": {"alerts": [vars(a).copy() for a in self.prevention.alerts], "ci": list(self.prevention.ci)},
            "references": [vars(r).copy() for r in self.references],
        }

    def to_markdown(self) -> str:
        """The entry as a page, in the manner of ``ruff rule``: what, evidence, fixes, checks."""
        return _markdown(self)


# -- loading and validation -------------------------------------------------------------------


class _Node:
    """A mapping being validated, with its file and its dotted path for error messages."""

    def __init__(self, file: str, data: object, where: str = "") -> None:
        self.file = file
        self.where = where
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, got {_kind(data)}")
        self.data: dict[Any, Any] = data

    def fail(self, problem: str, key: str | None = None) -> NoReturn:
        at = ".".join(p for p in (self.where, key) if p)
        raise BadCatalog(f"{self.file}: {at + ': ' if at else ''}{problem}")

    def only(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                self.fail(f"unknown field{_did_you_mean(str(key), allowed)} (allowed: {', '.join(allowed)})", str(key))

    def child(self, key: str) -> _Node:
        self.require(key)
        return _Node(self.file, self.data[key], self._at(key))

    def require(self, key: str) -> None:
        if key not in self.data or self.data[key] is None:
            self.fail("missing", key)

    def text(self, key: str, optional: bool = False) -> str:
        if optional and self.data.get(key) is None:
            return ""
        self.require(key)
        v = self.data[key]
        if isinstance(v, dict):
            self.fail("expected text, got a mapping (quote text that contains ': ')", key)
        if not isinstance(v, str) or not v.strip():
            self.fail(f"expected non-empty text, got {_kind(v)}", key)
        return v.strip()

    def texts(self, key: str, min_items: int = 1) -> tuple[str, ...]:
        self.require(key)
        items = self.data[key]
        if not isinstance(items, list):
            self.fail(f"expected a list of text, got {_kind(items)}", key)
        if len(items) < min_items:
            self.fail(f"expected at least {min_items} item{'s' if min_items > 1 else ''}", key)
        for i, v in enumerate(items):
            if isinstance(v, dict):
                self.fail("expected text, got a mapping (quote text that contains ': ')", f"{key}[{i}]")
            if not isinstance(v, str) or not v.strip():
                self.fail(f"expected non-empty text, got {_kind(v)}", f"{key}[{i}]")
        return tuple(v.strip() for v in items)

    def records(self, key: str, fields: tuple[str, ...], min_items: int = 1) -> list[_Node]:
        self.require(key)
        items = self.data[key]
        if not isinstance(items, list):
            self.fail(f"expected a list of mappings with {', '.join(fields)}, got {_kind(items)}", key)
        if len(items) < min_items:
            self.fail(f"expected at least {min_items} item{'s' if min_items > 1 else ''}", key)
        out = []
        for i, item in enumerate(items):
            node = _Node(self.file, item, self._at(f"{key}[{i}]"))
            node.only(fields)
            for f in fields:
                node.text(f)
            out.append(node)
        return out

    def number(self, key: str) -> float:
        self.require(key)
        v = self.data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.fail(f"expected a number, got {_kind(v)}", key)
        return float(v)

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key


def _kind(v: object) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, str):
        return f"text {v[:40]!r}" if v.strip() else "empty text"
    return {dict: "a mapping", list: "a list", bool: f"{v}"}.get(type(v), f"{type(v).__name__} {v!r}")


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _weights(node: _Node, key: str, negative_only: bool) -> dict[str, float]:
    if key not in node.data or node.data[key] is None:
        if negative_only:
            return {}
        node.require(key)
    w = node.child(key)
    out: dict[str, float] = {}
    for name in w.data:
        match = _SIGNAL.match(name) if isinstance(name, str) else None
        if match is None:
            w.fail("not a signal name (lower_snake_case, optionally namespace:name)", str(name))
        ns = match.group("ns")
        if ns is None and name not in REGISTRY:
            w.fail(f"not a registered signal{_did_you_mean(name, REGISTRY)} "
                   "(the names live in tracehound/diagnosis/signals.py)", name)
        if ns is not None and ns not in NAMESPACES:
            w.fail(f"unknown signal namespace {ns!r} (known: {', '.join(NAMESPACES)})", name)
        value = w.number(name)
        if value == 0 or abs(value) > MAX_WEIGHT:
            w.fail(f"weight {value:g} is out of range: a non-zero log-likelihood ratio within ±{MAX_WEIGHT:g}", name)
        if negative_only and value > 0:
            w.fail(f"weight {value:g} must be negative: a signal expected but not seen counts against the mode", name)
        out[name] = value
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice (plain YAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_entry(path: str | Path) -> FailureMode:
    """One catalog entry, validated; :class:`BadCatalog` names the file and the field at fault."""
    path = Path(path)
    file = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader
    except OSError as e:
        raise BadCatalog(f"{file}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise BadCatalog(f"{file}: not UTF-8 text") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise BadCatalog(f"{file}: {where}not valid YAML: {getattr(e, 'problem', None) or e}") from None
    if raw is None:
        raise BadCatalog(f"{file}: empty file")
    top = _Node(file, raw)
    top.only(_TOP_KEYS)

    mode_id = top.text("id")
    if not _ID.match(mode_id):
        top.fail(f"{mode_id!r} is not a lower_snake_case id", "id")
    if mode_id != path.stem:
        top.fail(f"{mode_id!r} does not match the file name (expected {path.stem!r}, one file per id)", "id")
    prior = top.number("prior")
    if not 0 < prior < 1:
        top.fail(f"{prior:g} is not a probability strictly between 0 and 1", "prior")

    signals = _weights(top, "signals", negative_only=False)
    absent = _weights(top, "absent", negative_only=True)
    named = set(signals) | set(absent)
    why_node = top.child("why")
    why: dict[str, str] = {}
    for name in why_node.data:
        if name not in named:
            why_node.fail(f"explains a signal the entry does not weigh{_did_you_mean(str(name), named)}", str(name))
        why[name] = why_node.text(name)
    for name in sorted(named - set(why)):
        why_node.fail("missing: every signal in signals and absent needs one sentence on why it points to "
                      "or away from this mode", name)

    experiments = tuple(DiscriminatingExperiment(n.text("name"), n.text("why"), n.text("expect"))
                        for n in top.records("experiments", ("name", "why", "expect")))

    fx = top.child("fixes")
    fx.only(("immediate", "short_term", "long_term", "code"))
    code: list[CodeFix] = []
    if fx.data.get("code") is not None:
        code = [CodeFix(n.text("title"), n.text("language"), n.text("before"), n.text("after"))
                for n in fx.records("code", ("title", "language", "before", "after"), min_items=0)]
    fixes = Fixes(fx.texts("immediate"), fx.texts("short_term"), fx.texts("long_term"), tuple(code))

    ver = top.child("verification")
    ver.only(("steps", "slo", "rollback"))
    slo_node = ver.child("slo")
    slo_node.only(SLO_KEYS)
    slo = {k: slo_node.number(k) for k in SLO_KEYS if k in slo_node.data}
    if "error_rate" not in slo:
        slo_node.fail("missing", "error_rate")
    if not 0 <= slo["error_rate"] < 1:
        slo_node.fail(f"{slo['error_rate']:g} is not a fraction of requests (0.01 = 1 %)", "error_rate")
    for k in ("p95_ms", "p99_ms"):
        if k in slo and slo[k] <= 0:
            slo_node.fail(f"{slo[k]:g} is not a positive number of milliseconds", k)
    verification = Verification(ver.texts("steps"), MappingProxyType(slo), ver.text("rollback", optional=True))

    pv = top.child("prevention")
    pv.only(("alerts", "ci"))
    alerts = tuple(Alert(n.text("name"), n.text("expr"), n.text("threshold"), n.text("why"))
                   for n in pv.records("alerts", ("name", "expr", "threshold", "why")))
    prevention = Prevention(alerts, pv.texts("ci"))

    refs = []
    for n in top.records("references", ("title", "url")):
        url = n.text("url")
        if not re.match(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$", url):
            n.fail(f"{url!r} is not an https:// URL", "url")
        refs.append(Reference(n.text("title"), url))

    return FailureMode(
        id=mode_id, title=top.text("title"), summary=" ".join(top.text("summary").split()),
        symptoms=top.texts("symptoms"), prior=prior, signals=signals, absent=absent, why=why,
        experiments=experiments, fixes=fixes, verification=verification, prevention=prevention,
        references=tuple(refs), path=path,
    )


def load_catalog(path: str | Path | None = None) -> Mapping[str, FailureMode]:
    """Every entry by id, validated: the shipped catalog (cached) or a folder or file of entries."""
    if path is None:
        return _shipped()
    return _load(Path(path))


@functools.cache
def _shipped() -> Mapping[str, FailureMode]:
    return _load(CATALOG_DIR)


def _load(path: Path) -> Mapping[str, FailureMode]:
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(path.glob("*.yaml"))
        if not files:
            raise BadCatalog(f"{path}: no catalog entries (<id>.yaml files) in this folder")
    else:
        raise BadCatalog(f"{path}: no such file or folder")
    entries = [load_entry(f) for f in files]
    order = {mode_id: i for i, mode_id in enumerate(expected_ids())}
    entries.sort(key=lambda e: (order.get(e.id, len(order)), e.id))  # the vocabulary's order, then new ids
    return MappingProxyType({e.id: e for e in entries})


def get(mode_id: str, catalog: Mapping[str, FailureMode] | None = None) -> FailureMode:
    """The entry for ``mode_id``; :class:`UnknownFailureMode` lists the known ids."""
    catalog = load_catalog() if catalog is None else catalog
    try:
        return catalog[mode_id]
    except KeyError:
        raise UnknownFailureMode(f"unknown failure mode {mode_id!r}", hint=f"known: {', '.join(catalog)}") from None


def unregistered_signals(catalog: Mapping[str, FailureMode] | None = None) -> dict[str, list[str]]:
    """Signals named by entries that no one has registered, by entry id.

    Unnamespaced names are checked on load; ``ns:name`` signals are registered by their agents
    when imported, so check after importing the agents.
    """
    catalog = load_catalog() if catalog is None else catalog
    out = {e.id: sorted(n for n in e.signal_names() if n not in REGISTRY) for e in catalog.values()}
    return {k: v for k, v in out.items() if v}


def expected_ids() -> tuple[str, ...]:
    """Every stable failure-mode id, and ``none``: the catalog has one entry for each."""
    return (*FAILURE_MODES, NONE)


# -- rendering --------------------------------------------------------------------------------


def _num(v: float) -> str:
    return f"{v:g}"


def _pct(p: float) -> str:
    return f"{100 * p:.0f} %" if p >= 0.01 else f"{100 * p:.1f} %"


def _w(v: float | None) -> str:
    return "" if v is None else f"{v:+.1f}".replace("-", "−")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _slo_words(slo: Mapping[str, float]) -> str:
    words = [f"error rate below {_num(100 * slo['error_rate'])} %"]
    words += [f"{k[:-3]} below {_num(slo[k])} ms" for k in ("p95_ms", "p99_ms") if k in slo]
    return ", ".join(words)


def _markdown(m: FailureMode) -> str:
    lines = [f"# {m.title} (`{m.id}`)", "", m.summary, "",
             f"Base rate (prior): {_pct(m.prior)} of intermittent web-API failures.", "", "## Symptoms", ""]
    lines += [f"- {s}" for s in m.symptoms]

    lines += ["", "## Evidence", "",
              "How the diagnoser weighs each signal: natural-log likelihood ratios at full strength, "
              "positive for, negative against. *Seen* applies when an agent reports the signal; "
              "*not seen* when the data could have shown it and did not.", "",
              "| signal | seen | not seen | why |", "| --- | ---: | ---: | --- |"]
    order = sorted(m.signal_names(), key=lambda n: (-(m.signals.get(n, 0.0)), m.absent.get(n, 0.0), n))
    for name in order:
        lines.append(f"| `{name}` | {_w(m.signals.get(name))} | {_w(m.absent.get(name))} | {_cell(m.why[name])} |")

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


def _generated(source: str) -> str:
    return f"<!-- Generated from {source} by `{DOCS_COMMAND}`. Do not edit by hand. -->\n\n"


def index_markdown(catalog: Mapping[str, FailureMode]) -> str:
    """The catalog's index page: every failure mode with its prior and summary."""
    lines = ["# Failure modes", "",
             "The causes of intermittent failure tracehound knows, one catalog entry each "
             "(`src/tracehound/diagnosis/catalog/<id>.yaml`). `tracehound explain ID` prints an entry.", "",
             "The diagnoser scores every entry from the signals the agents report:", "",
             "```", "score = ln(prior)",
             "      + Σ weight(signal) × strength(signal)   for each signal seen that the entry weighs",
             "      + Σ absent weight(signal)               for each expected signal the data could have shown, not seen",
             "```", "",
             "and turns the scores into confidences that add up to one. "
             "[signals.md](signals.md) shows which signal moves which score.", "",
             "| id | failure mode | prior | what it is |", "| --- | --- | ---: | --- |"]
    for m in catalog.values():
        first = re.split(r"(?<=[a-z0-9)\"'][.!?])\s+(?=[A-Z])", m.summary, maxsplit=1)[0]
        lines.append(f"| [`{m.id}`]({m.id}.md) | {_cell(m.title)} | {_pct(m.prior)} | {_cell(first)} |")
    return "\n".join(lines) + "\n"


def signals_markdown(catalog: Mapping[str, FailureMode]) -> str:
    """Every signal the catalog weighs, with the failure modes it moves and by how much."""
    names = sorted(set().union(*(m.signal_names() for m in catalog.values())))
    lines = ["# Signals and the failure modes they move", "",
             "For each signal: the entries it supports or refutes when seen, and the entries that "
             "count it against themselves when the data could have shown it and did not.", "",
             "| signal | what it means | seen: for | seen: against | not seen: against |",
             "| --- | --- | --- | --- | --- |"]
    for name in names:
        desc = REGISTRY[name].description if name in REGISTRY else ""
        pos = sorted(((m.signals[name], m.id) for m in catalog.values() if m.signals.get(name, 0) > 0), reverse=True)
        neg = sorted((m.signals[name], m.id) for m in catalog.values() if m.signals.get(name, 0) < 0)
        gone = sorted((m.absent[name], m.id) for m in catalog.values() if name in m.absent)
        fmt = lambda pairs: ", ".join(f"{i} {_w(w)}" for w, i in pairs)  # noqa: E731
        lines.append(f"| `{name}` | {_cell(desc)} | {fmt(pos)} | {fmt(neg)} | {fmt(gone)} |")
    return "\n".join(lines) + "\n"


def render_docs(catalog: Mapping[str, FailureMode] | None = None) -> dict[str, str]:
    """The docs pages by file name: one per entry, ``README.md`` (the index) and ``signals.md``."""
    from tracehound.agents import import_all

    import_all()  # the agents register the namespaced signals signals.md describes
    catalog = load_catalog() if catalog is None else catalog
    pages = {"README.md": _generated("src/tracehound/diagnosis/catalog/") + index_markdown(catalog),
             "signals.md": _generated("src/tracehound/diagnosis/catalog/") + signals_markdown(catalog)}
    for m in catalog.values():
        pages[f"{m.id}.md"] = _generated(f"src/tracehound/diagnosis/catalog/{m.id}.yaml") + m.to_markdown()
    return pages


def stale_docs(out_dir: str | Path, catalog: Mapping[str, FailureMode] | None = None) -> list[str]:
    """The pages in ``out_dir`` that are missing, differ from the catalog, or have no entry."""
    out_dir = Path(out_dir)
    pages = render_docs(catalog)
    stale = [name for name, text in pages.items()
             if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != text]
    extra = [p.name for p in out_dir.glob("*.md") if p.name not in pages] if out_dir.is_dir() else []
    return sorted(stale + extra)


def write_docs(out_dir: str | Path, catalog: Mapping[str, FailureMode] | None = None) -> list[Path]:
    """Write the pages into ``out_dir`` and remove pages of entries that no longer exist."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = render_docs(catalog)
    for p in out_dir.glob("*.md"):
        if p.name not in pages:
            p.unlink()
    written = []
    for name, text in pages.items():
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m tracehound.diagnosis.catalog --docs DIR [--check]``: validate, write the docs."""
    ap = argparse.ArgumentParser(prog="python -m tracehound.diagnosis.catalog",
                                 description="Validate the failure-mode catalog and generate its docs pages.")
    ap.add_argument("--docs", type=Path, metavar="DIR", help="write the docs pages into DIR")
    ap.add_argument("--check", action="store_true", help="with --docs: only report pages out of date (exit 1)")
    args = ap.parse_args(argv)
    try:
        catalog = load_catalog()
    except BadCatalog as e:
        print(f"catalog: error: {e}", file=sys.stderr)
        return 2
    missing = [i for i in expected_ids() if i not in catalog]
    if missing:
        print(f"catalog: error: no entry for {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.docs is None:
        print(f"catalog: {len(catalog)} entries valid, priors sum to {sum(m.prior for m in catalog.values()):.3f}")
        return 0
    if args.check:
        stale = stale_docs(args.docs, catalog)
        for name in stale:
            print(f"out of date: {args.docs / name}")
        if stale:
            print(f"regenerate with: {DOCS_COMMAND}")
        return 1 if stale else 0
    for p in write_docs(args.docs, catalog):
        print(f"wrote {p}")
    return 0


__all__ = ["CATALOG_DIR", "Alert", "CodeFix", "DiscriminatingExperiment", "FailureMode", "Fixes", "Prevention",
           "Reference", "Verification", "expected_ids", "get", "load_catalog", "load_entry", "render_docs",
           "stale_docs", "unregistered_signals", "write_docs"]


if __name__ == "__main__":
    sys.exit(main())
