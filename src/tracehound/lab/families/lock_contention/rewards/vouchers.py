"""Client of the voucher partner: issues a reward's redeemable code (their API takes a while)."""

from __future__ import annotations

import asyncio
import hashlib
import os

PARTNER_LATENCY_S = int(os.environ.get("WORK_MS", "150")) / 1000


async def issue(member: int, reward: str, sequence: int) -> str:
    await asyncio.sleep(PARTNER_LATENCY_S)
    return hashlib.sha1(f"{member}:{reward}:{sequence}".encode()).hexdigest()[:12].upper()
