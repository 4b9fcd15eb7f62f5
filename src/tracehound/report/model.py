"""``report.json`` as one type: the models an investigation writes and every reader loads.

:class:`Report` is the file's schema, ``tracehound.report/1``, key for key and in the file's
order. ``Investigation.write`` dumps one; :func:`load_report` is the one way to read one back
(``tracehound report``, ``verify``, ``gen-test``, the history and the benchmarks), with the one
schema check of :func:`tracehound.document.load_document`.

Every field has the value a missing one gets, so a hand-edited report, or one written around
runs already made (as the tests do), still loads; a field of the wrong type is one
:class:`~tracehound.errors.BadReport` line naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from tracehound.document import load_document
from tracehound.errors import BadReport

REPORT_SCHEMA = "tracehound.report/1"
REPORT_FILE = "report.json"

#: A number as it was written: ``90`` stays an int, ``0.5`` a float (pydantic's ``float`` would
#: turn ``90`` into ``90.0`` and change the file).
Number = int | float

_TARGET_KEYS = ("method", "url", "headers", "body_bytes")
_FLOW_KEYS = ("flow", "base_url", "target_step", "method")
_BOUND_KEYS = ("symptom", "expect", "budget_s", "max_concurrency", "max_rate")
_NOT_A_REPORT = "it is not a tracehound report: give the folder `tracehound investigate` wrote, or its report.json"


class _Doc(BaseModel):
    """A part of the document: its fields in the file's order; keys this version does not know are ignored."""

    model_config = ConfigDict(extra="ignore")


class ToolDoc(_Doc):
    name: str = "tracehound"
    version: str = ""


class ReportCase(_Doc):
    """The case investigated, as ``Case.describe()`` gives it (a target or a flow), with its bounds.

    A target case has ``method, url, headers, body_bytes``; a flow case ``flow, base_url,
    target_step, method``; both then ``symptom, expect, budget_s, max_concurrency, max_rate``.
    """

    method: str | None = None
    url: str | None = None
    #: The request's header names (never their values).
    headers: list[str] = Field(default_factory=list)
    body_bytes: int = 0
    #: The flow file's path.
    flow: str | None = None
    base_url: str | None = None
    target_step: str | None = None
    symptom: str | None = None
    #: What a right answer looks like (``--expect``), as given; empty when none was.
    expect: list[str] = Field(default_factory=list)
    budget_s: Number | None = None
    max_concurrency: int | None = None
    max_rate: Number | None = None

    @property
    def is_flow(self) -> bool:
        return self.flow is not None

    @model_serializer(mode="wrap")
    def _in_file_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        keys = (_FLOW_KEYS if self.is_flow else _TARGET_KEYS) + _BOUND_KEYS
        return {k: data[k] for k in keys}


class EvidenceDoc(_Doc):
    """One term of a hypothesis' score (:class:`tracehound.diagnosis.scoring.Evidence`)."""

    signal: str = ""
    points: Number = 0.0
    #: seen | absent
    kind: str = "seen"
    strength: Number = 0.0
    why: str = ""
    detail: str = ""
    exemplars: list[str] = Field(default_factory=list)


class HypothesisDoc(_Doc):
    """A failure mode scored (:class:`tracehound.diagnosis.scoring.Hypothesis`)."""

    id: str = ""
    title: str = ""
    confidence: Number = 0.0
    score: Number = 0.0
    prior_points: Number = 0.0
    evidence_for: list[EvidenceDoc] = Field(default_factory=list)
    evidence_against: list[EvidenceDoc] = Field(default_factory=list)


class PhraseHitDoc(_Doc):
    """A catalog phrase found in the symptom (:class:`tracehound.diagnosis.symptom.PhraseHit`)."""

    mode: str = ""
    phrase: str = ""
    #: The user's words that matched it.
    words: str = ""
    weight: Number = 0.0
    #: The user denied it ("never when it is busy"): it counts against the mode.
    denied: bool = False
    points: Number = 0.0


class SymptomMatchDoc(_Doc):
    """The symptom read (:class:`tracehound.diagnosis.symptom.SymptomMatch`): phrases found, points per mode."""

    hits: list[PhraseHitDoc] = Field(default_factory=list)
    #: Failure mode → its bounded points, most supported first.
    points: dict[str, Number] = Field(default_factory=dict)


class CannotTellDoc(_Doc):
    """The first two causes within the margin, and the sources that would split them
    (:class:`tracehound.diagnosis.split.CannotTell`)."""

    first: str = ""
    second: str = ""
    first_confidence: Number = 0.0
    second_confidence: Number = 0.0
    #: Their distance in confidence points (0-100).
    gap_points: Number = 0.0
    #: Source flags (``--logs``) that would split them, most telling first.
    sources: list[str] = Field(default_factory=list)
    #: Per source flag, its signals that split the pair.
    signals: dict[str, list[str]] = Field(default_factory=dict)
    #: Wire signals (from experiments) that split the pair.
    wire: list[str] = Field(default_factory=list)
    #: The sentence the CLI and the pages show.
    line: str = ""


class WrongBodiesDoc(_Doc):
    """2xx answers whose body shape was a minority, counted as failures (:mod:`tracehound.wrong_body`)."""

    count: int = 0
    #: How they depart from the majority, per kind of request.
    lines: list[str] = Field(default_factory=list)


class ExperimentDoc(_Doc):
    """An experiment run (:class:`tracehound.experiments.Experiment`)."""

    kind: str = ""
    name: str = ""
    purpose: str = ""
    #: The load shape, as ``LoadShape.describe()`` gives it (its keys depend on the model).
    shape: dict[str, Any] = Field(default_factory=dict)
    requests: int = 0
    failures: int = 0
    failure_rate: Number = 0.0
    p50_ms: Number | None = None
    seconds: Number = 0.0
    outcome: str = ""
    engine: str | None = None
    #: The run folder, as written when the experiment ran.
    run: str | None = None
    canary_run: str | None = None
    #: Why the plan chose it: the lead it follows or what it was meant to tell.
    why: str = ""
    #: The causes it was meant to split (by its expected information gain over the ranking then).
    splits: list[str] = Field(default_factory=list)
    #: What it found: its signals seen or not, and how the ranking moved.
    found: str = ""


class SignalDoc(_Doc):
    """A signal an agent reported (:class:`tracehound.diagnosis.signals.Signal`)."""

    name: str = ""
    strength: Number = 0.0
    detail: str = ""
    exemplars: list[str] = Field(default_factory=list)
    value: Number | None = None


class FindingDoc(_Doc):
    """What an agent reported to a person (:class:`tracehound.agents.base.Finding`)."""

    title: str = ""
    detail: str = ""
    exemplars: list[str] = Field(default_factory=list)
    signals: list[SignalDoc] = Field(default_factory=list)


class AgentDoc(_Doc):
    """One agent, ran or skipped (:class:`tracehound.agents.base.AgentResult`)."""

    name: str = ""
    #: ok | skipped | failed
    status: str = ""
    detail: str = ""
    seconds: Number = 0.0
    tested: list[str] = Field(default_factory=list)
    findings: list[FindingDoc] = Field(default_factory=list)


class Report(_Doc):
    """An investigation's ``report.json``."""

    model_config = ConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    schema_: str = Field(default=REPORT_SCHEMA, alias="schema")
    tool: ToolDoc = Field(default_factory=ToolDoc)
    #: reproduced | not_reproduced
    verdict: str = "not_reproduced"
    case: ReportCase = Field(default_factory=ReportCase)
    started_at: str = ""
    seconds: Number = 0.0
    failure_rate: Number = 0.0
    requests: int = 0
    failures: int = 0
    #: Of the failures, 2xx answers with a minority body shape (no expectation given); None when there were none.
    wrong_bodies: WrongBodiesDoc | None = None
    #: Best first; empty while the failure was not reproduced.
    hypotheses: list[HypothesisDoc] = Field(default_factory=list)
    #: The symptom's words matched to the catalog; None without a symptom.
    symptom_match: SymptomMatchDoc | None = None
    #: Set when the first two causes stay within the margin: say so, and what would split them.
    cannot_tell: CannotTellDoc | None = None
    experiments: list[ExperimentDoc] = Field(default_factory=list)
    agents: list[AgentDoc] = Field(default_factory=list)
    #: Every run folder: the experiments', then their canaries'.
    runs: list[str] = Field(default_factory=list)
    stopped_early: str | None = None
    next_steps: list[str] = Field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return self.verdict == "reproduced"

    @property
    def top(self) -> HypothesisDoc | None:
        """The leading hypothesis, if any was ranked."""
        return self.hypotheses[0] if self.hypotheses else None


def report_file(source: str | Path) -> Path:
    """``report.json`` of an investigation folder, or the file given."""
    path = Path(source)
    if not path.exists():
        raise BadReport(f"{str(path)!r} does not exist", hint="give the folder `tracehound investigate` wrote")
    if path.is_dir():
        file = path / REPORT_FILE
        if not file.is_file():
            raise BadReport(f"{str(path)!r} has no {REPORT_FILE}",
                            hint="give the folder `tracehound investigate` wrote")
        return file
    return path


def load_report(source: str | Path) -> Report:
    """The report of an investigation folder (or its ``report.json``); :class:`BadReport` when it is
    missing, unreadable, of another kind or of another version."""
    path = report_file(source)
    try:
        return load_document(path, Report, REPORT_SCHEMA, BadReport)
    except BadReport as e:
        raise BadReport(str(e), hint=e.hint or _NOT_A_REPORT) from None


__all__ = [
    "REPORT_FILE",
    "REPORT_SCHEMA",
    "AgentDoc",
    "CannotTellDoc",
    "EvidenceDoc",
    "ExperimentDoc",
    "FindingDoc",
    "HypothesisDoc",
    "Number",
    "PhraseHitDoc",
    "Report",
    "ReportCase",
    "SignalDoc",
    "SymptomMatchDoc",
    "ToolDoc",
    "WrongBodiesDoc",
    "load_report",
    "report_file",
]
