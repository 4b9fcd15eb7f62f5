"""The catalog's entries read from YAML: one file per failure mode, validated field by field.

An entry that does not validate is one :class:`~tracehound.errors.BadCatalog` line naming the
file and the field at fault (``db_pool_exhaustion.yaml: signals.foo: not a registered signal
(did you mean 'bar'?)``). The format is described in :mod:`tracehound.diagnosis.catalog`.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from tracehound.diagnosis.failure_mode import (
    SLO_KEYS,
    Alert,
    CodeFix,
    DiscriminatingExperiment,
    FailureMode,
    Fixes,
    Prevention,
    Reference,
    Verification,
)
from tracehound.diagnosis.signals import REGISTRY
from tracehound.diagnosis.symptom import MAX_PHRASE_WEIGHT, compile_phrase
from tracehound.errors import BadCatalog, UnknownFailureMode
from tracehound.failure_modes import FAILURE_MODES, NONE

#: The catalog shipped with tracehound: one ``<id>.yaml`` per failure mode.
CATALOG_DIR = Path(__file__).with_name("catalog")
#: Signal namespaces registered by the agents that emit them (``log:queuepool_timeout`` …).
NAMESPACES = ("log", "pg", "redis", "code", "browser", "har", "metrics")
#: A weight beyond this is a typo, not a likelihood ratio (e^6 ≈ 400 : 1).
MAX_WEIGHT = 6.0

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SIGNAL = re.compile(r"^(?:(?P<ns>[a-z]+):)?[a-z0-9][a-z0-9_.-]*$")
_TOP_KEYS = ("id", "title", "summary", "symptoms", "symptom_phrases", "prior", "signals", "absent", "why",
             "experiments", "fixes", "verification", "prevention", "references")


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


def _phrases(node: _Node, key: str) -> dict[str, float]:
    """``symptom_phrases``: generic user wording → points, each phrase with a meaningful word."""
    if node.data.get(key) is None:
        return {}
    p = node.child(key)
    out: dict[str, float] = {}
    for phrase in p.data:
        if not isinstance(phrase, str) or not phrase.strip():
            p.fail("expected a phrase of user wording as the key", str(phrase))
        if not compile_phrase(phrase).stems:
            p.fail("has no word a symptom could match (only filler and negation)", phrase)
        value = p.number(phrase)
        if value == 0 or abs(value) > MAX_PHRASE_WEIGHT:
            p.fail(f"weight {value:g} is out of range: non-zero points within ±{MAX_PHRASE_WEIGHT:g} "
                   "(a symptom guides, it never decides alone)", phrase)
        out[phrase.strip()] = value
    return out


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
        symptoms=top.texts("symptoms"), symptom_phrases=MappingProxyType(_phrases(top, "symptom_phrases")),
        prior=prior, signals=signals, absent=absent, why=why,
        experiments=experiments, fixes=fixes, verification=verification, prevention=prevention,
        references=tuple(refs), path=path,
    )


#: The reported confidences' temperature, fitted by ``benchmarks/fit_weights.py``.
CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")


@functools.cache
def temperature() -> float:
    """The softmax temperature of the reported confidences (``calibration.yaml``; 1 when it says nothing)."""
    try:
        doc = yaml.safe_load(CALIBRATION_FILE.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise BadCatalog(f"{CALIBRATION_FILE}: cannot read: {e}") from None
    value = doc.get("temperature", 1.0) if isinstance(doc, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.1 <= value <= 10:
        raise BadCatalog(f"{CALIBRATION_FILE}: temperature must be a number from 0.1 to 10, not {value!r}")
    return float(value)


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


__all__ = ["CALIBRATION_FILE", "CATALOG_DIR", "MAX_WEIGHT", "NAMESPACES", "expected_ids", "get", "load_catalog",
           "load_entry", "temperature", "unregistered_signals"]
