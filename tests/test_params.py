"""Parameters from data without a server: pools, what a flow declares, draws, bad input, records, the contrast."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tracehound.analysis.contrast import parameter_contrast
from tracehound.errors import BadData, BadFlow
from tracehound.flow import Flow
from tracehound.params import Draws, Pool, file_pool, list_pool, param_pool, range_pool
from tracehound.params.draw import Drawer
from tracehound.params.request import request_flow
from tracehound.probe import RecordBuffer, Target
from tracehound.probe.records import data_column


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# -- pools ------------------------------------------------------------------------------------------------

def test_a_csv_file_is_a_pool_of_rows_under_its_header(tmp_path):
    pool = file_pool(write(tmp_path / "customers.csv", "\ufeffcustomer_id,name\n1,Ann\n2,\"Smith, Jo\"\n\n3,Zoë\n"))
    assert pool.name == "customers" and pool.kind == "file" and pool.size == 3
    assert pool.columns == ("customer_id", "name")
    assert list(pool.column("name")) == ["Ann", "Smith, Jo", "Zoë"]
    assert pool.labels(np.array([0, 2])) == ["customer_id=1, name=Ann", "customer_id=3, name=Zoë"]
    assert pool.with_options(used=["name"]).labels(np.array([1])) == ["Smith, Jo"]


def test_semicolons_json_lines_and_json_arrays(tmp_path):
    assert file_pool(write(tmp_path / "a.csv", "id;region\n1;eu\n2;us\n")).column("region") == ["eu", "us"]
    jl = file_pool(write(tmp_path / "a.jsonl", '{"id": 1, "vip": true}\n\n{"id": 2, "note": null}\n'))
    assert jl.columns == ("id", "vip", "note") and list(jl.column("vip")) == [True, None]
    arr = file_pool(write(tmp_path / "b.json", '[{"id": 1}, {"id": 2}]'))
    assert arr.columns == ("id",) and arr.size == 2


def test_lists_and_ranges():
    assert list_pool("region", ["eu", "us"], "x").columns == ("region",)
    rows = list_pool("user", [{"name": "a", "pw": "1"}, {"name": "b"}], "x")
    assert rows.columns == ("name", "pw") and list(rows.column("pw")) == ["1", None]
    r = range_pool("page", "1..50", "x")
    assert r.size == 50 and r.column("page")[49] == 50 and r.labels(np.array([0, 49])) == ["1", "50"]


@pytest.mark.parametrize(("content", "says"), [
    ("", "is empty"),
    ("   \n\n", "is empty"),
    ("customer_id,name\n", "has a header but no rows"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "is not CSV or JSON lines: it is not UTF-8 text"),
    ("a,b\n1,2,3\n", "is not CSV: line 2 has 3 field(s) where the header has 2"),
    ("17\n18\n", "is not a header"),
    ("id,\n1,2\n", "column 2 of the header has no name"),
    ("id,id\n1,2\n", "column 'id' appears twice"),
])
def test_a_bad_data_file_is_one_clear_line(tmp_path, content, says):
    f = write(tmp_path / "customers.csv", content)
    with pytest.raises(BadData, match=re.escape(says)) as e:
        file_pool(f)
    assert "\n" not in e.value.line()


def test_a_missing_file_and_a_folder(tmp_path):
    with pytest.raises(BadData, match="data file 'nope.csv' does not exist"):
        file_pool("nope.csv", base=tmp_path)
    with pytest.raises(BadData, match="is a folder"):
        file_pool(tmp_path)


@pytest.mark.parametrize(("spec", "says"), [("5000..1", "the range 5000..1 is backwards"), ("1-5", "is not a range")])
def test_a_bad_range(spec, says):
    with pytest.raises(BadData, match=says) as e:
        range_pool("id", spec, "here")
    if "backwards" in says:
        assert e.value.hint == "write 1..5000"


def test_params_on_the_command_line(tmp_path):
    assert param_pool("region=eu, us").column("region") == ["eu", "us"]
    assert param_pool("id=3..5").size == 3
    txt = write(tmp_path / "ids.txt", "17\n\n18\n")
    ids = param_pool(f"id=@{txt}")
    assert ids.kind == "file" and list(ids.column("id")) == ["17", "18"]
    csv = write(tmp_path / "c.csv", "customer_id,name\n1,a\n")
    assert param_pool(f"customer_id=@{csv}").used == ("customer_id",)
    with pytest.raises(BadData, match="has no column 'id' \\(its columns: customer_id, name\\)"):
        param_pool(f"id=@{csv}")
    for bad, says in [("id", "write NAME=VALUES"), ("id=", "no values"), ("id=9..3", "backwards"),
                      (f"id=@{tmp_path / 'none.txt'}", "does not exist")]:
        with pytest.raises(BadData, match=says):
            param_pool(bad)


# -- what a flow declares -------------------------------------------------------------------------------

def flow_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    write(tmp_path / "data" / "customers.csv", "customer_id,name\n1,Ann\n2,Bob\n")
    return write(tmp_path / "flow.yaml", text)


def test_a_flow_reads_its_data_relative_to_its_file(tmp_path):
    flow = Flow.load(flow_file(tmp_path, """
data:
  customers: data/customers.csv
  region: [eu, us]
  page: 1..3
  account: {values: [a, b], draw: unique}
  draw: random
  seed: 7
steps:
  - {name: get, path: "/c/{customer_id}?r={region}&p={page}&a={account}&n={int:1..9}"}
"""))
    pools = {p.name: p for p in flow.data}
    assert set(pools) == {"customers", "region", "page", "account", "int_1_9"}
    assert pools["customers"].used == ("customer_id",) and pools["customers"].draw == "random"
    assert pools["customers"].seed == 7 and pools["account"].draw == "unique"
    assert pools["int_1_9"].columns == ("int:1..9",) and pools["int_1_9"].draw == "sequential"
    again = Flow.from_dict(flow.to_dict(), base=tmp_path)
    assert [p.name for p in again.data] == [p.name for p in flow.data]


def test_the_shorthand_is_one_file(tmp_path):
    flow = Flow.load(flow_file(tmp_path, "data: data/customers.csv\nsteps: [{name: a, path: '/c/{name}'}]\n"))
    assert [(p.name, p.used) for p in flow.data] == [("customers", ("name",))]


@pytest.mark.parametrize(("text", "error", "says"), [
    ("data: data/customers.csv\nsteps: [{name: a, path: /ok}]",
     BadData, "data file 'data/customers.csv' is not used: none of its columns \\(customer_id, name\\) appears"),
    ("data: data/customers.csv\nsteps: [{name: a, path: '/c/{id}'}]",
     BadFlow, "unknown variable \\{id\\}.*name a column of the data \\(data file 'data/customers.csv': customer_id, "
              "name\\)"),
    ("data: missing.csv\nsteps: [{name: a, path: '/c/{id}'}]", BadData, "data file 'missing.csv' does not exist"),
    ("data: {seq: [1, 2]}\nsteps: [{name: a, path: '/c/{seq}'}]", BadData, "\\{seq\\} is both a built-in"),
    ("data: {ids: 9..1}\nsteps: [{name: a, path: '/c/{ids}'}]", BadData, "the range 9..1 is backwards"),
    ("steps: [{name: a, path: '/c/{int:9..1}'}]", BadData, "the range 9..1 is backwards"),
    ("data: {ids: []}\nsteps: [{name: a, path: '/c/{ids}'}]", BadData, "the list of 'ids' is empty"),
    ("data: {ids: {range: 1..5, draw: often}}\nsteps: [{name: a, path: '/c/{ids}'}]", BadData, "draw must be"),
    ("data: 5\nsteps: [{name: a, path: /ok}]", BadData, "'data' is a file, or a mapping"),
])
def test_bad_data_in_a_flow_is_one_clear_line(tmp_path, text, error, says):
    with pytest.raises(error) as e:
        Flow.load(flow_file(tmp_path, text))
    assert re.search(says, e.value.line()) and "\n" not in e.value.line()


def test_header_values_are_checked_when_the_flow_is_read(tmp_path):
    write(tmp_path / "h.csv", 'id,name\n1,ok\n2,"bad\nline"\n')
    doc = {"data": "h.csv", "steps": [{"name": "a", "path": "/c/{id}", "headers": {"X-Name": "{name}"}}]}
    with pytest.raises(BadData, match="row 2: name = 'bad\\\\nline' cannot go in a header"):
        Flow.from_dict(doc, base=tmp_path)


def test_a_request_from_the_command_line_keeps_its_other_braces():
    pool = list_pool("region", ["eu", "us"], "x")
    flow = request_flow(Target("http://h:8000/r/{region}/{x}?q={int:1..2}", "POST", (("X-R", "{region}"),),
                               b'{"a": {"b": "{region}"}, "c": "{nope}"}'), [pool], json_body=True)
    step = flow.steps[0]
    assert flow.base_url == "http://h:8000" and step.target.text == "/r/{region}/{{x}}?q={int:1..2}"
    target, headers, body = step.render({"region": "e u", "int:1..2": 2}, flow.data_vars)
    assert target == "/r/e%20u/{x}?q=2" and headers[0] == ("X-R", "e u")
    assert body == b'{"a":{"b":"e u"},"c":"{nope}"}'
    with pytest.raises(BadData, match="the request has \\{customer_id\\}, which no data fills"):
        request_flow(Target("http://h/c/{customer_id}"), [pool])


# -- draws ------------------------------------------------------------------------------------------------

POOL = range_pool("id", "0..9", "x")


def test_sequential_draws_take_every_row_in_order_and_workers_do_not_repeat_each_other():
    d = Drawer(POOL)
    assert [d.draw(v % 3) for v in range(12)] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    a, b = Drawer(POOL, 0, 2), Drawer(POOL, 1, 2)
    assert sorted([a.draw(0) for _ in range(5)] + [b.draw(0) for _ in range(5)]) == list(range(10))


def test_random_draws_follow_their_seed():
    def rows(seed: int, worker: int = 0) -> list[int]:
        d = Drawer(POOL.with_options(draw="random", seed=seed), worker, 2)
        return [d.draw(0) for _ in range(200)]

    assert rows(1) == rows(1) and rows(1) != rows(2) and rows(1) != rows(1, worker=1)
    assert set(rows(1)) == set(range(10))


def test_unique_draws_give_each_virtual_user_its_own_rows():
    d = Drawer(POOL.with_options(draw="unique"), vus=3)
    per_vu = {vu: [d.draw(vu) for _ in range(5)] for vu in range(3)}
    assert per_vu == {0: [0, 3, 6, 9, 0], 1: [1, 4, 7, 1, 4], 2: [2, 5, 8, 2, 5]}
    # two workers of 3 VUs each: six users, none sharing a row
    w = [Drawer(POOL.with_options(draw="unique"), i, 2, vus=3) for i in range(2)]
    owned = [set(w[i].draw(vu) for _ in range(4)) for i in range(2) for vu in range(3)]
    assert all(a.isdisjoint(b) for i, a in enumerate(owned) for b in owned[i + 1:])
    # fewer rows than users: users share, by their number modulo the rows
    small = Drawer(range_pool("x", "1..2", "x").with_options(draw="unique"), vus=4)
    assert [small.draw(vu) for vu in range(4)] == [0, 1, 0, 1]


def test_draws_are_recorded_by_sequence_number_and_become_a_dictionary_column():
    pools = [range_pool("id", "100..109", "x"), list_pool("region", ["eu", "us"], "x")]
    buf = RecordBuffer("run", data=pools)
    draws = Draws(pools, buf.draws)
    for seq in (0, 1, 2, 5000):
        draws.record(seq, [draws.draw(0, 0), -1 if seq == 1 else draws.draw(1, 0)])
        buf.add(seq=seq, vu=0, step=None, method=b"GET", host=b"h", path=b"/", intended_ns=1, start_ns=1,
                connect_ns=0, first_byte_ns=2, end_ns=3, status=200, error_kind=None, error=None, bytes_in=1,
                bytes_out=1, body_digest=None, body_first=None, headers=None, conn_id=0, conn_reused=False,
                conn_idle_ns=-1, conn_requests=0, inflight=1)
    table = buf.to_table()
    col = table.column(data_column("id"))
    assert str(col.type) == "dictionary<values=string, indices=int32, ordered=0>"
    assert col.to_pylist() == ["100", "101", "102", "103"]
    assert table.column("data_region").to_pylist() == ["eu", None, "us", "eu"]


# -- the contrast -----------------------------------------------------------------------------------------

def test_the_contrast_names_the_few_values_that_fail():
    rng = np.random.default_rng(3)
    codes = (np.arange(12_000) % 400).astype(np.int32)
    failed = np.isin(codes, [6, 139, 272]) | (rng.random(codes.size) < 0.001)
    pc = parameter_contrast("customers", codes, [str(i + 1) for i in range(400)], failed, np.ones(codes.size, bool))
    assert sorted(v.value for v in pc.failing) == ["140", "273", "7"]
    assert pc.values == 400 and pc.share > 0.8
    assert pc.describe().startswith("fails for 3 of 400 values of customers (")


def test_failures_that_do_not_follow_the_data_name_no_value():
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 400, 12_000).astype(np.int32)
    failed = rng.random(codes.size) < 0.05
    pc = parameter_contrast("customers", codes, [str(i) for i in range(400)], failed, np.ones(codes.size, bool))
    assert pc.failing == []
    one = parameter_contrast("c", np.array([0, 1, 2, 3], np.int32), list("abcd"), np.array([1, 0, 0, 0], bool),
                             np.ones(4, bool))
    assert one.failing == []  # one failure of one request is no pattern


def test_a_pool_is_a_value_pool_for_the_records():
    pool: Pool = list_pool("r", ["a"], "x")
    assert pool.name == "r" and Counter(pool.labels(np.array([0]))) == {"a": 1}
