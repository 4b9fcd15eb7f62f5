"""Connection pools: writes go to the primary, reads to the replica."""

from __future__ import annotations

import os

import asyncpg

PRIMARY_URL = os.environ["DATABASE_URL"]
REPLICA_URL = os.environ.get("REPLICA_DATABASE_URL", PRIMARY_URL)
REPLICA_SETTINGS = {"search_path": os.environ.get("REPLICA_SCHEMA", "replica")}


async def create_pools() -> tuple[asyncpg.Pool, asyncpg.Pool]:
    primary = await asyncpg.create_pool(PRIMARY_URL, min_size=2, max_size=8, command_timeout=5)
    replica = await asyncpg.create_pool(
        REPLICA_URL, min_size=2, max_size=8, command_timeout=5, server_settings=REPLICA_SETTINGS
    )
    return primary, replica
