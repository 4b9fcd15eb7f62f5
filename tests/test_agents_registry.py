"""The agent registry, checked as data: every signal documented, emitted by a declared agent, named by the catalog.

Signals are the seam between agents and the catalog (docs/ARCHITECTURE): an agent is registered in
``tracehound.agents.registry.AGENTS`` with the signals it may emit, the catalog weighs them, and
neither imports the other. These tests hold the three lists (the signal registry, the agents'
declarations and the catalog's entries) to each other, and the agents to their layer.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import re
from pathlib import Path

import pytest

from tracehound.agents.registry import AGENTS, AgentSpec
from tracehound.agents.run import run_agents
from tracehound.case import Case, Sources
from tracehound.diagnosis.catalog import load_catalog
from tracehound.diagnosis.signals import REGISTRY, lined_up
from tracehound.probe import Target

AGENTS_DIR = Path(__file__).resolve().parent.parent / "src" / "tracehound" / "agents"
#: The agent packages and modules, by the name of their spec (the Prometheus agent is the metrics agent's).
PACKAGES = {s.name: "metrics" if s.name == "prometheus" else s.name for s in AGENTS}
#: The one import between agents: the HAR and access-log agents run the traffic analysis over their requests.
SHARED_ANALYSIS = {"har": {"traffic"}, "access_log": {"traffic"}}


def _declared() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in AGENTS:
        for name in s.signals:
            out.setdefault(name, set()).add(s.name)
    return out


def test_every_registered_signal_is_documented():
    assert not [name for name, d in REGISTRY.items() if not d.description.strip()]


def test_every_registered_signal_is_declared_by_a_registered_agent():
    assert sorted(set(REGISTRY) - set(_declared())) == []


def test_every_declared_signal_is_registered():
    assert {s.name: sorted(set(s.signals) - set(REGISTRY)) for s in AGENTS if set(s.signals) - set(REGISTRY)} == {}


def test_every_registered_signal_is_named_by_a_catalog_entry():
    named = {n for m in load_catalog().values() for n in m.signal_names()}
    # A lined-up twin (X@failures) is weighed through X by every entry that names X.
    named |= {lined_up(n) for n in named}
    unnamed = set(REGISTRY) - named
    assert unnamed == set(), f"named by no catalog entry: {sorted(unnamed)}"


def test_the_registry_is_well_formed():
    names = [s.name for s in AGENTS]
    assert len(names) == len(set(names)) and names[0] == "traffic"
    flags = [s.flag for s in AGENTS if s.flag is not None]
    assert len(flags) == len(set(flags)) and all(f.startswith("--") for f in flags)
    # Every source a case can give has its agent, and every agent but traffic reads one.
    fields = {f.name for f in dataclasses.fields(Sources)}
    assert {s.source for s in AGENTS if s.source is not None} == fields
    assert [s.name for s in AGENTS if s.source is None] == ["traffic"]
    assert all(s.signals for s in AGENTS)
    with pytest.raises(ValueError, match="Sources has no"):
        AgentSpec("nope", "--nope", "nope", AGENTS[0].run, ())


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside functions."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _files(package: str) -> list[Path]:
    return sorted((AGENTS_DIR / package).rglob("*.py")) if (AGENTS_DIR / package).is_dir() \
        else [AGENTS_DIR / f"{package}.py"]


@pytest.mark.parametrize("package", sorted(set(PACKAGES.values())))
def test_agents_import_neither_the_catalog_nor_each_other(package: str):
    others = set(PACKAGES.values()) - {package} - SHARED_ANALYSIS.get(package, set())
    for path in _files(package):
        imported = _imports(path)
        assert not {m for m in imported if m.startswith("tracehound.diagnosis.catalog")}, path
        assert not {m for m in imported if m.startswith(("tracehound.agents.registry", "tracehound.agents.run"))}, path
        assert not {m for m in imported for o in others
                    if m == f"tracehound.agents.{o}" or m.startswith(f"tracehound.agents.{o}.")}, path


def _literal_signals(path: Path) -> set[str]:
    """The names of the ``signal("name", …)`` calls written out in a file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "signal" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            out.add(node.args[0].value)
    return out


@pytest.mark.parametrize("spec", AGENTS, ids=lambda s: s.name)
def test_every_signal_an_agent_names_is_declared_in_its_spec(spec: AgentSpec):
    emitted = {n for p in _files(PACKAGES[spec.name]) for n in _literal_signals(p)}
    assert sorted(emitted - set(spec.signals)) == []


def test_an_agent_without_its_source_is_skipped_in_one_line_in_the_registry_order():
    results = asyncio.run(run_agents(Case(target=Target("http://127.0.0.1:9/x")), []))
    assert [r.name for r in results] == [s.name for s in AGENTS]
    assert results[0].status == "skipped" and results[0].detail == "no runs to analyse"
    assert [(r.status, r.detail) for r in results[1:]] == [("skipped", f"no {s.flag} given") for s in AGENTS[1:]]


def test_investigate_offers_a_flag_for_every_agent_source_and_fills_its_source():
    """The CLI's source flags are the registry's: a new agent's flag cannot be forgotten."""
    import typer.main

    from tracehound.cli import app

    command = next(c for c in typer.main.get_command(app).commands.values() if c.name == "investigate")
    options = {o for p in command.params for o in getattr(p, "opts", [])}
    flags = {s.flag for s in AGENTS if s.flag}
    assert flags <= options, f"investigate lacks {sorted(flags - options)}"


def test_the_mcp_investigate_tool_names_only_registered_sources():
    import inspect

    from tracehound.mcp import investigate as tool

    src = inspect.getsource(tool)
    given = set(re.findall(r"Sources\((.*?)\)", src, flags=re.S)[0].replace("\n", " ").split(","))
    names = {g.split("=")[0].strip() for g in given if "=" in g}
    assert names and names <= {s.source for s in AGENTS if s.source}
