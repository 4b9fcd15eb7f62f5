"""The diagnoser's arithmetic: every point of every score is explained, and adds up."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from tracehound.diagnosis.scoring import score
from tracehound.diagnosis.signals import signal


@dataclass
class E:
    id: str
    title: str
    prior: float
    signals: dict[str, float] = field(default_factory=dict)
    absent: dict[str, float] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)


POOL = E("db_pool_exhaustion", "pool", 0.1,
         {"failures_rise_with_concurrency": 2.0, "failure_latency_plateau": 1.0,
          "failures_present_when_sequential": -2.0},
         {"failures_rise_with_concurrency": -1.5},
         {"failures_rise_with_concurrency": "waiters", "failure_latency_plateau": "timeout",
          "failures_present_when_sequential": "no waiting alone"})
BAD = E("bad_instance", "one bad copy", 0.1, {"failures_periodic": 3.0, "failures_present_when_sequential": 1.0},
        {"failures_periodic": -2.0},
        {"failures_periodic": "round robin", "failures_present_when_sequential": "any load"})
NONE = E("none", "nothing", 0.5, {"failures_rise_with_concurrency": -3.0}, {}, {"failures_rise_with_concurrency": "x"})


def test_the_score_is_the_sum_of_its_explained_points():
    sig = [signal("failures_rise_with_concurrency", 0.8, "20% at c=32"),
           signal("failure_latency_plateau", 0.5, value=1.0)]
    hyps = score([POOL, BAD, NONE], sig, tested=["failures_periodic"])
    assert [h.id for h in hyps][0] == "db_pool_exhaustion"
    for h in hyps:
        points = h.prior_points + sum(e.points for e in h.evidence_for + h.evidence_against)
        assert h.score == pytest.approx(points)
        assert len(h.explain()) == 2 + len(h.evidence_for) + len(h.evidence_against)
    pool = hyps[0]
    assert pool.prior_points == pytest.approx(math.log(0.1))
    assert [(e.signal, round(e.points, 3)) for e in pool.evidence_for] == [
        ("failures_rise_with_concurrency", 1.6), ("failure_latency_plateau", 0.5)]
    assert pool.evidence_for[0].why == "waiters" and pool.evidence_for[0].detail == "20% at c=32"
    bad = next(h for h in hyps if h.id == "bad_instance")
    assert [(e.signal, e.kind, e.points) for e in bad.evidence_against] == [("failures_periodic", "absent", -2.0)]
    assert sum(h.confidence for h in hyps) == pytest.approx(1.0)


def test_absence_counts_only_when_tested():
    untested = {h.id: h for h in score([BAD], [], tested=[])}
    tested = {h.id: h for h in score([BAD], [], tested=["failures_periodic"])}
    assert untested["bad_instance"].evidence_against == []
    assert tested["bad_instance"].score == pytest.approx(untested["bad_instance"].score - 2.0)


def test_evidence_against_can_overturn_a_leader():
    seen = [signal("failures_rise_with_concurrency", 1.0), signal("failures_present_when_sequential", 1.0),
            signal("failures_periodic", 1.0)]
    hyps = score([POOL, BAD, NONE], seen)
    assert hyps[0].id == "bad_instance"
    pool = next(h for h in hyps if h.id == "db_pool_exhaustion")
    assert any(e.signal == "failures_present_when_sequential" and e.points < 0 for e in pool.evidence_against)


def test_unregistered_signals_are_refused():
    with pytest.raises(KeyError):
        signal("failures_caused_by_gremlins", 1.0)
    assert signal("status_504", 7.0).strength == 1.0


def test_a_temperature_spreads_or_sharpens_the_confidences_and_keeps_the_ranking():
    sig = [signal("failures_rise_with_concurrency", 0.8), signal("failure_latency_plateau", 0.5)]
    plain = score([POOL, BAD, NONE], sig)
    warm = score([POOL, BAD, NONE], sig, temperature=2.0)
    cool = score([POOL, BAD, NONE], sig, temperature=0.5)
    assert [h.id for h in plain] == [h.id for h in warm] == [h.id for h in cool]
    assert [h.score for h in plain] == [h.score for h in warm]
    assert cool[0].confidence > plain[0].confidence > warm[0].confidence
    for hyps in (warm, cool):
        assert sum(h.confidence for h in hyps) == pytest.approx(1.0)
    # Confidence ratios are the scores' differences over the temperature.
    assert math.log(warm[0].confidence / warm[1].confidence) == pytest.approx((warm[0].score - warm[1].score) / 2)


def test_the_reported_ranking_uses_the_calibration_files_temperature(tmp_path, monkeypatch):
    from tracehound.diagnosis import entries
    from tracehound.diagnosis.rank import rank
    from tracehound.errors import BadCatalog

    sig = [signal("failures_rise_with_concurrency", 0.8)]
    shipped = rank(sig, [], 50, [POOL, BAD, NONE])
    assert [h.confidence for h in shipped] == [h.confidence for h in score([POOL, BAD, NONE], sig,
                                                                            temperature=entries.temperature())]
    for text, ok in (("temperature: 2\n", True), ("temperature: 0\n", False), ("temperature: [1]\n", False),
                     ("temperature: true\n", False), (": :\n", False)):
        f = tmp_path / "calibration.yaml"
        f.write_text(text)
        monkeypatch.setattr(entries, "CALIBRATION_FILE", f)
        entries.temperature.cache_clear()
        try:
            if ok:
                assert entries.temperature() == 2.0
                warm = rank(sig, [], 50, [POOL, BAD, NONE])
                assert [h.confidence for h in warm] == [h.confidence for h in score([POOL, BAD, NONE], sig,
                                                                                     temperature=2.0)]
            else:
                with pytest.raises(BadCatalog, match="calibration.yaml"):
                    entries.temperature()
        finally:
            entries.temperature.cache_clear()
