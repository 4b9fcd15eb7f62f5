"""What right looks like: --expect parsed, judged on real answers (fast and slow paths, flows), bad input."""

from __future__ import annotations

from collections import Counter

import pytest

from tracehound.errors import BadExpectation, BadFlow
from tracehound.expect import WRONG_BODY, Expectation
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, probe

OBJECT = b'{"items": [{"id": 1}, {"id": 2}], "total": 2, "owner": {"name": "ann"}, "note": ""}'

#: expectations -> (status, body) -> the reason it is wrong, or None when right.
CASES = [
    (["status=200"], 200, OBJECT, None),
    (["status=200,201"], 201, OBJECT, None),
    (["status=2xx"], 204, b"", None),
    (["status=200"], 203, OBJECT, "status 203, expected 200"),
    (["keys=items,total"], 200, OBJECT, None),
    (["keys=items, total, missing"], 200, OBJECT, "the body lacks missing"),
    (["keys=items"], 200, b"[1, 2]", "the body is a JSON list, expected an object with items"),
    (["keys=items"], 200, b"", "the body is empty"),
    (["keys=items"], 200, b"<html>oops</html>", "the body is not JSON"),
    (["$.items"], 200, OBJECT, None),
    (["$.items"], 200, b'{"items": []}', "$.items is []"),
    (["$.items"], 200, b"{}", "$.items is missing"),
    (["$.note"], 200, OBJECT, '$.note is ""'),
    (["$.items[1].id=2"], 200, OBJECT, None),
    (["$.items[1].id=3"], 200, OBJECT, "$.items[1].id is '2', expected '3'"),
    (["$.items[5].id"], 200, OBJECT, "$.items[5].id is missing"),
    (["$.owner.name=ann"], 200, OBJECT, None),
    (["$['owner'].name=\"ann\""], 200, OBJECT, None),
    (["$.total=2", "status=200"], 200, OBJECT, None),
    ([r'body~"total":\s*\d+'], 200, OBJECT, None),
    (["body~^<html>"], 200, OBJECT, "the body does not match '^<html>'"),
]


@pytest.mark.parametrize("texts,status,body,why", CASES, ids=[" ".join(c[0]) + f" {c[1]}" for c in CASES])
def test_expectations_judge_answers(texts, status, body, why):
    assert Expectation.parse(texts).check(status, body) == why


BAD = [
    (["$.items["], "not a JSON path: cannot parse '$.items[' at '['"),
    (["$..items"], "not a JSON path"),
    (["body~(unclosed"], "not a regular expression: missing ), unterminated subpattern"),
    (["status=ok"], "'ok' is not a status (200) or a class (2xx)"),
    (["status=600"], "'600' is not a status"),
    (["keys="], "name at least one key"),
    (["items"], "not an expectation (forms: status="),
    ([""], "an expectation is empty"),
    (["$." + "a" * 5000], "too long"),
]


@pytest.mark.parametrize("texts,message", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_expectations_are_one_line(texts, message):
    with pytest.raises(BadExpectation) as e:
        Expectation.parse(texts)
    line = e.value.line()
    assert message in line and "\n" not in line and len(line) < 300


@pytest.mark.parametrize("args,message", [
    (["--expect", "$.items["], "not a JSON path"),
    (["--expect", "body~("], "not a regular expression"),
    (["--expect", "whatever"], "not an expectation"),
])
def test_cli_refuses_a_bad_expectation_in_one_line(cli, args, message):
    for command in (["probe", "http://127.0.0.1:9/x", "-n", "1"], ["investigate", "http://127.0.0.1:9/x"]):
        r = cli(*command, *args)
        assert r.returncode == 2, r.stderr
        assert message in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_flow_steps_carry_expectations_and_bad_ones_name_the_step():
    flow = Flow.from_dict({"steps": [{"name": "list", "path": "/items", "expect": ["status=200", "$.items"]},
                                     {"name": "one", "path": "/items/1", "expect": "keys=id"}]})
    assert flow.steps[0].expect is not None and flow.steps[0].expect.texts == ("status=200", "$.items")
    assert Flow.from_dict(flow.to_dict()).steps[1].expect == flow.steps[1].expect
    with pytest.raises(BadFlow, match=r"steps\[0\] \(list\): expect '\$\.a\[': not a JSON path"):
        Flow.from_dict({"steps": [{"name": "list", "path": "/items", "expect": "$.a["}]})


def test_probe_records_missed_expectations_as_wrong_body(faulty, tmp_path):
    def run(path: str, expect: list[str], n: int = 20):
        config = ProbeConfig(LoadShape(concurrency=2, requests=n), target=_target(faulty.base_url + path),
                             out=tmp_path / f"r{len(list(tmp_path.iterdir()))}", expect=Expectation.parse(expect))
        return probe(config)

    ok = run("/ok", ["status=200", "keys=ok,service", "$.ok=true"])
    assert all(r["error_kind"] is None for r in ok.table.to_pylist())
    assert ok.meta.expect == ["status=200", "keys=ok,service", "$.ok=true"]
    wrong = run("/ok", ["$.service=other"])
    rows = wrong.table.to_pylist()
    assert Counter(r["error_kind"] for r in rows) == {WRONG_BODY: 20}
    assert rows[0]["status"] == 200 and rows[0]["error"] == "$.service is 'faulty', expected 'other'"
    # A body that comes in pieces takes the general path: judged the same way.
    chunked = run("/chunked/5", ["body~chunk 4;"], n=6)
    assert all(r["error_kind"] is None for r in chunked.table.to_pylist())
    chunked = run("/chunked/5", ["body~chunk 9;"], n=6)
    assert Counter(r["error_kind"] for r in chunked.table.to_pylist()) == {WRONG_BODY: 6}
    # Failures by status stay what they are: an expectation judges only answers below 400.
    missing = run("/status/503", ["$.x"], n=4)
    assert {r["error_kind"] for r in missing.table.to_pylist()} == {None}


def test_a_flow_step_expectation_fails_that_step_only(faulty, tmp_path):
    flow = Flow.from_dict({"steps": [
        {"name": "create", "method": "POST", "path": "/items", "json": {"n": "{iter}"}, "capture": {"id": "$.id"},
         "expect": "status=201"},
        {"name": "read", "path": "/items/{id}", "expect": "$.item.missing"}]})
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=20), flow=flow, base_url=faulty.base_url,
                            out=tmp_path / "f"))
    kinds = Counter((r["step"], r["error_kind"]) for r in run.table.to_pylist())
    # The request bound may stop a virtual user between its two steps: one more create than reads.
    assert set(kinds) == {("create", None), ("read", WRONG_BODY)} and sum(kinds.values()) == 20
    assert kinds[("create", None)] - kinds[("read", WRONG_BODY)] in (0, 1, 2)


def _target(url: str):
    from tracehound.probe import Target

    return Target.parse(url, None, [], None, None)


def test_a_body_nested_past_the_json_parser_is_an_answer_judged_not_a_crash() -> None:
    # A server's answer (or a user's expected value) nested thousands deep: RecursionError in json.
    from tracehound.analysis.content import shape_of
    from tracehound.flow import Capture, CaptureFailed

    deep = b"[" * 5000
    assert Expectation.parse(["keys=items"]).check(200, deep) == "the body is not JSON"
    assert Expectation.parse(["$.a=" + "[" * 1990]).values[0].value == "[" * 1990  # read as text
    with pytest.raises(CaptureFailed, match="not JSON"):
        Capture.parse("x", "$.id", "step a").extract(deep, {})
    assert shape_of(deep.decode()).kind == "array"
