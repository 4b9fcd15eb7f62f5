"""Periodic failures: every k-th request, under round robin, robust to the jitter of concurrency."""

from __future__ import annotations

import numpy as np
import pytest

from tracehound.analysis.periodicity import periodicity


def send(n):
    return {"send": (np.arange(n), np.zeros(n, np.int64))}


def round_robin(n, k, jitter, seed=0):
    """Failures of the bad one of k backends, in our send order, when the balancer sees a jittered order."""
    rng = np.random.default_rng(seed)
    start = np.sort(rng.uniform(0, n, n))
    arrival = start + (rng.exponential(jitter, n) if jitter else 0)
    return np.argsort(np.argsort(arrival)) % k == k - 1


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_exact_round_robin(k):
    p = periodicity(round_robin(600, k, 0.0), send(600))
    assert p.periodic and p.period == k and p.strength > 0.9


@pytest.mark.parametrize("jitter", [0.3, 1.0])
def test_round_robin_under_concurrency_jitter(jitter):
    p = periodicity(round_robin(3000, 3, jitter, seed=1), send(3000))
    assert p.periodic and p.period == 3
    assert p.strength > 0.5


@pytest.mark.parametrize("seed", range(10))
def test_independent_failures_are_not_periodic(seed):
    rng = np.random.default_rng(seed)
    f = rng.random(3000) < 1 / 3
    assert not periodicity(f, send(3000)).periodic


def test_bursts_are_not_periodic():
    rng = np.random.default_rng(2)
    f = np.zeros(3000, bool)
    for s in rng.choice(2980, 40, replace=False):
        f[s : s + 8] = True
    assert not periodicity(f, send(3000)).periodic


def test_a_step_that_always_fails_is_not_a_period():
    # A three-step flow, one request at a time, whose third step always fails: the step explains it.
    n = 900
    step = np.arange(n) % 3
    f = step == 2
    assert periodicity(f, send(n)).periodic  # without knowing the steps it looks periodic …
    assert not periodicity(f, send(n), group=step).periodic  # … with them it does not


def test_period_per_virtual_user():
    # Each VU's every 4th request fails, while the interleaving of 8 VUs scrambles the send order.
    rng = np.random.default_rng(3)
    n_vu, per = 8, 200
    vu = np.repeat(np.arange(n_vu), per)
    i = np.tile(np.arange(per), n_vu)
    f = (i + rng.integers(0, 4, n_vu)[vu]) % 4 == 0
    order_send = np.argsort(i * n_vu + rng.permutation(n_vu * per) % n_vu, kind="stable")
    orders = {"send": (order_send, np.zeros(n_vu * per, np.int64)), "vu": (np.arange(n_vu * per), vu)}
    p = periodicity(f, orders)
    assert p.periodic and p.period == 4 and p.order == "vu"


def _phased_flow(n_iter: int, steps: int, seed: int = 0):
    """One user's flow of ``steps`` requests per iteration, whose last step fails in runs of iterations
    (its pace drifts in and out of phase with something that ticks): one iteration is like the next."""
    rng = np.random.default_rng(seed)
    phase_bad = np.zeros(n_iter, bool)
    i = 0
    while i < n_iter:
        length = int(rng.integers(3, 9))
        phase_bad[i:i + length] = rng.random() < 0.4
        i += length
    step = np.tile(np.arange(steps), n_iter)
    f = (step == steps - 1) & np.repeat(phase_bad, steps) & (rng.random(n_iter * steps) < 0.8)
    return f, step


@pytest.mark.parametrize("steps", [2, 4])
def test_iterations_that_fail_alike_are_not_a_period_of_the_flows_length(steps):
    f, step = _phased_flow(400, steps)
    group = step  # the step explains what each kind of request fails anyway
    assert periodicity(f, send(f.size), group=group).periodic  # the flow's rhythm looked like a period …
    assert not periodicity(f, send(f.size), group=group, kinds=step).periodic  # … it is not one


def test_a_bad_backend_behind_round_robin_still_shows_in_a_flow():
    # Two steps, three backends: every third request fails whichever step it is.
    n = 1800
    step = np.arange(n) % 2
    f = round_robin(n, 3, 0.0)
    p = periodicity(f, send(n), group=step, kinds=step)
    assert p.periodic and p.period == 3
