"""Client of the revenue team's demand-pricing service: the unit price for the next tickets."""

from __future__ import annotations

import os
import random
import time

ROUND_TRIP_S = int(os.environ.get("WORK_MS", "100")) / 1000


def quote(base_cents: int, sold: int, capacity: int, qty: int) -> int:
    """The unit price of ``qty`` more tickets, given how full the event already is."""
    time.sleep(ROUND_TRIP_S * random.uniform(0.5, 1.5))
    fill = (sold + qty) / capacity
    return int(base_cents * (1 + min(fill, 0.9)))
