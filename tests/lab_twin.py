"""Holding a fixed twin to the catalog's criteria beside its faulty version, on a machine that may be busy.

``verify FAULTY --candidate TWIN`` holds the twin to absolute limits (``p95<1500ms``). On a machine
busy with other work a healthy twin can miss them, and so can its faulty version by far more: the
two runs are measured one after the other under the same conditions, so the twin is judged beside
the faulty version, as ``tracehound lab check`` judges its failures (:func:`tracehound.lab.verdict.twin_verdict`).
"""

from __future__ import annotations

from tracehound.lab.verdict import MACHINE_SHARE
from tracehound.verify import Check, Verification


def twin_meets(check: Check, fixed: Verification, machine_failures: bool) -> bool:
    """Whether the twin meets ``check``, or misses it only as far as the machine explains.

    ``check`` is one of ``fixed.checks``, ``fixed`` being ``verify(faulty, candidate=twin)`` (its
    ``before`` is the faulty version); ``machine_failures`` says lab check put the twin's failures
    down to the machine. An error rate then counts when it is made of those failures only; a
    latency when the faulty version failed and the twin at most
    :data:`~tracehound.lab.verdict.MACHINE_SHARE` as often. On a busy machine latency does not tell
    them apart: both versions' p95 can sit at a gateway's cut, and a fix that moves CPU work off the
    event loop is slower than the bug where the bug fails fast (a 504 after 1 s, a sign-in after 3).
    """
    if check.ok:
        return True
    if check.value is None or check.before is None or fixed.before is None or fixed.after is None:
        return False
    if check.criterion.key == "error_rate":
        return machine_failures
    return fixed.before.error_rate > 0 and fixed.after.error_rate <= MACHINE_SHARE * fixed.before.error_rate
