"""The symptom read: user wording matched to the catalog's phrases, negation-aware, bounded."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tracehound.diagnosis.catalog import load_catalog
from tracehound.diagnosis.symptom import CAP, DENIED, MAX_CHARS, check_symptom, match_symptom
from tracehound.errors import BadSymptom


@dataclass
class E:
    id: str
    symptom_phrases: dict[str, float] = field(default_factory=dict)


TOY = [E("pool", {"when it is busy": 0.5, "under load": 0.4, "after a quiet spell": -0.4}),
       E("stale", {"after a quiet spell": 0.8, "never when busy": 0.6}),
       E("race", {"empty {}": 0.8, "adding logging": 0.7, "wrong data": 0.6}),
       E("gateway", {"504": 0.4, "gateway timeout": 0.4})]

#: text -> the points each toy mode gets (modes not named get none). A phrase written as a denial
#: ("never when busy") counts against its mode when the user says the opposite.
TOY_CASES: dict[str, dict[str, float]] = {
    "It fails when it is busy.": {"pool": 0.5, "stale": -DENIED * 0.6},
    "fails when the whole site is busy": {"pool": 0.5, "stale": -DENIED * 0.6},  # two words between: still there
    "when the site of the big shop is busy": {},  # three words between: too far apart
    "BUSY, and then it fails when": {},  # the words out of order
    "under load": {"pool": 0.4},
    "It never fails when it is busy": {"pool": -DENIED * 0.5, "stale": 0.6},
    "It fails when it isn't busy": {"pool": -DENIED * 0.5, "stale": 0.6},
    "It doesn't happen under load": {"pool": -DENIED * 0.4},
    "It fails after a quiet spell, never when it is busy.": {"pool": -0.4 - DENIED * 0.5, "stale": 1.0},
    # negation stays in its clause
    "Nothing in the logs. It fails under load": {"pool": 0.4},
    "Not sure why. It fails when it is busy": {"pool": 0.5, "stale": -DENIED * 0.6},
    "It returns an empty {} now and then; adding logging made it go away": {"race": 1.0},
    "it answers with an EMPTY { } body": {"race": 0.8},
    "Sometimes 504 Gateway Timeout": {"gateway": 0.8},
    "the data is wrong": {},
    "Wrong-data responses": {"race": 0.6},
    "It is slow": {},
}


@pytest.mark.parametrize("text", list(TOY_CASES))
def test_toy_catalog(text):
    m = match_symptom(text, TOY)
    assert dict(m.points) == pytest.approx(TOY_CASES[text]), [(h.mode, h.words, h.denied) for h in m.hits]


#: A user's words -> modes the shipped catalog must support (> 0), must hold against (< 0), must leave alone.
CATALOG_CASES = [
    ("It only fails after a quiet spell, never when it is busy",
     {"stale_connection"}, {"db_pool_exhaustion"}, {"rate_limiting"}),
    ("Works at first, then a little later it says unauthorized; logging in again fixes it",
     {"auth_token_expiry"}, set(), {"db_pool_exhaustion", "stale_connection"}),
    ("For some customers the page is slow, other customers are fine",
     {"n_plus_one"}, set(), {"stale_connection", "rate_limiting"}),
    ("The endpoint returns 200 with an empty {} now and then, and adding logging made it go away",
     {"race_condition"}, set(), {"db_pool_exhaustion", "slow_query"}),
    ("We get 429 Too Many Requests at busy hours", {"rate_limiting"}, set(), {"race_condition"}),
    ("About every third time it fails", {"bad_instance"}, set(), {"race_condition"}),
    ("A record I just created is not found, a moment later it is there", {"read_after_write"}, set(),
     {"bad_instance"}),
    ("It gets worse over time and a restart fixes it", {"connection_leak"}, set(), {"race_condition"}),
    ("Connection reset by peer, mostly when quiet; trying again works", {"keepalive_mismatch"}, set(),
     {"n_plus_one"}),
    ("The report is fine", set(), set(), {"worker_crash", "n_plus_one", "race_condition"}),
    ("It never returns an empty body", set(), {"race_condition"}, set()),
]


@pytest.mark.parametrize("text,up,down,alone", CATALOG_CASES, ids=[c[0][:40] for c in CATALOG_CASES])
def test_shipped_catalog(text, up, down, alone):
    m = match_symptom(text, load_catalog())
    detail = [(h.mode, h.phrase, h.words, h.points) for h in m.hits]
    for mode in up:
        assert m.for_mode(mode) > 0, (mode, detail)
        assert m.ranked()[0][0] in up, detail
    for mode in down:
        assert m.for_mode(mode) < 0, (mode, detail)
    for mode in alone:
        assert m.for_mode(mode) == 0, (mode, detail)


def test_the_bump_is_capped_and_quoted():
    text = ("after a quiet spell, early in the morning, the first request after a pause fails; "
            "never when busy, never under load")
    m = match_symptom(text, load_catalog())
    assert m.for_mode("stale_connection") == CAP
    assert all(abs(v) <= CAP for v in m.points.values())
    line = m.line("stale_connection")
    assert line.startswith("symptom: 'after a quiet spell'") and line.endswith("+1.00")
    assert m.line("rate_limiting") == ""
    d = m.to_dict()
    assert d["points"]["stale_connection"] == CAP and {h["mode"] for h in d["hits"]} >= {"stale_connection"}


def test_no_symptom_matches_nothing():
    m = match_symptom(None, load_catalog())
    assert not m and m.points == {} and m.hits == ()


@pytest.mark.parametrize("text,message", [("", "the symptom is empty"), ("   \n", "the symptom is empty"),
                                          ("x" * (1 << 20), "characters long; at most")])
def test_bad_symptom_is_one_line(text, message):
    with pytest.raises(BadSymptom) as e:
        match_symptom(text, load_catalog())
    assert message in e.value.line() and "\n" not in e.value.line()
    with pytest.raises(BadSymptom):
        check_symptom(text)
    assert len(e.value.line()) < 200


def test_a_long_but_allowed_symptom_is_read():
    text = ("It fails when it is busy. " * 200)[:MAX_CHARS]
    assert match_symptom(text, load_catalog()).for_mode("db_pool_exhaustion") > 0


@pytest.mark.parametrize("symptom,message", [("", "the symptom is empty"), ("x" * 100_000, "characters long")])
def test_cli_refuses_a_bad_symptom_in_one_line(cli, symptom, message):
    # (A command-line argument stops near 128 kB on Linux: 100,000 characters stand for the megabyte.)
    r = cli("investigate", "http://127.0.0.1:9/x", "--symptom", symptom)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_the_evidence_line_says_whether_the_words_point_to_or_away_from_a_mode():
    from tracehound.diagnosis.scoring import SYMPTOM, score

    hyps = {h.id: h for h in score(list(load_catalog().values()), [],
                                   symptom=match_symptom("It fails when the phones are busy", load_catalog()))}
    up = next(e for e in hyps["db_pool_exhaustion"].evidence_for if e.kind == SYMPTOM)
    down = next(e for e in hyps["stale_connection"].evidence_against if e.kind == SYMPTOM)
    assert up.points > 0 and "match" in up.why
    assert down.points < 0 and "go against" in down.why
