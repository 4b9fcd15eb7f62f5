"""Per-connection traffic counters, appended to the gateway's statistics file when a connection ends."""

from __future__ import annotations

import asyncio
import json
import os
import time

FLUSH_LATENCY_S = float(os.environ.get("STATS_FLUSH_S", "0.3"))


class ConnectionStats:
    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.opened = time.time()
        self.requests = 0
        self.bytes_out = 0

    async def flush(self) -> None:
        """Append this connection's counters; the statistics volume is a slow SD card."""
        line = json.dumps({"peer": self.peer, "opened": round(self.opened, 3), "requests": self.requests,
                           "bytes_out": self.bytes_out, "closed": round(time.time(), 3)})
        await asyncio.sleep(FLUSH_LATENCY_S)
        path = os.path.join(os.environ.get("DATA_DIR", "."), "connections.jsonl")
        with open(path, "a") as f:
            f.write(line + "\n")
