"""The experiments the plan may run next, each with its cost and the signals it can show.

A :class:`Candidate` is a question not yet asked: its ``signals`` are the names its analysis can
emit or test, which is all the plan's information gain needs (the catalog's weights say what each
cause predicts of them). Leads come first (:mod:`tracehound.plan.leads`); the rest are the idle-gap
ladder (pauses three times longer each rung, up to a minute), a longer low-rate soak, the request's
data varied, the flow's steps paused, and the experiments of :mod:`tracehound.plan.shapes` that
split causes the load sweep cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tracehound.case import Case
from tracehound.experiments import Experiment, baseline, confirm, flow_delay, idle_gap, low_rate, sweep_level
from tracehound.experiments_data import data_experiment
from tracehound.plan import shapes
from tracehound.plan.leads import ENOUGH_TRIES, Lead
from tracehound.plan.state import State

#: The longest pause the idle-gap ladder tries, and the users that try each rung's pauses at once.
LONGEST_GAP_S = 60.0
LADDER_USERS = 6
#: Users that repeat a pause that failed once: tries enough in one pause's time.
LEAD_USERS = 16
#: The core's short pauses, tried by one user: the whole service is as quiet as each pause.
CORE_GAPS_S = (0.5, 1.5, 3.0)
#: Pauses a little past the idle timeouts servers are most often left at (gunicorn's keep-alive
#: 2 s; uvicorn's, Node's and Apache's 5 s), each a range RACE_SPREAD_S wide over which up to
#: LEAD_USERS users spread. A server that retires idle connections on a timer (a reaper pass each
#: second) rather than at the instant fails a reused connection only when the request lands in the
#: short window before that pass: many pauses spread over the timer's period find it, where one
#: pause of exactly 3 s is a coin toss weighted one in ten. Spread users keep one another's
#: connections busy, so the service as a whole is never quiet this long: the one-user pauses
#: (and the ladder) ask that question.
RACE_GAPS_S = (2.0, 5.0)
RACE_SPREAD_S = 1.2
#: The longest client timeout the timeout experiment waits.
MAX_TIMEOUT_S = 30.0

IDLE_SIGNALS = ("failures_after_idle_gap", "reset_on_reused_connection")
SOAK_SIGNALS = ("failures_grow_over_time", "failures_start_after_elapsed_time", "failures_persist_after_load")
DATA_SIGNALS = ("failures_follow_parameter_value",)
DELAY_SIGNALS = ("failures_vanish_with_delay", "read_after_write_miss")


@dataclass
class Candidate:
    """An experiment the plan may run next."""

    #: Identifies the question, so that it is asked once (a lead's key changes as its tries grow).
    key: str
    #: What it does, in a phrase.
    what: str
    #: Its estimated cost in seconds.
    cost: float
    signals: tuple[str, ...]
    build: Callable[[], Experiment]
    #: The lead it follows, if it follows one.
    lead: Lead | None = None
    #: With nothing failed, run it even when the user's words do not point to it.
    always: bool = False
    #: Filled in by the plan: the pair of causes it is meant to split.
    splits: tuple[str, ...] = field(default_factory=tuple)
    #: It asks its signals under a condition not tried yet (pauses longer than any so far, a
    #: longer soak): what earlier experiments found of them says little about its answer.
    new_condition: bool = False


def candidates(case: Case, done: Sequence[Experiment], st: State, tried: set[str], room: float) -> list[Candidate]:
    """Every question worth asking now that fits in ``room`` seconds, leads first."""
    out = [c for lead in st.leads if not lead.settled for c in _follow(case, lead, done)]
    out = [c for c in out if c.key not in tried]
    base = next((e for e in done if e.kind == "baseline"), None)
    per_request = ((base.p50_ms if base is not None and base.p50_ms else 50.0) / 1000.0
                   * (len(case.flow.steps) if case.flow is not None else 1))
    # A timed run ends when its users finish the iteration under way, pauses included.
    iteration_pauses = flow_pauses(case)

    longest = max((g for e in done if e.gaps and not e.gap_spread_s for g in e.gaps), default=0.0)
    if longest and longest < LONGEST_GAP_S:
        for rung in _rungs(longest, room, per_request):
            key = "gaps:" + ",".join(f"{g:g}" for g in rung)
            out.append(Candidate(key, f"pauses of {' and '.join(f'{g:g}' for g in rung)} s, {LADDER_USERS} users at "
                                 "once", _gap_cost(rung, per_request), IDLE_SIGNALS,
                                 _ladder_step(case, rung), new_condition=True))
    elif not longest:
        out.append(Candidate(CORE_GAPS_KEY, "requests after short pauses", _gap_cost(list(CORE_GAPS_S), per_request),
                             IDLE_SIGNALS, lambda: idle_gap(case, list(CORE_GAPS_S)), always=True))
    if RACE_KEY not in tried:
        cost = _gap_cost(list(RACE_GAPS_S), per_request) + RACE_SPREAD_S * len(RACE_GAPS_S)
        out.append(Candidate(RACE_KEY, "pauses a little past the common keep-alive timeouts, many users at once", cost,
                             IDLE_SIGNALS, lambda: race_gaps(case, done), always=True))

    low = next((e for e in done if e.kind == "low_rate"), None)
    soak_s = min(30.0, room - 2 - iteration_pauses)
    if low is not None and low.rate and soak_s >= 8 and soak_s > (low.seconds or 0.0):
        rate, users = low.rate, low.concurrency or 2
        out.append(Candidate("soak", f"the low rate for {soak_s:.0f} s: failures that begin after a time",
                             soak_s + 2 + iteration_pauses, SOAK_SIGNALS, lambda: low_rate(case, soak_s, rate, users),
                             new_condition=True))

    data_s = min(20.0, room - 1)
    data = data_experiment(case, seconds=data_s) if data_s >= 6 else None
    if data is not None:
        out.append(Candidate("data", "the request's data varied", data_s + 1, DATA_SIGNALS,
                             lambda: data_experiment(case, seconds=data_s) or data))

    worst = max((e for e in done if e.failures and e.kind != "canary"), key=lambda e: e.failure_rate, default=None)
    flow = case.flow
    if flow is not None and len(flow.steps) > 1 and worst is not None:
        c = min(max(4, min(worst.concurrency or 4, 8)), case.max_concurrency)
        out.append(Candidate("flow_delay", "the flow with a 1 s pause before each dependent step", 7.0,
                             DELAY_SIGNALS, lambda: flow_delay(case, c, 1.0, 6.0)))
    if worst is not None:
        out += _splitting(case, worst, done, st)
    out = [c for c in out if c.key not in tried and c.cost <= room]
    if not st.reproduced and not any(c.lead is not None for c in out):
        # Something failed (or answered 2xx with a minority body) and nothing else fits: the
        # condition that failed most, else the heaviest load, again, for what is left.
        heaviest = max((e for e in done if e.kind == "sweep"), key=lambda e: e.concurrency or 0, default=None)
        lead = st.leads[0] if st.leads else (Lead(heaviest, 0, heaviest.requests) if st.minority and heaviest else None)
        again = _again(case, lead, min(12.0, room - 2), len(tried)) if lead is not None else None
        if again is not None:
            out.insert(0, again)
    return out


def flow_pauses(case: Case) -> float:
    """The longest pause one iteration of the case's flow can take (0 without a flow)."""
    flow = case.flow
    return sum(s.pause + s.pause_spread for s in flow.steps) if flow is not None else 0.0


CORE_GAPS_KEY = "gaps:3"
RACE_KEY = "gaps:race"


def race_gaps(case: Case, done: Sequence[Experiment] = ()) -> Experiment:
    """Pauses spread a little past the common keep-alive timeouts (:data:`RACE_GAPS_S`), by many users at once.

    No more users than the largest sweep level the service held (under 2 % failed): the probe
    asks about idle connections and must not be a load test of its own.
    """
    levels = [e for e in done if e.kind == "sweep" and e.concurrency]
    held = [e.concurrency or 0 for e in levels if e.failure_rate < 0.02]
    users = min(LEAD_USERS, max(held)) if held else (2 if levels else LEAD_USERS)
    return idle_gap(case, list(RACE_GAPS_S), users=max(2, users), spread=RACE_SPREAD_S)


def _ladder_step(case: Case, rung: list[float]) -> Callable[[], Experiment]:
    return lambda: idle_gap(case, rung, users=LADDER_USERS)


def _rungs(longest: float, room: float, per_request: float) -> list[list[float]]:
    """The idle-gap ladder's next steps after ``longest``: three times longer, and three then nine
    times (the plan weighs the cheap step against the long one), or the longest pause that fits."""
    out = []
    for factors in ((3,), (3, 9)):
        rung = [g for g in dict.fromkeys(min(longest * f, LONGEST_GAP_S) for f in factors) if g > longest]
        if rung and _gap_cost(rung, per_request) <= room and rung not in out:
            out.append(rung)
    if not out:
        g = min(LONGEST_GAP_S, room - per_request * 2 - 3)
        if g >= longest * 1.5:
            out.append([round(g, 1)])
    return out


def _gap_cost(gaps: list[float], per_request: float) -> float:
    return sum(gaps) + per_request * (len(gaps) + 1) + 3


def _again(case: Case, lead: Lead, seconds: float, n: int) -> Candidate | None:
    """The experiment of ``lead`` once more for ``seconds``: the rest of a budget while a failure is unexplained."""
    e = lead.exp
    if seconds < 3 or e.kind in ("flow_delay", "data_values", "id_sweep", "idle_gap"):
        return None
    return Candidate(f"again:{n}", f"{e.name} again for {seconds:.0f} s", seconds + 2, (),
                     lambda: confirm(e, seconds), lead=lead)


def _follow(case: Case, lead: Lead, done: Sequence[Experiment]) -> list[Candidate]:
    """The condition of ``lead``, again, until its failure rate is estimated."""
    e = lead.exp
    key = f"lead:{e.kind}:{lead.gap_s}:{lead.spread_s}:{lead.tries}"
    if lead.gap_s is not None:
        g, spread = lead.gap_s, lead.spread_s
        users = max(4, min(LEAD_USERS, ENOUGH_TRIES - lead.tries, case.max_concurrency))
        said = f"{g:g}–{g + spread:g}" if spread else f"{g:g}"
        purpose = (f"the pause that failed ({lead.describe()}), again with {users} users pausing {said} s at once: "
                   "how often does it fail?")
        return [Candidate(key, f"{users} users each pausing {said} s", g + spread + 4.0, IDLE_SIGNALS,
                          lambda: idle_gap(case, [g], users=users, purpose=purpose, spread=spread), lead=lead)]
    if e.kind == "baseline":
        return [Candidate(key, "one request at a time, for longer", 11.0, ("failures_present_when_sequential",),
                          lambda: baseline(case, seconds=10.0, requests=300), lead=lead)]
    if e.kind == "low_rate" and e.rate:
        rate, users = e.rate, e.concurrency or 2
        return [Candidate(key, "the low rate again, for longer", 21.0, SOAK_SIGNALS,
                          lambda: low_rate(case, 20.0, rate, users), lead=lead)]
    if e.kind in ("flow_delay", "data_values", "id_sweep"):
        return []
    seconds = min(10.0, max(4.0, (e.shape.duration or 4.0) * 1.5))
    return [Candidate(key, f"{e.name} again, for {seconds:g} s", seconds + 2,
                      ("failures_rise_with_concurrency",), lambda: confirm(e, seconds), lead=lead)]


def _splitting(case: Case, worst: Experiment, done: Sequence[Experiment], st: State) -> list[Candidate]:
    """The experiments that split causes the load sweep cannot (:mod:`tracehound.plan.shapes`), once one failed."""
    out: list[Candidate] = []
    like = _fresh_like(worst, done)
    if like is not None:
        like_s = like.seconds or _seconds(like)  # an idle-gap probe lasts its pauses, however long
        out.append(Candidate("fresh_conn", f"the load of {like.name} with a new connection per request", like_s + 2,
                             shapes.SIGNALS["fresh_conn"], lambda: shapes.fresh_connections(case, like)))
    ours = worst.timeout_s if worst.timeout_s is not None else case.timeout_s
    waited = st.seen("client_timeouts") or st.seen("failure_latency_plateau")
    if waited is not None and ours < MAX_TIMEOUT_S and worst.kind not in ("idle_gap", "timeout_varied"):
        longer = min(MAX_TIMEOUT_S, ours * 2)
        out.append(Candidate("timeout_varied", f"{worst.name} with a {longer:g} s client timeout instead of {ours:g} s",
                             _seconds(worst) + longer + 2, shapes.SIGNALS["timeout_varied"],
                             lambda: shapes.timeout_varied(case, worst, longer)))
    steady = [e for e in done if e.kind == "sweep" and e.rate is not None and e.burst_s is None]
    if steady:
        ref = max(steady, key=lambda e: (e.failure_rate < 0.5, e.rate or 0.0))
        rate, secs = float(ref.rate or 1.0), _seconds(ref)
        out.append(Candidate("burst", f"{rate:g} requests/s in bursts, against the steady run at that rate",
                             secs + 2, shapes.SIGNALS["burst"], lambda: shapes.bursts(case, rate, secs, burst_s=0.2)))
    levels = shapes.knee_levels(case, [e for e in done if e.kind in shapes.KNEE_KINDS])
    if levels:
        c = levels[len(levels) // 2]
        level_s = max(4.0, _seconds(worst))
        out.append(Candidate(f"knee:{c}", f"{c} concurrent users, between the level that held and the one that failed",
                             level_s + 2, shapes.SIGNALS["knee"], lambda: sweep_level(case, c, level_s)))
    return out


def _fresh_like(worst: Experiment, done: Sequence[Experiment]) -> Experiment | None:
    """The failing load to repeat on fresh connections: requests after pauses when those failed, else the worst."""
    if any(e.kind == "fresh_conn" for e in done):
        return None
    gaps = [e for e in done if e.kind == "idle_gap" and e.failures]
    like = max(gaps, key=lambda e: e.failures) if gaps else worst
    if like.kind in ("flow_delay", "data_values", "id_sweep", "burst", "timeout_varied"):
        return None
    return like


def _seconds(e: Experiment) -> float:
    """How long ``e`` ran (or was planned to), within 2 to 15 s."""
    return max(2.0, min(15.0, e.seconds or e.shape.duration or e.shape.planned_duration or 5.0))


__all__ = ["CORE_GAPS_KEY", "CORE_GAPS_S", "DATA_SIGNALS", "DELAY_SIGNALS", "IDLE_SIGNALS", "RACE_KEY", "SOAK_SIGNALS",
           "Candidate", "candidates", "flow_pauses", "race_gaps"]
