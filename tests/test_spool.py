"""Pipes named as files (issue 15, row 14): `logs`, `import`, `har` and the MCP `logs` tool read a FIFO
or `<(…)` once, and give up on one nobody writes to after a bounded wait instead of blocking forever."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from tracehound import cli, spool
from tracehound.logs import analyze_logs

DATA = Path(__file__).parent / "data"


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipe nobody writes to is given up on after a fifth of a second, not ten seconds."""
    monkeypatch.setattr(spool, "WRITER_WAIT_S", 0.2)


def fifo(tmp_path: Path, name: str, content: bytes | None = None) -> Path:
    """A FIFO at ``tmp_path/name``; with ``content``, a thread writes it once a reader opens it."""
    path = tmp_path / name
    os.mkfifo(path)
    if content is not None:
        def write() -> None:
            with open(path, "wb") as f:  # blocks until the reader opens it
                f.write(content)

        threading.Thread(target=write, daemon=True).start()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        cli.main(list(args))
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


def test_logs_read_a_pipe_once_as_they_read_the_file(tmp_path: Path) -> None:
    log = DATA / "logs" / "redis.log"
    piped = analyze_logs([fifo(tmp_path, "redis.log", log.read_bytes())])
    plain = analyze_logs([log])
    assert piped.events == plain.events > 0 and [f.path for f in piped.read] == [str(tmp_path / "redis.log")]
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("tracehound-pipe-*/redis.log"))  # removed after


@pytest.mark.usefixtures("quick")
def test_a_pipe_nobody_writes_to_is_skipped_after_a_bounded_wait(tmp_path: Path, capsys) -> None:
    silent = fifo(tmp_path, "silent.log")
    report = analyze_logs([silent, DATA / "logs" / "redis.log"])
    assert [(f.path, f.skipped) for f in report.skipped] == [(str(silent), "a pipe that nothing wrote to within 0.2 s")]
    code, out, err = run(capsys, "logs", str(silent))
    assert code == 2 and out == ""
    assert err.splitlines() == [f"tracehound: skipped {silent}: a pipe that nothing wrote to within 0.2 s",
                                "tracehound: error: no log could be read"]
    for command in ("import", "har"):
        code, out, err = run(capsys, command, str(silent))
        assert code == 2 and out == "" and err.splitlines() == [
            f"tracehound: error: cannot {'import' if command == 'import' else 'read'} {str(silent)!r}: "
            "a pipe that nothing wrote to within 0.2 s"]


@pytest.mark.usefixtures("quick")
def test_the_mcp_logs_tool_does_not_block_on_a_pipe(tmp_path: Path) -> None:
    from mcp.server.mcpserver.exceptions import ToolError

    from tracehound.mcp.server import build_server

    async def call() -> str:
        with pytest.raises(ToolError) as e:
            await build_server(runs_dir=tmp_path / "runs").call_tool("logs", {"files": [str(fifo(tmp_path, "x.log"))]})
        return str(e.value)

    assert "nothing wrote to within 0.2 s" in asyncio.run(call())


def test_import_and_har_read_a_pipe_once(tmp_path: Path, capsys) -> None:
    code, out, _ = run(capsys, "import", str(fifo(tmp_path, "k6.json", (DATA / "importers" / "k6.json").read_bytes())),
                       "--out", str(tmp_path / "run"), "-q")
    assert code == 0 and out.strip() == str(tmp_path / "run")
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["counts"]["requests"] > 0
    har = (DATA / "importers" / "session.har").read_bytes()
    code, out, _ = run(capsys, "har", str(fifo(tmp_path, "session.har", har)), "--json")
    assert code == 0 and json.loads(out)["file"] == str(tmp_path / "session.har") and json.loads(out)["entries"] == 4


def test_investigate_refuses_a_pipe_it_would_read_too_late(tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, "investigate", "http://127.0.0.1:9/", "--logs", str(fifo(tmp_path, "app.log")))
    assert code == 2 and "it is a pipe" in err and len(err.splitlines()) == 1
