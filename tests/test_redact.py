"""No secret given to or found by tracehound reaches any output file, column or stream.

The session's demo investigation (tests/conftest.py) is given a secret in every input a user
gives besides the URL: an Authorization header, a cookie quoted in the symptom, the database
DSN's and the Redis URL's passwords; and the service's log holds a bearer token, a password, a
DSN password, an API key and a bare JWT (tracehound finds those). Its outputs are every file it leaves
(report.json, report.md, report.html, charts, each run's run.json and requests.parquet, searched
value by value) and the CLI's own output. Here: a password and an API key in the URL; recorded
headers, with a token the server echoes back, through every command that reads a run; and the
results of every MCP tool. tests/test_verify.py searches a verify rerun, tests/test_report.py the
rendered reports, tests/test_logs.py what `logs` prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DEMO_SECRETS, leaks

from tracehound.case import Case
from tracehound.lab import servers
from tracehound.orchestrator import investigate
from tracehound.probe import Target

URL_PASSWORD = "urlpass-5f1e2d"
API_KEY = "apikey-9c8b7a"


def test_no_secret_given_to_investigate_reaches_any_output(demo_investigation) -> None:
    r, out = demo_investigation.result, demo_investigation.out
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["requests"] > 0 and (out / "report.html").is_file() and list(out.glob("runs/*/requests.parquet"))
    # The service did log them: the log analyst read a file that holds each.
    logged = "".join(p.read_text(errors="replace") for p in out.parent.glob("logs/**/*.log"))
    assert all(v in logged for k, v in DEMO_SECRETS.items() if k.startswith("logged"))
    assert not leaks(out, DEMO_SECRETS.values()), leaks(out, DEMO_SECRETS.values())
    for stream in (r.stdout, r.stderr):
        assert not [s for s in DEMO_SECRETS.values() if s in stream], stream


def test_secrets_in_the_url_stay_out_of_the_runs(faulty, tmp_path: Path) -> None:
    """A password and an API key in the URL: not in run.json, the records, the report or the charts."""
    base = faulty.base_url.replace("://", f"://alice:{URL_PASSWORD}@", 1)
    target = Target.parse(f"{base}/status/500?api_key={API_KEY}", None, [], None, None)
    try:
        investigate(Case(target=target, budget_s=10, max_concurrency=4), tmp_path / "inv")
    finally:
        servers.guard()
    assert list((tmp_path / "inv").glob("runs/*/run.json"))
    assert not leaks(tmp_path / "inv", (URL_PASSWORD, API_KEY)), leaks(tmp_path / "inv", (URL_PASSWORD, API_KEY))


def test_recorded_headers_and_every_command_that_reads_the_run(faulty, tmp_path: Path, cli) -> None:
    """A token given in a header and echoed back by the server in another, recorded, header: nowhere after."""
    token, cookie = "th-hdr-token-3e7a1c", "th-hdr-cookie-6b2d90"
    runs = tmp_path / "runs"
    probe_ = cli("probe", f"{faulty.base_url}/echo-headers", "-n", "5", "-H", f"Authorization: Bearer {token}",
                 "-H", f"X-Custom: {token}", "-H", f"Cookie: sid={cookie}", "--record-header", "X-Custom",
                 "--record-header", "Set-Cookie", "--out", str(runs / "r"))
    assert probe_.returncode == 0, probe_.stderr
    readers = [probe_, cli("show", str(runs / "r"), "--json"), cli("analyze", str(runs / "r"), "--json"),
               cli("sql", "SELECT * FROM requests", "--runs", str(runs), "--json"),
               cli("sql", "SELECT meta FROM runs", "--runs", str(runs), "--csv")]
    assert all(r.returncode == 0 for r in readers), [r.stderr for r in readers]
    assert '"[redacted]"' in readers[3].stdout  # h_x_custom, as the sql relation gives it
    for r in readers:
        assert token not in r.stdout + r.stderr and cookie not in r.stdout + r.stderr, r.args
    assert not leaks(runs, (token, cookie)), leaks(runs, (token, cookie))


def test_no_secret_reaches_an_mcp_result(faulty, tmp_path: Path) -> None:
    """Every tool given or finding a secret: its text, its structured content and its error lines."""
    import asyncio

    from mcp.server.mcpserver.exceptions import ToolError

    from tracehound.demo import free_port
    from tracehound.mcp.server import build_server

    given = {"bearer": "th-mcp-bearer-0c4e1a", "dsn": "th-mcp-dsnpw-93b7e2", "redis": "th-mcp-redispw-5a1f0d"}
    logged = {"password": "th-mcp-logpw-2f8c61", "api_key": "th-mcp-logkey-7d3e95", "jwt": "th-mcp-jwtsig-4b6a08"}
    log = tmp_path / "app.log"
    log.write_text(f"2026-12-01 10:00:00,000 INFO app: admin session opened user=bob password={logged['password']}\n"
                   f'2026-12-01 10:00:01,000 WARNING app: webhook refused {{"api_key": "{logged["api_key"]}"}}\n'
                   f"2026-12-01 10:00:02,000 ERROR app: GET /me with Authorization: Bearer {given['bearer']}\n"
                   f"2026-12-01 10:00:03,000 WARNING app: refused eyJhbGciOiJIUzI1NiJ9.e30.{logged['jwt']}\n")
    dsn = f"postgresql://app:{given['dsn']}@127.0.0.1:{free_port()}/shop"
    redis = f"redis://:{given['redis']}@127.0.0.1:{free_port()}/0"
    auth = {"Authorization": f"Bearer {given['bearer']}", "X-Custom": given["bearer"]}
    server = build_server(runs_dir=tmp_path / "runs")

    async def answer(tool: str, **arguments: object) -> str:
        try:
            res = await server.call_tool(tool, arguments)
        except ToolError as e:
            return str(e)
        return res.model_dump_json()

    async def main() -> list[str]:
        probed = await answer("probe", url=f"{faulty.base_url}/echo-headers", headers=auth, requests=4)
        run = json.loads(probed)["structured_content"]["run"]
        return [probed, await answer("analyze_run", runs=[run]), await answer("logs", files=[str(log)]),
                await answer("inspect_db", dsn=dsn, duration_s=1), await answer("inspect_db", dsn=redis, duration_s=1),
                await answer("verify", source=run, candidate=run),
                await answer("investigate", url=f"{faulty.base_url}/status/500", headers=auth, logs=[str(log)],
                             db=dsn, redis=redis, budget_s=10, max_concurrency=4)]

    answers = asyncio.run(main())
    assert '"verdict"' in answers[-1], answers[-1][:500]  # the investigation ran, its agents failed on the sources
    secrets = [*given.values(), *logged.values()]
    for a in answers:
        assert not [s for s in secrets if s in a], a[:2000]
    assert not leaks(tmp_path / "runs", secrets), leaks(tmp_path / "runs", secrets)


@pytest.mark.parametrize("args", [
    ["probe", "http://127.0.0.1:9/", "-n", "1", "-H", "Authorization Bearer th-err-secret-51f0"],
    ["probe", "http://alice:th-err-secret-51f0@127.0.0.1:port/", "-n", "1"],
    ["db", "postgresql://app:th-err-secret-51f0@127.0.0.1:1/x", "-d", "1s"],
    ["db", "redis://:th-err-secret-51f0@127.0.0.1:1/0", "-d", "1s"],
], ids=["header", "url", "dsn", "redis"])
def test_an_error_line_quoting_a_secret_keeps_it_out(cli, args) -> None:
    r = cli(*args)
    assert r.returncode in (2, 3) and "tracehound: error: " in r.stderr, r.stderr
    assert "th-err-secret-51f0" not in r.stdout + r.stderr, r.stderr
