"""Saying when the ranking cannot tell the first two causes apart, and which source would."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracehound.agents.registry import AGENTS, source_flags
from tracehound.case import Case
from tracehound.diagnosis.catalog import load_catalog
from tracehound.diagnosis.scoring import score
from tracehound.diagnosis.signals import signal
from tracehound.diagnosis.split import MARGIN, MIN_SPLIT, SCORE_MARGIN, cannot_tell, splitting_signals
from tracehound.diagnosis.symptom import match_symptom
from tracehound.failure_modes import FAILURE_MODES
from tracehound.orchestrator import Investigation
from tracehound.probe import Target
from tracehound.report import write_report
from tracehound.report.model import load_report


@dataclass
class H:
    id: str
    confidence: float

    @property
    def score(self) -> float:  # as a softmax at temperature one gives it back
        return math.log(self.confidence)


FLAGS = {a.flag for a in AGENTS if a.flag is not None}


@pytest.mark.parametrize("pair", list(itertools.combinations(FAILURE_MODES, 2)), ids="-".join)
def test_every_close_pair_gets_sources_derived_from_the_catalog(pair):
    cat, emitters = load_catalog(), source_flags()
    c = cannot_tell([H(pair[0], 0.40), H(pair[1], 0.30)], cat, emitters)
    assert c is not None and (c.first, c.second) == pair and c.gap_points == pytest.approx(10)
    splits = {s.signal for s in splitting_signals(cat[pair[0]], cat[pair[1]])}
    for flag in c.sources:
        assert flag in FLAGS
        assert c.signals[flag] and set(c.signals[flag]) <= splits
        assert all(flag in emitters[s] for s in c.signals[flag])
    for s in c.wire:
        assert s in splits and not emitters.get(s)
    assert c.line().startswith(f"cannot tell {pair[0]} (40%) from {pair[1]} (30%): 10 points apart; ")


def test_the_line_names_the_source_and_leaves_out_those_given():
    cat, emitters = load_catalog(), source_flags()
    ranked = [H("cache_failure", 0.41), H("db_pool_exhaustion", 0.35)]
    c = cannot_tell(ranked, cat, emitters)
    assert c is not None and "--redis" in c.sources
    assert "tells cache_failure from db_pool_exhaustion" in c.line() and "`--redis`" in c.line()
    for s in c.signals["--redis"]:
        assert abs(cat["cache_failure"].signals.get(s, 0) - cat["db_pool_exhaustion"].signals.get(s, 0)) >= MIN_SPLIT
    later = cannot_tell(ranked, cat, emitters, given=list(c.sources))
    assert later is not None and not set(later.sources) & set(c.sources)


def test_a_clear_leader_or_none_says_nothing():
    cat, emitters = load_catalog(), source_flags()
    assert cannot_tell([H("cache_failure", 0.575), H("db_pool_exhaustion", 0.425 - 0.01)], cat, emitters) is None
    assert cannot_tell([H("cache_failure", 0.575), H("db_pool_exhaustion", 0.425 + 0.01)], cat, emitters) is not None
    assert cannot_tell([H("cache_failure", 0.40), H("none", 0.39)], cat, emitters) is None
    assert cannot_tell([H("cache_failure", 0.90)], cat, emitters) is None


def _close_investigation(tmp_path: Path) -> Investigation:
    """An investigation object whose ranking leaves cache_failure and db_pool_exhaustion close (no load sent)."""
    cat = load_catalog()
    case = Case(target=Target.parse("http://127.0.0.1:9/prices", None, [], None, None), symptom=(
        "Lookups fail when it is busy, never after a quiet spell"))
    sigs = [signal("failures_rise_with_concurrency", 1.0), signal("failures_absent_when_sequential", 1.0),
            signal("status_500", 1.0), signal("failures_fast", 0.5), signal("failure_latency_plateau", 0.5)]
    m = match_symptom(case.symptom, cat)
    hyps = score(list(cat.values()), sigs, ["failures_rise_with_concurrency", "status_500", "failure_latency_plateau"],
                 m)
    inv = Investigation(case, tmp_path, "2026-01-01T00:00:00Z", hypotheses=hyps, symptom=m, verdict="reproduced",
                        requests=100, failures=10)
    inv.cannot_tell = cannot_tell(hyps, cat, source_flags())
    return inv


def test_report_and_pages_carry_the_line_and_the_symptom(tmp_path):
    inv = _close_investigation(tmp_path)
    assert inv.cannot_tell is not None, [(h.id, h.confidence) for h in inv.hypotheses[:3]]
    inv.write()
    report = load_report(tmp_path)
    assert report.cannot_tell is not None and report.cannot_tell.line == inv.cannot_tell.line()
    assert report.cannot_tell.sources and report.cannot_tell.gap_points < 100 * MARGIN
    assert report.symptom_match is not None and report.symptom_match.points["db_pool_exhaustion"] > 0
    assert any(h.denied for h in report.symptom_match.hits)
    top = report.hypotheses[0]
    lines = [e for e in top.evidence_for + top.evidence_against if e.kind == "symptom"]
    assert len(lines) == 1 and lines[0].signal == "symptom" and "busy" in lines[0].detail
    md, html = write_report(tmp_path)
    md_text, html_text = md.read_text(), html.read_text()
    assert "**Cannot tell**" in md_text and f"`{inv.cannot_tell.sources[0]}`" in md_text
    assert "Cannot tell</strong>" in html_text and f"<code>{inv.cannot_tell.sources[0]}</code>" in html_text
    for text in (md_text, html_text):
        assert "The symptom read" in text and "when it is busy" in text and "the user said" in text


def test_old_reports_without_the_new_fields_still_load(tmp_path):
    inv = _close_investigation(tmp_path)
    data = inv.to_dict()
    del data["cannot_tell"], data["symptom_match"]
    (tmp_path / "report.json").write_text(json.dumps(data))
    report = load_report(tmp_path)
    assert report.cannot_tell is None and report.symptom_match is None


def test_cli_prints_the_line(tmp_path, capsys):
    from tracehound.cli import render

    inv = _close_investigation(tmp_path)
    render.print_investigation(inv)
    out = capsys.readouterr().out
    assert "cannot tell" in out and inv.cannot_tell is not None and inv.cannot_tell.sources[0] in out
    assert "symptom: 'when it is busy'" in out or "symptom:" in out


def test_a_temperature_changes_the_confidences_but_not_what_the_evidence_can_tell():
    # The reported confidences are calibrated by a temperature; the gap is judged on the scores.
    cat = load_catalog()
    sigs = [signal("failures_rise_with_concurrency", 1.0), signal("failures_absent_when_sequential", 1.0),
            signal("status_500", 1.0), signal("failures_fast", 0.5), signal("failure_latency_plateau", 0.5)]
    m = match_symptom("Lookups fail when it is busy, never after a quiet spell", cat)
    tested = ["failures_rise_with_concurrency", "status_500", "failure_latency_plateau"]
    said = {}
    for t in (0.3, 1.0, 3.0):
        hyps = score(list(cat.values()), sigs, tested, m, t)
        c = cannot_tell(hyps, cat, source_flags())
        said[t] = None if c is None else (c.first, c.second)
        assert (c is None) == (hyps[0].score - hyps[1].score >= SCORE_MARGIN)
    assert len(set(said.values())) == 1 and said[1.0] is not None, said
