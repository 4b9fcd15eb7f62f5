"""Rules about caches in front of a source of truth: a cache that fails the request when it fails,
and a Redis pool that refuses instead of waiting (TH602, TH603)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import Function, Project
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import keyword, within

_CAUGHT = frozenset({"Exception", "BaseException", "RedisError", "ConnectionError", "TimeoutError", "OSError",
                     "MaxConnectionsError", "BusyLoadingError"})


def guarded(project: Project, call: ast.Call, fn: Function) -> bool:
    """Whether a ``try`` around the call (in the same function) catches connection errors."""
    parents = fn.module.parents
    node: ast.AST | None = call
    while node is not None and node is not fn.node:
        parent = parents.get(node)
        if isinstance(parent, ast.Try) and any(within(call, s) for s in parent.body):
            for h in parent.handlers:
                if h.type is None:
                    return True
                types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
                for t in types:
                    q = project.qualify(t, fn) or ast.unparse(t)
                    if q.split(".")[-1] in _CAUGHT or q.startswith("redis."):
                        return True
        node = parent
    return False


@Rule(
    code="TH602", name="cache-without-fallback", signal="code:cache_without_fallback", links=("cache_failure",),
    severity="warning", confidence=0.7,
    summary="A request fails when its Redis cache fails: no fallback to the source of truth.",
    what="""
        Flags Redis commands on the request path (in the endpoint or in what it calls) that no `try`
        around them — or around the call into the helper that makes them — catches (`RedisError`,
        `ConnectionError`, `TimeoutError`, `Exception`).""",
    why="""
        A cache is an optimisation in front of data the service can read anyway. When Redis is
        unreachable, restarting, out of connections or slow, every request that touches it fails
        with it — although the database could answer. Such trouble often appears only under load
        (a full pool, `maxclients`, evictions), so the service fails exactly when it is busiest.""",
    example="""
        @app.get("/prices/{sku}")
        async def price(sku: str):
            cached = await cache.get(f"price:{sku}")
            if cached is not None:
                return json.loads(cached)
            result = await compute_price(sku)
            await cache.set(f"price:{sku}", json.dumps(result), ex=60)
            return result
        """,
    fix="Treat cache errors as misses: log them, read from the source, and skip the write-back.",
    fixed="""
        @app.get("/prices/{sku}")
        async def price(sku: str):
            try:
                cached = await cache.get(f"price:{sku}")
            except redis.RedisError:
                log.warning("price cache unavailable", exc_info=True)
                cached = None
            if cached is not None:
                return json.loads(cached)
            result = await compute_price(sku)
            with contextlib.suppress(redis.RedisError):
                await cache.set(f"price:{sku}", json.dumps(result), ex=60)
            return result
        """,
)
def cache_without_fallback(project: Project) -> Iterator[Hit]:
    handlers = {r.handler for r in project.routes}
    callers: dict[Function, list[tuple[Function, ast.Call]]] = {}
    for g in project.functions():
        if project.on_request_path(g):
            for call, target in project.callees(g):
                callers.setdefault(target, []).append((g, call))
    for fn in project.functions():
        if not project.on_request_path(fn):
            continue
        open_calls = [c for c in fn.nodes if isinstance(c, ast.Call)
                      and calls.redis_command(project, c, fn) is not None and not guarded(project, c, fn)]
        if not open_calls:
            continue
        if fn not in handlers and callers.get(fn) and all(guarded(project, c, g) for g, c in callers[fn]):
            continue
        names = sorted({f".{c.func.attr}()" for c in open_calls if isinstance(c.func, ast.Attribute)})
        yield Hit(open_calls[0], fn, f"{len(open_calls)} Redis command{'s' if len(open_calls) > 1 else ''} "
                  f"({', '.join(names)}) in {fn.label} with no fallback: when Redis fails, full or slow, the request "
                  "fails with it")


@Rule(
    code="TH603", name="redis-pool-raises-when-full", signal="code:redis_pool_raises", links=("cache_failure",),
    severity="warning", confidence=0.7,
    summary="A Redis client's pool is capped and raises `Too many connections` instead of waiting.",
    what="""
        Flags redis-py clients and `ConnectionPool`s created with `max_connections`: that pool does
        not wait for a free connection, it raises.""",
    why="""
        Each command in flight holds one connection of the pool. With more concurrent requests than
        `max_connections`, the extra commands fail at once with `ConnectionError: Too many
        connections` (`MaxConnectionsError`), although Redis itself is idle. Alone, every request
        succeeds; the failures rise with concurrency.""",
    example="""
        cache = redis.Redis(connection_pool=redis.ConnectionPool.from_url(REDIS_URL, max_connections=4))
        """,
    fix="""
        Use `BlockingConnectionPool(max_connections=…, timeout=…)`, which waits for a connection, sized for the
        concurrency of one process.""",
    fixed="""
        cache = redis.Redis(connection_pool=redis.BlockingConnectionPool.from_url(REDIS_URL, max_connections=32, timeout=2))
        """,  # noqa: E501 - the example is printed as written
    references=(("redis-py: connection pools", "https://redis.readthedocs.io/en/stable/connections.html#connectionpools"),),
)
def redis_pool_raises(project: Project) -> Iterator[Hit]:
    for call, scope, kind, q in calls.constructions(project, {apis.REDIS_POOL, apis.REDIS, apis.ASYNC_REDIS}):
        cap = keyword(call, "max_connections")
        if cap is None or (kind != apis.REDIS_POOL and keyword(call, "connection_pool") is not None):
            continue
        v = project.value(cap, scope)
        n = f"{v}" if isinstance(v, int) else ast.unparse(cap)
        yield Hit(call, scope, f"{q}(max_connections={n}) never waits for a free connection: past {n} concurrent "
                  "commands it raises ConnectionError (Too many connections)")
