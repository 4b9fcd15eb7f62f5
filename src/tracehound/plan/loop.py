"""The plan: a core of experiments every investigation runs, then experiments chosen one at a time.

The core (one request at a time, the canary alone, the load sweep, a low-rate probe, short idle
gaps, pauses spread a little past the common keep-alive timeouts, and for a flow the pause between
steps) shows the failure's broad shape. After it, until one
cause is clear or the budget is spent, each next experiment is chosen from what is known:

1. **A lead is followed.** A failure seen under a named condition, too few times to estimate (one
   500 after a 3 s pause), is repeated until its rate is estimated, and widened (longer pauses,
   geometrically, up to a minute) while the budget allows (:mod:`tracehound.plan.leads`).
2. **Nothing failed yet: the likeliest place to look.** Experiments are ranked by the chance
   that they show anything under the catalog's priors and the user's words. When the user
   described the failure and nothing at all has failed, only those the words make likelier than
   the priors alone are run, so a healthy service is not probed for a minute on a hunch; with no
   description, the budget goes to all of them.
3. **Reproduced: the most informative next question.** Each candidate's expected information gain
   over the current ranking (:mod:`tracehound.plan.gain`), per second it costs; the plan stops
   when the leader is clear or no candidate would move the ranking.

Every experiment keeps why it was chosen, the causes it was meant to split, and what it found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tracehound.agents.traffic import traffic_agent
from tracehound.case import Case
from tracehound.diagnosis.scoring import Entry, score
from tracehound.diagnosis.signals import Signal
from tracehound.diagnosis.symptom import SymptomMatch
from tracehound.experiments import (
    Experiment,
    Runner,
    baseline,
    flow_delay,
    idle_gap,
    low_rate,
    rate_level,
    sweep_level,
)
from tracehound.failure_modes import NONE
from tracehound.plan.candidates import (
    CORE_GAPS_KEY,
    CORE_GAPS_S,
    RACE_KEY,
    Candidate,
    candidates,
    flow_pauses,
    race_gaps,
)
from tracehound.plan.gain import chance_of_showing, expected_gain
from tracehound.plan.leads import leads
from tracehound.plan.state import State
from tracehound.wrong_body import find_wrong_bodies

#: Stop experimenting once the leader has this confidence.
CLEAR_LEADER = 0.95
#: Seconds kept back from the budget for the analysis and the report.
RESERVE_S = 6.0
#: Below this expected gain (bits per experiment, and per second it costs), an experiment would not
#: move the ranking enough to be worth the user's wait.
MIN_BITS = 0.1
MIN_BITS_PER_S = 0.006
#: Below this confidence the leader is a guess: the budget goes on any experiment worth MIN_BITS,
#: however long it takes, rather than stopping with time left.
UNSURE = 0.5
#: With nothing failed and a symptom given: an experiment runs only if the words make it this much likelier.
SYMPTOM_LIFT = 1.1

Event = Callable[[str], None]


@dataclass
class Plan:
    """One investigation's experiments, run through ``run`` within ``left()`` seconds."""

    case: Case
    runner: Runner
    entries: Sequence[Entry]
    symptom: SymptomMatch
    run: Callable[[Experiment], Experiment]
    left: Callable[[], float]
    say: Event = lambda _msg: None
    stopped_early: str | None = None
    tried: set[str] = field(default_factory=set)

    @property
    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    # The state ---------------------------------------------------------------------------------

    def assess(self) -> State:
        runs = list(self.runner.runs)
        failures = sum(e.failures for e in self.runner.done if e.kind != "canary")
        minority = find_wrong_bodies(runs).count if runs else 0
        signals: list[Signal] = []
        tested: set[str] = set()
        if failures or minority:
            res = asyncio.run(traffic_agent(self.case, runs))
            signals, tested = list(res.signals), set(res.tested)
        ranking = score(self.entries, signals, tested, self.symptom)
        return State(failures, minority, signals, tested, {h.id: h.score for h in ranking}, ranking,
                     leads(self.runner.done))

    def leader_clear(self, st: State, after: str) -> bool:
        h = st.leader
        if st.reproduced and h is not None and h.id != NONE and h.confidence >= CLEAR_LEADER:
            self.stopped_early = f"after {after}: {h.id} leads at {h.confidence:.0%}"
            self.say(f"stopping early: {self.stopped_early}")
            return True
        return False

    # The core ----------------------------------------------------------------------------------

    def core(self) -> bool:
        """The experiments every investigation runs; True when the leader is already clear."""
        case, run, left = self.case, self.run, self.left
        base = run(_why(baseline(case), "the core: every investigation starts here"))
        slow = (base.p50_ms or 0) / 1000.0
        level_s = min(8.0, max(4.0, 6 * slow))
        self.runner.canary_alone(2.0)
        mc = case.max_concurrency
        if case.max_rate is not None:
            sweep = [rate_level(case, r, level_s) for r in sorted({case.max_rate / 4, case.max_rate / 2,
                                                                    case.max_rate})]
        else:
            sweep = [sweep_level(case, lv, level_s) for lv in sorted({lv for lv in (4, 12, mc) if lv <= mc}
                                                                      | {min(4, mc)})]
        for exp in sweep:
            if left() < level_s + 15:
                break
            e = run(_why(exp, "the core: load up to the peak the user allowed, stopping at the knee"))
            if e.failure_rate >= 0.5:
                break
        if self.leader_clear(self.assess(), "the sweep"):
            return True
        low_s = min(15.0, max(8.0, left() - 40))
        if left() > low_s + 10 + flow_pauses(case):
            run(_why(self._low_rate(low_s), "the core: failures that begin after a time, or stay after the load"))
            if self.leader_clear(self.assess(), "the low-rate probe"):
                return True
        gaps = list(CORE_GAPS_S)
        if left() > sum(gaps) + 6:
            run(_why(idle_gap(case, gaps), "the core: requests after short pauses"))
            self.tried.add(CORE_GAPS_KEY)
            if self.leader_clear(self.assess(), "the idle-gap probe"):
                return True
        race = race_gaps(case, self.runner.done)
        if left() > (race.shape.duration or 0) + 6:
            run(_why(race, "the core: pauses a little past the common keep-alive timeouts, spread over many users"))
            self.tried.add(RACE_KEY)
            if self.leader_clear(self.assess(), "the keep-alive probe"):
                return True
        worst = self.worst()
        if case.flow is not None and len(case.flow.steps) > 1 and worst is not None and left() > 16:
            # Several users, so the paused run still sends enough requests to compare.
            c = min(max(4, min(worst.concurrency or 4, 8)), case.max_concurrency)
            why = "the core: a flow's dependent steps, without and with a pause between them"
            run(_why(flow_delay(case, c, 0.0, 4.0), why))
            run(_why(flow_delay(case, c, 1.0, 6.0), why))
            self.tried.add("flow_delay")
            if self.leader_clear(self.assess(), "the flow-delay probe"):
                return True
        return False

    def _low_rate(self, seconds: float) -> Experiment:
        # Well under what two users can be served at: the mean counts a flow's one slow request,
        # which the median hides, so that a low rate never queues up by itself.
        base = self.runner.done[0]
        users = 2
        mean = (base.mean_ms or base.p50_ms or 0) / 1000.0
        flow = self.case.flow
        steps = len(flow.steps) if flow is not None else 1
        pauses = sum(s.pause for s in flow.steps) if flow is not None else 0.0
        per_arrival = max(mean * steps + pauses, 0.05)
        rate = max(0.25 if pauses else 1.0, min(4.0, users / per_arrival / 3))
        return low_rate(self.case, seconds, rate, users)

    def worst(self) -> Experiment | None:
        """The target experiment that failed most (by rate), if any failed."""
        failed = [e for e in self.runner.done if e.failures and e.kind != "canary"]
        return max(failed, key=lambda e: (e.failure_rate, e.failures)) if failed else None

    # The adaptive part -------------------------------------------------------------------------

    def adapt(self) -> None:
        """Choose and run experiments until the leader is clear, nothing is left to ask, or the budget is spent."""
        last: tuple[Experiment, Candidate] | None = None
        while self.left() > RESERVE_S:
            st = self.assess()
            if last is not None:
                _found(*last, st)
            if self.leader_clear(st, "the experiments chosen"):
                return
            pick = self.choose(st)
            if pick is None:
                return
            cand, why = pick
            self.tried.add(cand.key)
            exp = cand.build()
            exp.why = why
            exp.splits = list(cand.splits)
            last = (self.run(exp), cand)
        if last is not None:
            _found(*last, self.assess())

    def _stop(self, why: str) -> tuple[Candidate, str] | None:
        """Stop choosing (None), saying why, with what is left of the budget."""
        self.stopped_early = f"{why}; {max(0.0, self.left()):.0f} s of the budget left"
        self.say(f"stopping: {self.stopped_early}")
        return None

    def choose(self, st: State) -> tuple[Candidate, str] | None:
        room = self.left() - RESERVE_S
        cands = candidates(self.case, self.runner.done, st, self.tried, room)
        if not cands:
            return self._stop(f"no experiment left fits the {room:.0f} s the budget holds")
        by_id = self.by_id
        if not st.reproduced:
            followed = [c for c in cands if c.lead is not None]
            if followed:
                c = followed[0]
                assert c.lead is not None
                return c, f"a lead: {c.lead.describe()}; {c.what}"
            # Nothing (or too little) failed: the likeliest place to look, under the priors and the words.
            prior_scores = {h.id: h.score for h in score(self.entries, [], set(), None)}
            best: tuple[float, Candidate] | None = None
            for c in cands:
                p = chance_of_showing(st.scores, by_id, c.signals)
                p0 = chance_of_showing(prior_scores, by_id, c.signals)
                # Nothing failed at all: where the user described the failure, only what the words
                # point to (a healthy-looking service is not probed for a minute on a hunch); with
                # no words at all, everything the budget holds.
                guided = self.case.symptom is not None and not st.failures and not st.minority
                if guided and p < p0 * SYMPTOM_LIFT and not c.always:
                    continue
                value = p / max(c.cost, 1.0)
                if best is None or value > best[0]:
                    best = (value, c)
            if best is None:
                return self._stop("nothing failed, and the symptom points to no experiment not yet run")
            c = best[1]
            chance = chance_of_showing(st.scores, by_id, c.signals)
            words = " (the symptom points there)" if self.symptom and chance > chance_of_showing(
                prior_scores, by_id, c.signals) * SYMPTOM_LIFT else ""
            return c, f"not reproduced yet: {c.what}{words}, a {chance:.0%} chance to show something"
        scored: list[tuple[float, Candidate, float]] = []
        lead = st.leader
        floor = MIN_BITS_PER_S if lead is not None and lead.confidence >= UNSURE else 0.0
        # Reproduced: a lead's repeats only sharpen a rate already known to be non-zero.
        for c in [c for c in cands if c.lead is None]:
            g = expected_gain(st.scores, by_id, c.signals, set() if c.new_condition else st.tested)
            c.splits = g.splits
            if g.bits >= MIN_BITS and g.bits / max(c.cost, 1.0) >= floor:
                scored.append((g.bits / max(c.cost, 1.0), c, g.bits))
        if not scored:
            return self._stop("no experiment left would move the ranking")
        _, c, bits = max(scored, key=lambda x: x[0])
        pair = " from ".join(c.splits) if len(c.splits) == 2 else "the leading causes"
        return c, f"{c.what}: meant to tell {pair} ({bits:.2f} bits expected)"


def plan_and_run(case: Case, runner: Runner, entries: Sequence[Entry], symptom: SymptomMatch,
                 run: Callable[[Experiment], Experiment], left: Callable[[], float], say: Event) -> Plan:
    """The whole plan for ``case``: the core, then the adaptive part."""
    plan = Plan(case, runner, entries, symptom, run, left, say)
    if not plan.core():
        plan.adapt()
    return plan


def _why(exp: Experiment, why: str) -> Experiment:
    exp.why = why
    return exp


def _found(exp: Experiment, cand: Candidate, st: State) -> None:
    """What ``exp`` found: its signals seen or not, and the leader after it."""
    parts = []
    for name in cand.signals:
        s = st.seen(name)
        if s is not None:
            parts.append(f"{name} seen ({s.strength:.2f})")
        elif name in st.tested:
            parts.append(f"{name} not seen")
    lead = st.leader
    if st.reproduced and lead is not None:
        parts.append(f"then {lead.id} leads at {lead.confidence:.0%}")
    elif not st.reproduced:
        parts.append(f"{st.failures} failures so far: not reproduced yet")
    exp.found = "; ".join(parts) or "nothing new"


__all__ = ["CLEAR_LEADER", "Plan", "State", "plan_and_run"]
