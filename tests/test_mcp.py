"""`tracehound mcp` end to end: the SDK's own stdio client drives the server against real services."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tracehound.lab import servers

pytestmark = pytest.mark.anyio
DATA = Path(__file__).parent / "data"
TOOLS = {"investigate", "probe", "analyze_run", "logs", "review", "inspect_db", "explain", "verify"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextlib.asynccontextmanager
async def session(runs: Path, *args: str, messages: list[str] | None = None) -> AsyncIterator[ClientSession]:
    """``tracehound mcp`` in a child process, its runs under ``runs``, stopped when the block ends.

    Log messages the server sends go to ``messages``.
    """
    async def on_log(params: Any) -> None:
        if messages is not None:
            messages.append(str(params.data))

    # This process's environment (the MCP client's default keeps only a few variables): the server
    # imports the same tracehound as the test, a worktree's on PYTHONPATH included.
    params = StdioServerParameters(command=sys.executable, args=["-m", "tracehound", "mcp", "--runs", str(runs), *args],
                                   env=dict(os.environ))
    with open(runs.parent / "mcp-stderr.log", "a") as errlog:  # noqa: ASYNC230 - opened once, before serving
        async with stdio_client(params, errlog=errlog) as (read, write), \
                ClientSession(read, write, logging_callback=on_log) as s:
            await s.initialize()
            yield s


async def call(s: ClientSession, tool: str, progress: list[str] | None = None,
               **arguments: Any) -> tuple[dict[str, Any], str]:
    """A tool call that must succeed: its structured result and its text; progress messages go to ``progress``."""
    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        if progress is not None:
            progress.append(message or "")

    res = await s.call_tool(tool, arguments, progress_callback=on_progress)
    text = "\n".join(c.text for c in res.content if c.type == "text")
    assert not res.is_error, text
    assert isinstance(res.structured_content, dict)
    return res.structured_content, text


async def refused(s: ClientSession, tool: str, **arguments: Any) -> str:
    """A tool call that must come back as a tool error of one line; returns the line."""
    res = await s.call_tool(tool, arguments)
    text = "\n".join(c.text for c in res.content if c.type == "text")
    assert res.is_error, text
    assert "\n" not in text.strip() and "Traceback" not in text, text
    return text


async def test_every_tool_is_listed_with_a_typed_described_schema(tmp_path: Path) -> None:
    async with session(tmp_path / "runs") as s:
        listed = {t.name: t for t in (await s.list_tools()).tools}
    assert set(listed) == TOOLS
    for name, t in listed.items():
        assert t.description and "\n    " not in t.description, name
        props = t.input_schema["properties"]
        assert props, name
        for p, schema in props.items():
            assert schema.get("description"), f"{name}.{p} has no description"
            assert "type" in schema or "anyOf" in schema or p == "json_body", f"{name}.{p} has no type"
        assert t.output_schema and t.output_schema["type"] == "object", name
    assert listed["probe"].input_schema["required"] == ["url"]
    assert listed["explain"].annotations.read_only_hint and not listed["probe"].annotations.read_only_hint


async def test_explain_lists_the_catalog_and_describes_an_entry(tmp_path: Path) -> None:
    async with session(tmp_path / "runs") as s:
        listing, _ = await call(s, "explain")
        entry, text = await call(s, "explain", failure_mode="db_pool_exhaustion")
        unknown = await refused(s, "explain", failure_mode="no_such_mode")
    ids = {m["id"] for m in listing["failure_modes"]}
    assert {"db_pool_exhaustion", "none", "stale_connection"} <= ids
    assert entry["id"] == "db_pool_exhaustion" and entry["signals"] and entry["verification"]["slo_arg"]
    assert text.startswith("# ") and "db_pool_exhaustion" in text
    assert "unknown failure mode 'no_such_mode'" in unknown


async def test_probe_analyze_and_verify_against_a_real_service(tmp_path: Path, demo_url: str) -> None:
    """The demo service's four-slot pool: two dozen users make it fail, one user never does."""
    runs = tmp_path / "runs"
    async with session(runs) as s:
        progress: list[str] = []
        crowd, crowd_text = await call(s, "probe", progress, url=demo_url, concurrency=24, duration_s=2.0,
                                       label="crowd")
        alone, _ = await call(s, "probe", url=demo_url, requests=40)
        paced, _ = await call(s, "probe", url=demo_url, rate=40, duration_s=1.0)
        analysis, analysis_text = await call(s, "analyze_run", runs=[crowd["run"]])
        compare_bad, bad_text = await call(s, "verify", source=alone["run"], candidate=crowd["run"],
                                           slo="error_rate<1%")
        compare_ok, _ = await call(s, "verify", source=crowd["run"], candidate=alone["run"], slo="error_rate<1%")
        rerun, rerun_text = await call(s, "verify", source=alone["run"], slo="error_rate<1%,p99<2s")

    assert crowd["failed"] > 0 and crowd["requests"] == crowd["ok"] + crowd["failed"] + crowd["cancelled"]
    assert crowd["status_counts"].get("503", 0) > 0 and "503" in crowd_text and crowd["run"] in crowd_text
    assert Path(crowd["run"]).parent == runs and (Path(crowd["run"]) / "requests.parquet").is_file()
    assert alone["requests"] == 40 and alone["failed"] == 0
    assert progress and all("requests" in m for m in progress)
    assert paced["shape"]["model"] == "open" and paced["shape"]["max_connections"] == 256  # the server's cap
    assert 0 < paced["requests"] <= 41  # 40 per second for one second, never more

    assert abs(analysis["requests"] - crowd["requests"]) <= crowd["cancelled"]
    assert analysis["failures"] == crowd["failed"]
    signals = {sig["name"] for f in analysis["findings"] for sig in f["signals"]}
    assert "status_503" in signals and "status_503" in analysis["tested"]
    assert analysis["ranking"] and analysis["ranking"][0]["id"] != "none"
    assert "failed" in analysis_text

    assert compare_bad["mode"] == "compare" and compare_bad["passed"] is False and "FAIL" in bad_text
    assert compare_ok["passed"] is True
    assert rerun["mode"] == "rerun" and rerun["passed"] is True and rerun["after"]["requests"] == 40
    assert "PASS" in rerun_text and Path(rerun_text.rsplit("Runs: ", 1)[1].strip()).parent == runs


async def test_load_beyond_the_servers_caps_is_refused_before_any_is_sent(tmp_path: Path, demo_url: str) -> None:
    runs = tmp_path / "runs"
    async with session(runs, "--max-duration", "5s", "--max-concurrency", "8", "--max-requests", "100",
                       "--max-budget", "20s") as s:
        within, _ = await call(s, "probe", url=demo_url, requests=5)
        long = await refused(s, "probe", url=demo_url, duration_s=60)
        crowd = await refused(s, "probe", url=demo_url, concurrency=50, requests=10)
        many = await refused(s, "probe", url=demo_url, requests=1000)
        ramp = await refused(s, "probe", url=demo_url, stages="2s:4,2s:40")
        elsewhere = await refused(s, "probe", url="http://example.com/", requests=1)
        unbounded = await refused(s, "probe", url=demo_url)
        budget = await refused(s, "investigate", url=demo_url, budget_s=600)
        rerun_elsewhere = await refused(s, "verify", source=within["run"], url="http://example.com/orders")
    assert "60 s, beyond this server's cap of 5 s" in long and "--max-duration" in long
    assert "cap of 8" in crowd and "cap of 100" in many and "cap of 8" in ramp
    assert "'example.com'" in elsewhere and "--allow-host" in elsewhere
    assert "must stop by itself" in unbounded
    assert "cap of 20 s" in budget
    assert "'example.com'" in rerun_elsewhere
    assert [p.name for p in runs.iterdir()] == [Path(within["run"]).name]  # nothing refused left a folder


async def test_bad_input_is_a_one_line_tool_error(tmp_path: Path) -> None:
    async with session(tmp_path / "runs") as s:
        wrong_type = await refused(s, "probe", url="http://127.0.0.1:9/", concurrency="many", requests=3)
        below = await refused(s, "probe", url="http://127.0.0.1:9/", concurrency=0, requests=3)
        bad_url = await refused(s, "probe", url="not a url", requests=3)
        secret_url = await refused(s, "probe", url="http://u:hunter2@127.0.0.1:port/", requests=3)
        no_run = await refused(s, "analyze_run", runs=[str(tmp_path / "missing")])
        bad_slo = await refused(s, "verify", source=str(tmp_path), slo="p95 fast")
        no_logs = await refused(s, "logs", files=[str(tmp_path / "none.log")])
        no_code = await refused(s, "review", path=str(tmp_path / "nothing"))
        bad_dsn = await refused(s, "inspect_db", dsn="postgresql://u:hunter2@127.0.0.1:9/db", duration_s=1)
        no_tool = await s.call_tool("no_such_tool", {})
        bad_path = await refused(s, "probe", url="http://127.0.0.1:9/", requests=3, expect=["$.items["])
        bad_regex = await refused(s, "investigate", url="http://127.0.0.1:9/", expect=["body~(oops"])
        empty_symptom = await refused(s, "investigate", url="http://127.0.0.1:9/", symptom="  ")
        huge_symptom = await refused(s, "investigate", url="http://127.0.0.1:9/", symptom="slow " * 200_000)
    assert "not a JSON path" in bad_path and "not a regular expression" in bad_regex
    assert "the symptom is empty" in empty_symptom and "characters long; at most" in huge_symptom
    assert "bad arguments: concurrency" in wrong_type and "bad arguments: concurrency" in below
    assert "invalid URL" in bad_url
    assert "missing" in no_run and "not a run folder" in no_run
    assert bad_slo and no_logs and no_code
    assert "hunter2" not in bad_dsn and "invalid URL" in secret_url and "hunter2" not in secret_url
    assert no_tool.is_error


async def test_logs_review_and_inspect_db_read_real_evidence(tmp_path: Path) -> None:
    expected = yaml.safe_load((DATA / "logs" / "expected.yaml").read_text())["app.jsonl"]
    with servers.redis(tmp_path / "redis") as r:
        async with session(tmp_path / "runs") as s:
            logs, logs_text = await call(s, "logs", files=[str(DATA / "logs" / "app.jsonl")], tz="UTC", top=3)
            review, review_text = await call(s, "review", path=str(DATA / "review" / "TH101_blocking.py"))
            db, db_text = await call(s, "inspect_db", dsn=r.url, duration_s=1.0, interval_s=0.2)
    assert {o["name"] for o in logs["observations"]} >= set(expected["signals"])
    assert logs["events"] == expected["events"] and len(logs["templates"]) <= 3
    assert expected["signals"][0] in logs_text
    assert review["violations"] and {v["code"] for v in review["violations"]} == {"TH101"}
    assert "TH101" in review_text
    assert db["name"] == "redis" and db["status"] == "ok" and "redis" in db_text


async def test_investigate_within_a_short_budget(tmp_path: Path, demo_url: str) -> None:
    runs = tmp_path / "runs"
    said: list[str] = []
    async with session(runs, messages=said) as s:
        inv, text = await call(s, "investigate", url=demo_url, budget_s=10, max_concurrency=8,
                               symptom="orders fail at peak", expect=["status=200"])
    assert any(m.startswith("baseline: ") for m in said), said  # the steps, told as they happen
    assert inv["verdict"] in ("reproduced", "not_reproduced") and inv["requests"] > 0
    assert inv["experiments"] and {a["name"] for a in inv["agents"]} >= {"traffic", "logs", "postgres"}
    folder = Path(inv["folder"])
    assert folder.parent == runs and Path(inv["report"]["json"]).is_file() and Path(inv["report"]["md"]).is_file()
    assert str(folder) in text
    assert inv["symptom_match"]["points"]["db_pool_exhaustion"] > 0  # "at peak"
    assert json.loads(Path(inv["report"]["json"]).read_text())["case"]["expect"] == ["status=200"]


def test_the_caps_and_the_hosts_load_may_go_to() -> None:
    from tracehound.errors import BadShape
    from tracehound.flow import Flow
    from tracehound.mcp import Limits

    local = Limits()
    assert all(local.allows_host(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost", "LOCALHOST."))
    assert not any(local.allows_host(h) for h in ("example.com", "10.0.0.1", "0.0.0.0", "localhost.example.com"))
    assert Limits(hosts=("staging.internal",)).allows_host("Staging.Internal")
    assert Limits(hosts=("*",)).allows_host("example.com")
    for too_much in ({"max_duration_s": 4000}, {"max_requests": 10**9}, {"max_concurrency": 5000},
                     {"max_budget_s": 5}):
        with pytest.raises(BadShape):
            Limits(**too_much)  # type: ignore[arg-type]

    def flow(url: str) -> Flow:
        return Flow.from_dict({"vars": {"id": 7, "host": "127.0.0.1"},
                               "steps": [{"name": "login", "path": "/login"}, {"name": "read", "url": url}]})

    local.check_flow(flow("http://127.0.0.1:8000/items/{id}"))
    for bad, words in (("http://example.com/items", "'example.com'"), ("http://{host}/items", "from a variable"),
                       ("http://{host}:8000/items", "from a variable")):
        with pytest.raises(BadShape, match=words):
            local.check_flow(flow(bad))


def test_bad_server_options_are_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess

    for args in (["--max-duration", "2h"], ["--max-concurrency", "0"], ["--max-duration", "soon"]):
        r = subprocess.run([sys.executable, "-m", "tracehound", "mcp", "--runs", str(tmp_path), *args],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1, (args, r.stderr)


def test_every_network_source_is_held_to_the_hosts_load_may_go_to(tmp_path: Path) -> None:
    """Issue 15, row 3: inspect_db and investigate connected to a DSN or Redis URL on any host."""
    import asyncio

    from mcp.server.mcpserver.exceptions import ToolError

    from tracehound.mcp import Limits
    from tracehound.mcp.limits import source_hosts
    from tracehound.mcp.server import build_server

    assert source_hosts("postgresql://u:p@h1:5432,h2:5433/x") == ["h1", "h2"]
    assert source_hosts("host=db.internal port=5432 dbname=x") == ["db.internal"]
    assert source_hosts("postgresql://u@127.0.0.1/x?host=elsewhere.example") == ["elsewhere.example"]
    assert source_hosts("hostaddr=10.0.0.1 dbname=x") == ["10.0.0.1"]
    assert source_hosts("host=/var/run/postgresql dbname=x") == source_hosts("unix:///tmp/redis.sock") == []

    async def refused(server: object, tool: str, **arguments: Any) -> str:
        with pytest.raises(ToolError) as e:
            await server.call_tool(tool, arguments)  # type: ignore[attr-defined]
        return str(e.value)

    async def main() -> list[str]:
        local = build_server(Limits(), runs_dir=tmp_path / "runs")
        url = "http://127.0.0.1:9/orders"
        return [
            await refused(local, "inspect_db", dsn="postgresql://app:pw@db.example.com:5432/shop", duration_s=1),
            await refused(local, "inspect_db", dsn="host=db.example.com dbname=shop", duration_s=1),
            await refused(local, "inspect_db", dsn="redis://:pw@cache.example.com:6379/0", duration_s=1),
            await refused(local, "investigate", url=url, db="postgresql://app:pw@db.example.com/shop"),
            await refused(local, "investigate", url=url, redis="redis://cache.example.com:6379/0"),
            await refused(local, "investigate", url=url, metrics="http://api.example.com:9100/metrics"),
            await refused(local, "investigate", url=url, prometheus="http://prom.example.com:9090"),
        ]

    said = asyncio.run(main())
    for line, host in zip(said, ["db.example.com", "db.example.com", "cache.example.com", "db.example.com",
                                 "cache.example.com", "api.example.com", "prom.example.com"], strict=True):
        assert f"not {host!r}" in line and f"--allow-host {host}" in line and "pw" not in line, line
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())  # refused before any work

    async def allowed() -> str:
        server = build_server(Limits(hosts=("db.example.com",)), runs_dir=tmp_path / "runs")
        return await refused(server, "inspect_db", dsn="postgresql://app:pw@db.example.com:5432/shop",
                             duration_s=1)

    assert "--allow-host" not in asyncio.run(allowed())  # let through: it is the connection that fails now
