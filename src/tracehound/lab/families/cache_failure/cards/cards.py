"""Member cards: the small summary shown next to every post, built from PostgreSQL and kept in Redis."""

from __future__ import annotations

import json
import os

import asyncpg
import redis.asyncio as redis

CARD_TTL_S = 600

CARD_SQL = """
SELECT m.handle, m.joined, m.country, count(p.id) AS posts, coalesce(sum(p.likes), 0) AS likes,
       (SELECT forum FROM posts WHERE member_id = m.id GROUP BY forum ORDER BY count(*) DESC LIMIT 1) AS top_forum
FROM members m LEFT JOIN posts p ON p.member_id = m.id
WHERE m.id = $1
GROUP BY m.id
"""


def client_from_env() -> redis.Redis:
    size = int(os.environ.get("CACHE_CONNECTIONS", "0")) or None
    timeout = float(os.environ["CACHE_SOCKET_TIMEOUT"]) if os.environ.get("CACHE_SOCKET_TIMEOUT") else None
    return redis.Redis.from_url(os.environ["REDIS_URL"], max_connections=size, socket_timeout=timeout,
                                decode_responses=True)


class CardStore:
    """Cards by member id: Redis first, PostgreSQL on a miss."""

    def __init__(self, db: asyncpg.Pool, cache: redis.Redis) -> None:
        self.db = db
        self.cache = cache

    async def card(self, member_id: int) -> dict | None:
        raw = await self.cache.get(f"card:{member_id}")
        if raw is not None:
            card: dict = json.loads(raw)
        else:
            row = await self.db.fetchrow(CARD_SQL, member_id)
            if row is None:
                return None
            card = {"handle": row["handle"], "member_since": row["joined"].year, "country": row["country"],
                    "posts": row["posts"], "likes": row["likes"], "top_forum": row["top_forum"]}
            await self.cache.set(f"card:{member_id}", json.dumps(card), ex=CARD_TTL_S)
        card["online"] = await self.cache.exists(f"seen:{member_id}") == 1
        return card

    async def touch(self, member_id: int) -> None:
        await self.cache.set(f"seen:{member_id}", 1, ex=300)
