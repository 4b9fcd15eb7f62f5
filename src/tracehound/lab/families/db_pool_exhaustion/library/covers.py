"""Book metadata from the regional union catalogue (covers, editions), fetched per title."""

from __future__ import annotations

import os
import time

PER_TITLE_S = int(os.environ.get("WORK_MS", "200")) / 1000 / 4


def edition_info(isbn: str) -> dict:
    time.sleep(PER_TITLE_S)
    return {"isbn": isbn, "cover": f"https://covers.example.org/{isbn}.jpg"}
