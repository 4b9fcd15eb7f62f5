"""Running the agents of an investigation: their samplers during the experiments, then all of them at once.

Every agent of the registry shows up in the result, in its order: run (``ok``, or ``failed`` in
one line, or ``skipped`` after :data:`AGENT_TIMEOUT_S`), or ``skipped: no --x given``. One agent's
failure costs that agent alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence

from tracehound.agents.base import AgentContext, AgentResult, RecordedRun
from tracehound.agents.registry import AGENTS, AgentSpec
from tracehound.case import Case
from tracehound.errors import TracehoundError
from tracehound.sources import AnySampler

AGENT_TIMEOUT_S = 60.0


def start_samplers(case: Case, specs: Sequence[AgentSpec] = AGENTS) -> dict[str, AnySampler]:
    """Background samplers of the sources given (database, Redis, metrics), by agent name, polling from now on.

    A source that cannot even be described (a malformed DSN) gets no sampler: its agent then
    reports it as failed, in one line, and the investigation goes on without it.
    """
    out: dict[str, AnySampler] = {}
    for s in specs:
        address = s.given(case)
        if s.sampler is None or not isinstance(address, str) or not address:
            continue
        with contextlib.suppress(TracehoundError):
            out[s.name] = s.sampler(address).start()
    return out


def mark_samplers(samplers: Mapping[str, AnySampler], label: str) -> None:
    """Tag what every sampler reads from now on with ``label`` (an experiment's name)."""
    for sampler in samplers.values():
        sampler.mark(label)


def stop_samplers(samplers: Mapping[str, AnySampler], after_s: float) -> None:
    """Sample the stores once the load has stopped (do failures linger?), then stop polling."""
    if not samplers:
        return
    mark_samplers(samplers, "after")
    time.sleep(after_s)
    for sampler in samplers.values():
        sampler.stop()


async def run_agents(case: Case, runs: Sequence[RecordedRun], samplers: Mapping[str, AnySampler] | None = None,
                     specs: Sequence[AgentSpec] = AGENTS) -> list[AgentResult]:
    """Every agent's result: those the case gives a source run concurrently, each with a timeout; the rest skipped."""
    samplers = samplers or {}
    ran = [s for s in specs if s.runs_for(case)]
    skipped = [AgentResult(s.name, "skipped", s.skipped_why) for s in specs if not s.runs_for(case)]
    results = await asyncio.gather(*(_run_one(s, AgentContext(case, runs, samplers.get(s.name))) for s in ran))
    return [*results, *skipped]


async def _run_one(spec: AgentSpec, ctx: AgentContext) -> AgentResult:
    t = time.monotonic()
    try:
        res = await asyncio.wait_for(_settled(spec, ctx), AGENT_TIMEOUT_S)
    except TimeoutError:
        res = AgentResult(spec.name, "skipped", f"timed out after {AGENT_TIMEOUT_S:.0f} s")
    except Exception as e:  # noqa: BLE001 - an agent fails alone, visibly, and the rest go on
        res = AgentResult(spec.name, "failed", f"{type(e).__name__}: {e}")
    res.name = spec.name
    res.seconds = time.monotonic() - t
    return res


async def _settled(spec: AgentSpec, ctx: AgentContext) -> AgentResult:
    if spec.settle_s:
        await asyncio.sleep(spec.settle_s)
    return await spec.run(ctx)


__all__ = ["AGENT_TIMEOUT_S", "mark_samplers", "run_agents", "start_samplers", "stop_samplers"]
