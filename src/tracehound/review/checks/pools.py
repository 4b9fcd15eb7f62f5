"""Rules about database connection pool settings: too small, no checkout timeout, no liveness
check (TH203, TH204, TH205)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import UNKNOWN, Project, Scope
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import arg, keyword

#: A pool this small serves at most this many requests with a database connection at once.
TINY_POOL = 3
_ENGINES = frozenset({apis.ENGINE, apis.ASYNC_ENGINE})


def _number(project: Project, call: ast.Call, name: str, scope: Scope, default: float) -> float | None:
    expr = keyword(call, name)
    if expr is None:
        return default
    v = project.value(expr, scope)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _custom_pool(call: ast.Call) -> bool:
    return keyword(call, "poolclass") is not None or keyword(call, "pool") is not None or \
        any(kw.arg is None for kw in call.keywords)


def _sqlite(project: Project, call: ast.Call, scope: Scope) -> bool:
    url = arg(call, 0, "url")
    v = project.value(url, scope)
    texts = [v] if isinstance(v, str) else []
    if url is not None:
        texts += [n.value for n in ast.walk(url) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    connect_args = keyword(call, "connect_args")
    if connect_args is not None and "check_same_thread" in ast.unparse(connect_args):
        return True
    return any(t.startswith("sqlite") for t in texts)


@Rule(
    code="TH203", name="pool-too-small", signal="code:pool_too_small", links=("db_pool_exhaustion",),
    severity="warning", confidence=0.75,
    summary=f"A database connection pool holds {TINY_POOL} connections or fewer.",
    what=f"""
        Flags a SQLAlchemy engine whose `pool_size + max_overflow` is {TINY_POOL} or less (the default is
        5 + 10), an asyncpg pool or a psycopg pool whose `max_size` is {TINY_POOL} or less.""",
    why="""
        Every request that touches the database needs one of these connections for as long as it
        holds its session. With two or three, a handful of concurrent requests already queue for a
        connection; those waiting longer than the pool timeout fail (`QueuePool limit of size 2
        overflow 0 reached`). One request at a time never notices.""",
    example="""
        engine = create_engine(DATABASE_URL, pool_size=2, max_overflow=0, pool_timeout=1)
        """,
    fix="""
        Size the pool for the concurrency one process serves (threads of the worker, or concurrent
        requests of an async worker), within the database's `max_connections` divided by the number
        of processes; and keep each checkout short.""",
    fixed="""
        engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=10, pool_timeout=5, pool_pre_ping=True)
        """,
    references=(("SQLAlchemy: connection pooling", "https://docs.sqlalchemy.org/en/20/core/pooling.html"),),
)
def pool_too_small(project: Project) -> Iterator[Hit]:
    for call, scope, kind, q in calls.constructions(project, _ENGINES | {apis.ASYNCPG_POOL, apis.DB_POOL}):
        if _custom_pool(call):
            continue
        if kind in _ENGINES:
            size = _number(project, call, "pool_size", scope, 5)
            overflow = _number(project, call, "max_overflow", scope, 10)
            if size is None or overflow is None or overflow < 0:
                continue
            total = size + overflow
            detail = f"pool_size={size:g}, max_overflow={overflow:g}"
        else:
            total_v = _number(project, call, "max_size", scope, 10 if kind == apis.ASYNCPG_POOL else 0)
            if total_v is None or total_v <= 0:
                continue
            total, detail = total_v, f"max_size={total_v:g}"
        if total <= TINY_POOL:
            yield Hit(call, scope, f"{q}() pools at most {total:g} connections ({detail}): more concurrent requests "
                      "than that queue for a connection and fail at the pool timeout")


@Rule(
    code="TH204", name="pool-without-timeout", signal="code:pool_without_timeout", links=("db_pool_exhaustion",),
    severity="note", confidence=0.35,
    summary="A SQLAlchemy engine keeps the default 30 s `pool_timeout`.",
    what="Flags `create_engine`/`create_async_engine` without `pool_timeout`.",
    why="""
        When the pool is empty, a request waits up to `pool_timeout` (30 s by default) for a
        connection. Clients and gateways in front give up long before: they answer 504 while the
        request still waits, then runs its queries for nobody, keeping the pool empty for the
        requests behind it. A timeout below the gateway's turns the overload into fast, visible errors
        and lets the pool recover.""",
    example="""
        engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=10)
        """,
    fix="Set `pool_timeout` below the time the callers wait (the gateway's or the client's timeout).",
    fixed="""
        engine = create_engine(DATABASE_URL, pool_size=10, max_overflow=10, pool_timeout=5)
        """,
    references=(("SQLAlchemy: create_engine.pool_timeout", "https://docs.sqlalchemy.org/en/20/core/engines.html#sqlalchemy.create_engine.params.pool_timeout"),),
)
def pool_without_timeout(project: Project) -> Iterator[Hit]:
    for call, scope, _, q in calls.constructions(project, _ENGINES):
        if _custom_pool(call) or keyword(call, "pool_timeout") is not None:
            continue
        yield Hit(call, scope, f"{q}() has no pool_timeout: with the pool empty a request waits 30 s for a connection, "
                  "long after its caller gave up")


@Rule(
    code="TH205", name="pool-without-liveness-check", signal="code:pool_without_liveness_check",
    links=("stale_connection",), severity="warning", confidence=0.65,
    summary="A database pool hands out connections without checking them (no `pool_pre_ping`, no `pool_recycle`).",
    what="Flags a SQLAlchemy engine for a server database with neither `pool_pre_ping=True` nor `pool_recycle`.",
    why="""
        Pooled connections sit idle between requests. Servers, proxies and firewalls end idle
        connections (`idle_session_timeout`, `wait_timeout`, PgBouncer's `server_idle_timeout`, a NAT's
        idle timer). The pool does not notice: after a quiet spell it hands out a dead connection and
        the request's first statement fails ("server closed the connection unexpectedly",
        "terminating connection due to idle-session timeout"). The next request gets a fresh one and
        works, so the failures come one per quiet gap, never under steady load.""",
    example="""
        engine = create_engine(DATABASE_URL, pool_size=5, max_overflow=5, pool_timeout=5)
        """,
    fix="""
        Test connections at checkout (`pool_pre_ping=True`), and recycle them before the server's idle timeout
        (`pool_recycle`).""",
    fixed="""
        engine = create_engine(DATABASE_URL, pool_size=5, max_overflow=5, pool_timeout=5,
                               pool_pre_ping=True, pool_recycle=1800)
        """,
    references=(("SQLAlchemy: dealing with disconnects", "https://docs.sqlalchemy.org/en/20/core/pooling.html#dealing-with-disconnects"),),
)
def pool_without_liveness_check(project: Project) -> Iterator[Hit]:
    for call, scope, _, q in calls.constructions(project, _ENGINES):
        if _custom_pool(call) or _sqlite(project, call, scope):
            continue
        ping = keyword(call, "pool_pre_ping")
        recycle = keyword(call, "pool_recycle")
        ping_v = project.value(ping, scope) if ping is not None else False
        recycle_v = project.value(recycle, scope) if recycle is not None else -1
        if ping_v is UNKNOWN or ping_v or recycle_v is UNKNOWN \
                or (isinstance(recycle_v, (int, float)) and recycle_v > 0):
            continue
        yield Hit(call, scope, f"{q}() neither pings connections at checkout (pool_pre_ping) nor recycles them "
                  "(pool_recycle): a connection the server closed while idle is handed to the next request, "
                  "which fails")
