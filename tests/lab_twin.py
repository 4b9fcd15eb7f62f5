"""Holding a fixed twin to the catalog's criteria beside its faulty version, on a machine that may be busy.

``verify FAULTY --candidate TWIN`` holds the twin to absolute limits (``p95<1500ms``). On a machine
busy with other work a healthy twin can miss them, and so can its faulty version by far more: the
two runs are measured one after the other under the same conditions, so the twin is judged beside
the faulty version, as ``tracehound lab check`` judges its failures (:func:`tracehound.lab.check.twin_verdict`).
"""

from __future__ import annotations

from tracehound.verify import Check

#: A twin's latency may miss the catalog's limit when it is at most this share of the faulty version's.
LATENCY_SHARE = 0.6


def twin_meets(check: Check, machine_failures: bool) -> bool:
    """Whether the twin meets ``check``, or misses it only as far as the machine explains.

    ``check`` is one of ``verify(faulty, candidate=twin).checks`` (``before`` is the faulty version's
    value); ``machine_failures`` says the twin's failures were put down to the machine by lab check.
    A latency then counts when it is well under the faulty version's, an error rate when it is made
    of those failures only.
    """
    if check.ok:
        return True
    if check.value is None or check.before is None:
        return False
    if check.criterion.key == "error_rate":
        return machine_failures
    return check.value <= LATENCY_SHARE * check.before
