"""Client of the insurers' eligibility clearing house (a partner API with its own latency)."""

from __future__ import annotations

import os
import time

LATENCY_S = int(os.environ.get("WORK_MS", "200")) / 1000


def check(insurer: str, policy_no: str) -> bool:
    """Whether the policy covers an appointment; the clearing house answers in about LATENCY_S."""
    time.sleep(LATENCY_S)
    return not policy_no.endswith("13")
