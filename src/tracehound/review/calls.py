"""What a call does, as the rules need to know it: a database statement, an outbound HTTP
request, a Redis command, a call that blocks the thread, or one that waits on something slow.

Each classifier returns a short phrase for the finding's message (``"runs a statement on a
sync SQLAlchemy session"``), or None. :func:`through` follows a call into the project's own
functions, so that a handler calling ``repo.load()`` which runs the query counts as querying.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from tracehound.review import apis
from tracehound.review.project import Function, Kind, Project, Scope

Classifier = Callable[[Project, ast.Call, Scope], "str | None"]

_KIND_WORDS = {
    apis.SESSION: "a sync SQLAlchemy session", apis.SA_CONN: "a sync SQLAlchemy connection",
    apis.ENGINE: "a sync SQLAlchemy engine", apis.DBAPI_CONN: "a sync database connection",
    apis.DBAPI_CURSOR: "a sync database cursor", apis.ASYNC_SESSION: "an async session",
    apis.ASYNC_SA_CONN: "an async connection", apis.ASYNCPG_CONN: "an asyncpg connection",
    apis.ASYNCPG_POOL: "an asyncpg pool", apis.ASYNC_DBAPI_CONN: "an async connection",
    apis.ASYNC_ENGINE: "an async engine", apis.REDIS: "a sync Redis client", apis.ASYNC_REDIS: "a Redis client",
    apis.HTTP_CLIENT: "a sync HTTP client", apis.ASYNC_HTTP_CLIENT: "an async HTTP client",
}


def words(kind: Kind | str) -> str:
    name = kind if isinstance(kind, str) else kind.name
    return _KIND_WORDS.get(name, name.replace("_", " "))


def receiver(project: Project, call: ast.Call, scope: Scope) -> Kind | None:
    """The kind of the object a method is called on."""
    if isinstance(call.func, ast.Attribute):
        return project.kind(call.func.value, scope)
    return None


def db_call(project: Project, call: ast.Call, scope: Scope) -> Kind | None:
    """The session/connection/pool kind when the call runs a database statement."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in apis.DB_QUERY_METHODS:
        return None
    k = receiver(project, call, scope)
    return k if k is not None and k.name in apis.DB else None


def redis_command(project: Project, call: ast.Call, scope: Scope) -> Kind | None:
    if not isinstance(call.func, ast.Attribute):
        return None
    if call.func.attr in apis.REDIS_NON_COMMANDS or call.func.attr.startswith("_"):
        return None
    k = receiver(project, call, scope)
    return k if k is not None and k.name in apis.REDIS_CLIENTS else None


def http_call(project: Project, call: ast.Call, scope: Scope) -> str | None:
    """``"makes an HTTP request (requests.get)"`` for an outbound HTTP call."""
    q = project.qualify(call.func, scope)
    if q in apis.HTTP_FUNCTIONS:
        return f"makes an HTTP request ({q})"
    if isinstance(call.func, ast.Attribute):
        k = receiver(project, call, scope)
        if k is not None and k.name in apis.HTTP_CLIENTS and call.func.attr in apis.HTTP_VERBS:
            return f"makes an HTTP request through {words(k)}"
        if k is not None and k.name == apis.HTTP_CONN and call.func.attr in ("request", "getresponse"):
            return "makes an HTTP request (http.client)"
    return None


def blocking(project: Project, call: ast.Call, scope: Scope) -> str | None:
    """Why a call blocks the calling thread (sleep, sync I/O, CPU-heavy hashing), or None."""
    q = project.qualify(call.func, scope)
    if q is not None:
        if q == "open" and isinstance(scope, Function) and project.binding("open", scope) is not None:
            return None
        reason = apis.blocking_reason(q)
        if reason is not None:
            return f"{q}() {reason}"
    if not isinstance(call.func, ast.Attribute):
        return None
    method = call.func.attr
    k = receiver(project, call, scope)
    if k is not None:
        if k.name in apis.SYNC_DB and method in apis.DB_QUERY_METHODS | {"commit", "rollback", "connect", "begin"}:
            return f".{method}() runs on {words(k)}"
        if k.name == apis.REDIS and redis_command(project, call, scope) is not None:
            return f".{method}() is a command on {words(k)}"
        if k.name == apis.HTTP_CLIENT and method in apis.HTTP_VERBS:
            return f".{method}() makes a request through {words(k)}"
        if k.name == apis.HTTP_CONN and method in ("request", "getresponse"):
            return f".{method}() makes a blocking HTTP request (http.client)"
        if k.name == apis.HASHER and method in apis.HASHER_METHODS:
            return f".{method}() hashes a password (CPU-bound by design)"
        if k.name == apis.THREAD_LOCK and method == "acquire":
            return ".acquire() waits on a threading lock"
    if method in apis.BLOCKING_PATH_METHODS:
        return f".{method}() does blocking file I/O"
    return None


def slow(project: Project, call: ast.Call, scope: Scope) -> str | None:
    """Why a call waits on something other than the database (the network, a timer, a process, the CPU)."""
    reason = http_call(project, call, scope)
    if reason is not None:
        return reason
    q = project.qualify(call.func, scope) or ""
    if q in ("time.sleep", "asyncio.sleep", "anyio.sleep", "trio.sleep"):
        return f"waits ({q})"
    if q.startswith("subprocess.") or q in ("os.system",):
        return f"runs a subprocess ({q})"
    if q in ("bcrypt.hashpw", "bcrypt.checkpw", "hashlib.pbkdf2_hmac", "hashlib.scrypt"):
        return f"spends CPU on password hashing ({q})"
    return None


def io(project: Project, call: ast.Call, scope: Scope) -> str | None:
    """Why a call does I/O a lock should not be held across (database, HTTP, Redis, sleeping)."""
    k = db_call(project, call, scope)
    if k is not None:
        return f"runs a statement on {words(k)}"
    k = redis_command(project, call, scope)
    if k is not None:
        return f"sends a command to {words(k)}"
    return slow(project, call, scope)


def through(project: Project, call: ast.Call, scope: Scope, classify: Classifier, depth: int = 3,
            sync_only: bool = False) -> tuple[str, list[Function]] | None:
    """The classifier's verdict on a call, or on what the project function it calls does
    (followed ``depth`` calls deep): (reason, chain of functions leading to it)."""
    reason = classify(project, call, scope)
    if reason is not None:
        return reason, []
    target = project.callee(call, scope)
    if target is None or (sync_only and target.is_async):
        return None
    found = _inside(project, target, classify, depth - 1, sync_only, set())
    return found


def _inside(project: Project, fn: Function, classify: Classifier, depth: int, sync_only: bool,
            seen: set[Function]) -> tuple[str, list[Function]] | None:
    if fn in seen or depth < 0:
        return None
    seen.add(fn)
    for node in fn.nodes:
        if isinstance(node, ast.Call):
            reason = classify(project, node, fn)
            if reason is not None:
                return f"{reason} at {fn.module.rel}:{node.lineno}", [fn]
    if depth == 0:
        return None
    for _, target in project.callees(fn):
        if sync_only and target.is_async:
            continue
        found = _inside(project, target, classify, depth - 1, sync_only, seen)
        if found is not None:
            return found[0], [fn, *found[1]]
    return None


def constructions(project: Project, kinds: frozenset[str] | set[str]) -> Iterator[tuple[ast.Call, Scope, str, str]]:
    """Every call in the project (module level and function bodies) that makes one of ``kinds``:
    (call, scope, kind, dotted name)."""
    for n, scope in project.all_calls():
        q = project.qualify(n.func, scope) or ""
        k = apis.kind_of_constructor(q)
        if k is not None and k in kinds:
            yield n, scope, k, q


def chain_text(chain: list[Function]) -> str:
    return " → ".join(f.label for f in chain)


__all__ = ["blocking", "chain_text", "constructions", "db_call", "http_call", "io", "receiver", "redis_command", "slow",
           "through", "words"]
