"""Client of the kiosk registry, which tracks every kiosk's sessions (the operations team's API)."""

from __future__ import annotations

import os
import time

REGISTRY_LATENCY_S = float(os.environ.get("REGISTRY_LATENCY_S", "0.3"))


def session_ended(kiosk: str, requests: int, seconds: float) -> None:
    """Report a finished kiosk session; the registry answers in about REGISTRY_LATENCY_S."""
    time.sleep(REGISTRY_LATENCY_S)
