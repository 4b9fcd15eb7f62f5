"""Load that varies its data, against a real app: what is sent, what is recorded, what the contrast names."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tracehound.agents.traffic import analyze
from tracehound.case import Case
from tracehound.cli.options import target_or_flow
from tracehound.demo import free_port, wait_ready
from tracehound.experiments import Runner
from tracehound.experiments_data import data_experiment, data_values, id_sweep
from tracehound.flow import Flow
from tracehound.probe import LoadShape, ProbeConfig, Target, probe

ROOT = Path(__file__).parent.parent
BROKEN = ["7", "140", "273"]  # tests/data_app.py: the customers 1..400 that always fail


@pytest.fixture(scope="module")
def data_app(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("dataapp") / "served.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.data_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "DATA_APP_LOG": str(log)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_ready(port, proc)
        yield f"http://127.0.0.1:{port}", log
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def customers(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "customers.csv"
    path.write_text("customer_id,name\n" + "".join(f"{i},customer {i}\n" for i in range(1, 401)))
    return path


def served(log: Path, since: int = 0) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()[since:]]


def mark(log: Path) -> int:
    return len(log.read_text().splitlines())


def single(url: str, customers: Path, **kw: object) -> Flow:
    _, flow = target_or_flow(url, None, [], None, None, None, "", data_files=[customers], **kw)
    assert flow is not None
    return flow


def test_the_contrast_names_the_ids_that_fail(data_app, customers, tmp_path):
    url, log = data_app
    flow = single(url + "/customers/{customer_id}", customers)
    run = probe(ProbeConfig(LoadShape(concurrency=4, requests=1200), flow=flow, out=tmp_path / "r"))
    table = run.table
    assert table.column("path").unique().to_pylist() == ["/customers/{customer_id}"]
    values = table.column("data_customers").to_pylist()
    assert Counter(values) == {str(i): 3 for i in range(1, 401)}  # in order: each id three times
    failed = {v for v, s in zip(values, table.column("status").to_pylist(), strict=True) if s == 500}
    assert failed == set(BROKEN)
    assert run.meta.target.data[0].model_dump() | {"source": None} == {
        "name": "customers", "kind": "file", "source": None, "columns": ["customer_id", "name"],
        "used": ["customer_id"], "rows": 400, "draw": "sequential", "seed": 0}
    finding = next(f for f in analyze([run]).findings if f.title == "Failures follow the data")
    sig = finding.signals[0]
    assert sig.name == "failures_follow_parameter_value" and sig.strength > 0.8
    assert sig.detail.startswith("fails for 3 of 400 values of customers.customer_id (100% of the failures): ")
    assert {e.rsplit("[customers.customer_id: ", 1)[1].rstrip("]") for e in sig.exemplars} == set(BROKEN)
    assert all("→ 500" in e for e in sig.exemplars)


def test_failures_that_do_not_follow_the_data_are_not_blamed_on_it(data_app, customers, tmp_path):
    url, _ = data_app
    flow = single(url + "/flaky/{customer_id}", customers, draw="random", seed=3)
    run = probe(ProbeConfig(LoadShape(concurrency=4, requests=1200), flow=flow, out=tmp_path / "r"))
    assert 150 <= int((run.table.column("status").to_numpy() == 503).sum()) <= 190
    res = analyze([run])
    assert "failures_follow_parameter_value" in res.tested
    assert "failures_follow_parameter_value" not in {s.name for s in res.signals}


def test_sequential_draws_send_the_rows_in_order(data_app, customers, tmp_path):
    url, log = data_app
    since = mark(log)
    flow = single(url + "/customers/{customer_id}?name={name}", customers)
    probe(ProbeConfig(LoadShape(concurrency=1, requests=5), flow=flow, out=tmp_path / "r"))
    sent = served(log, since)
    assert [e["path"] for e in sent] == [f"/customers/{i}" for i in range(1, 6)]
    assert [e["query"] for e in sent] == [f"name=customer%20{i}" for i in range(1, 6)]  # percent-encoded


def test_random_draws_are_seeded(data_app, customers, tmp_path):
    url, log = data_app

    def ids(seed: int, n: str) -> list[str]:
        since = mark(log)
        probe(ProbeConfig(LoadShape(concurrency=1, requests=30), flow=single(
            url + "/customers/{customer_id}", customers, draw="random", seed=seed), out=tmp_path / n))
        return [e["path"] for e in served(log, since)]

    first, again, other = ids(1, "a"), ids(1, "b"), ids(2, "c")
    assert first == again != other
    assert first != sorted(first, key=lambda p: int(p.rsplit("/", 1)[1]))


def test_unique_draws_give_each_virtual_user_its_own_ids(data_app, customers, tmp_path):
    url, _ = data_app
    flow = single(url + "/customers/{customer_id}", customers, draw="unique")
    run = probe(ProbeConfig(LoadShape(concurrency=4, requests=200), flow=flow, out=tmp_path / "r"))
    per_vu: dict[int, set[str]] = defaultdict(set)
    for vu, v in zip(run.table.column("vu").to_pylist(), run.table.column("data_customers").to_pylist(), strict=True):
        per_vu[vu].add(v)
    assert len(per_vu) == 4
    assert all(a.isdisjoint(b) for i, a in enumerate(per_vu.values()) for b in list(per_vu.values())[i + 1:])
    assert all(int(v) % 4 == vu + 1 or (vu == 3 and int(v) % 4 == 0) for vu, vs in per_vu.items() for v in vs)


def test_a_flow_draws_for_setup_once_and_for_steps_every_iteration(data_app, tmp_path):
    url, log = data_app
    (tmp_path / "users.jsonl").write_text("".join(json.dumps({"user": f"u{i}", "vip": i % 2 == 0}) + "\n"
                                                  for i in range(3)))
    flow = Flow.from_dict({
        "data": {"users": {"file": "users.jsonl", "draw": "unique"}, "region": ["eu", "us"]},
        "setup": [{"name": "login", "method": "POST", "path": "/echo/login", "json": {"user": "{user}",
                                                                                      "vip": "{vip}"}}],
        "steps": [{"name": "get", "path": "/echo/{int:1..3}", "headers": {"X-Region": "{region}"}}],
    }, base=tmp_path)
    since = mark(log)
    run = probe(ProbeConfig(LoadShape(concurrency=3, requests=15), flow=flow, base_url=url, out=tmp_path / "r"))
    sent = served(log, since)
    logins = sorted(json.loads(e["body"])["user"] for e in sent if e["path"] == "/echo/login")
    assert logins == ["u0", "u1", "u2"]  # each virtual user its own
    assert {json.loads(e["body"])["vip"] for e in sent if e["path"] == "/echo/login"} == {True, False}  # typed
    gets = [e for e in sent if e["path"] != "/echo/login"]
    assert Counter(e["region"] for e in gets) == {"eu": 6, "us": 6}
    assert Counter(e["path"] for e in gets) == {"/echo/1": 4, "/echo/2": 4, "/echo/3": 4}
    rows = run.table.to_pylist()
    assert {r["path"] for r in rows} == {"/echo/login", "/echo/{int:1..3}"}
    assert all(r["data_users"] for r in rows) and all(r["data_region"] for r in rows if r["step"] == "get")
    assert {r["data_region"] for r in rows if r["step"] == "login"} == {None}


def test_open_model_and_workers_record_the_values_too(data_app, customers, tmp_path):
    url, _ = data_app
    flow = single(url + "/customers/{customer_id}", customers)
    run = probe(ProbeConfig(LoadShape(rate=200, duration=1.0, open_model=True, concurrency=8), flow=flow,
                            out=tmp_path / "open"))
    assert run.table.column("data_customers").null_count == 0 and run.table.num_rows >= 150
    run = probe(ProbeConfig(LoadShape(concurrency=4, requests=800), flow=flow, workers=2, out=tmp_path / "w"))
    assert Counter(run.table.column("data_customers").to_pylist()) == {str(i): 2 for i in range(1, 401)}


def test_the_cli_probes_with_a_data_file(data_app, customers, tmp_path, cli):
    url, _ = data_app
    r = cli("probe", url + "/customers/{customer_id}", "--data-file", str(customers), "-n", "40", "-c", "2",
            "--quiet", "--out", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["target"]["data"][0]["rows"] == 400
    r = cli("probe", url + "/customers/{id}", "--param", "id=1..3", "--draw", "random", "--seed", "5", "-n", "6",
            "--quiet", "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(("args", "says"), [
    (["--data-file", "missing.csv"], "data file 'missing.csv' does not exist"),
    (["--data-file", "empty.csv"], "data file 'empty.csv' is empty"),
    (["--data-file", "binary.csv"], "data file 'binary.csv' is not CSV or JSON lines"),
    (["--data-file", "ragged.csv"], "data file 'ragged.csv' is not CSV: line 3 has 3 field(s)"),
    (["--data-file", "other.csv"], "the request has {customer_id}, which no data fills (the data's columns: id, "
                                   "name)"),
    (["--data-file", "customers.csv", "--param", "page=9..1"], "--param page=9..1: the range 9..1 is backwards"),
    (["--draw", "sometimes", "--data-file", "customers.csv"], "--draw must be one of sequential, random, unique"),
])
def test_bad_data_on_the_command_line_is_one_line_and_exit_2(data_app, customers, tmp_path, cli, args, says):
    url, _ = data_app
    (tmp_path / "customers.csv").write_text(customers.read_text())
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    (tmp_path / "ragged.csv").write_text("customer_id,name\n1,a\n2,b,c\n")
    (tmp_path / "other.csv").write_text("id,name\n1,a\n")
    r = cli("probe", url + "/customers/{customer_id}", *args, "-n", "2", "--quiet", "--out", str(tmp_path / "r"),
            cwd=tmp_path)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("tracehound: error: ") and says in lines[0]


def test_a_backwards_inline_range_on_the_command_line(data_app, tmp_path, cli):
    url, _ = data_app
    r = cli("probe", url + "/customers/{int:50..1}", "-n", "2", "--quiet", "--out", str(tmp_path / "r"))
    assert r.returncode == 2 and r.stderr.strip() == (
        "tracehound: error: the command line: {int:50..1}: the range 50..1 is backwards (write 1..50)")


def test_the_data_experiments(data_app, customers, tmp_path):
    url, _ = data_app
    case = Case(flow=single(url + "/customers/{customer_id}", customers, draw="random"))
    exp = data_experiment(case, seconds=20)
    assert exp is not None and exp.kind == "data_values" and exp.shape.requests == 600
    runner = Runner(case, tmp_path / "a")
    runner.run(exp)
    assert exp.failures == 6  # 200 of 400 ids, spread: 7 and 273 among them, 3 times each
    sig = analyze(runner.runs).signals
    assert any(s.name == "failures_follow_parameter_value" and "2 of 200 values" in s.detail for s in sig)

    plain = Case(target=Target(url + "/customers/140?x=1"))
    sweep = id_sweep(plain)
    assert sweep.purpose.startswith("no data was given, so ids are guessed: 140 in /customers/140 swept over "
                                    "90..189")
    runner = Runner(plain, tmp_path / "b")
    runner.run(sweep)
    assert runner.runs[0].meta.experiment is not None and runner.runs[0].meta.experiment.kind == "id_sweep"
    assert sweep.failures == 3 and sweep.requests == 300
    sig = analyze(runner.runs).signals
    assert any(s.name == "failures_follow_parameter_value" and "1 of 100 values" in s.detail for s in sig)
    assert data_experiment(Case(target=Target(url + "/echo/x"))) is None
    with pytest.raises(ValueError, match="no pool"):
        data_values(plain)


def test_a_drawn_request_is_judged_by_its_steps_expect(data_app, tmp_path):
    # One plain step with a drawn value runs on the fast path that builds each request from
    # parts; its answers must still be judged by the step's expect, as any flow step's are.
    url, _ = data_app
    flow = Flow.from_dict({"base_url": url, "steps": [{"name": "echo", "path": "/echo/{int:1..50}",
                                                       "expect": ["$.id"]}]})
    run = probe(ProbeConfig(LoadShape(concurrency=2, requests=20), flow=flow, out=tmp_path / "r"))
    rows = run.table.select(["status", "error_kind"]).to_pylist()
    assert len(rows) == 20 and all(r["status"] == 200 for r in rows)
    assert all(r["error_kind"] == "wrong_body" for r in rows), rows
