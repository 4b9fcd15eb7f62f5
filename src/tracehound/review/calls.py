"""What a call does, as the rules need to know it: a database statement, an outbound HTTP
request, a Redis command, a call that blocks the thread, or one that waits on something slow.

Each classifier returns a short phrase for the finding's message (``"runs a statement on a
sync SQLAlchemy session"``), or None. :func:`through` follows a call into the project's own
functions, so that a handler calling ``repo.load()`` which runs the query counts as querying.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from weakref import WeakKeyDictionary

from tracehound.review import apis
from tracehound.review.project import Function, Kind, Project, Scope
from tracehound.review.syntax import arg

Classifier = Callable[[Project, ast.Call, Scope], "str | None"]

_KIND_WORDS = {
    apis.SESSION: "a sync SQLAlchemy session", apis.SA_CONN: "a sync SQLAlchemy connection",
    apis.ENGINE: "a sync SQLAlchemy engine", apis.DBAPI_CONN: "a sync database connection",
    apis.DBAPI_CURSOR: "a sync database cursor", apis.ASYNC_SESSION: "an async session",
    apis.ASYNC_SA_CONN: "an async connection", apis.ASYNCPG_CONN: "an asyncpg connection",
    apis.ASYNCPG_POOL: "an asyncpg pool", apis.ASYNC_DBAPI_CONN: "an async connection",
    apis.ASYNC_ENGINE: "an async engine", apis.REDIS: "a sync Redis client", apis.ASYNC_REDIS: "a Redis client",
    apis.HTTP_CLIENT: "a sync HTTP client", apis.ASYNC_HTTP_CLIENT: "an async HTTP client",
    apis.URLLIB3_POOL: "a urllib3 pool",
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
    if q is not None and apis.canonical(q) in apis.HTTP_FUNCTIONS:
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
        return _blocking_method(project, call, scope, k)
    if method in apis.BLOCKING_PATH_METHODS:
        return f".{method}() does {apis.FILE_IO}"
    if method == "request" and _literal_http_method(call) and _imports_urllib3(scope):
        return f".{method}({ast.unparse(call.args[0])}, …) is likely a synchronous HTTP request (urllib3)"
    return None


def _blocking_method(project: Project, call: ast.Call, scope: Scope, k: Kind) -> str | None:
    """Why a method call on a value of kind ``k`` blocks, or None."""
    assert isinstance(call.func, ast.Attribute)
    method = call.func.attr
    if k.name in apis.SYNC_DB and method in apis.DB_QUERY_METHODS | {"commit", "rollback", "connect", "begin"}:
        return f".{method}() runs on {words(k)}"
    if k.name == apis.REDIS and redis_command(project, call, scope) is not None:
        return f".{method}() is a command on {words(k)}"
    if k.name == apis.HTTP_CLIENT and method in apis.SYNC_CLIENT_METHODS:
        return f".{method}() makes a request through {words(k)}" if method != "close" \
            else f".close() closes the connections of {words(k)}"
    if k.name == apis.URLLIB3_POOL and not method.startswith("_") and (
            method not in apis.URLLIB3_REQUEST_METHODS or _may_be_http_method(call)):
        return f".{method}() does blocking network I/O on {words(k)}"
    if k.name == apis.HTTP_CONN and method in ("request", "getresponse"):
        return f".{method}() makes a blocking HTTP request (http.client)"
    if k.name == apis.HASHER and method in apis.HASHER_METHODS:
        return f".{method}() hashes a password (CPU-bound by design)"
    if k.name == apis.THREAD_LOCK and method == "acquire":
        return ".acquire() waits on a threading lock"
    if method in apis.BLOCKING_PATH_METHODS or (k.name == apis.PATH and method in apis.PATH_IO_METHODS):
        return f".{method}() does {apis.FILE_IO}"
    return None


def _may_be_http_method(call: ast.Call) -> bool:
    """Whether urllib3's ``request(method, url)`` is given something that may be an HTTP method: a
    variable, or a literal naming one (no argument, ``None`` or ``"sPUTnik"`` is not a request)."""
    m = arg(call, 0, "method")
    return m is not None and (not isinstance(m, ast.Constant) or _literal_http_method(call))


def _literal_http_method(call: ast.Call) -> bool:
    m = arg(call, 0, "method")
    return isinstance(m, ast.Constant) and isinstance(m.value, str) and m.value.upper() in apis.HTTP_METHOD_NAMES


def _imports_urllib3(scope: Scope) -> bool:
    """Whether the module imports urllib3 (what makes ``x.request("GET", …)`` on an unknown ``x`` likely its)."""
    return any(v == "urllib3" or v.startswith("urllib3.") for v in scope.module.imports.values())


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


#: A classifier's reason, and the chain of project functions from the call to where it applies.
Found = tuple[str, list[Function]]
_MemoKey = tuple[Classifier, bool, int, Function]
#: Per project: what a function (followed so many calls deep) was found to do, once known for sure.
_MEMO: WeakKeyDictionary[Project, dict[_MemoKey, Found | None]] = WeakKeyDictionary()


def through(project: Project, call: ast.Call, scope: Scope, classify: Classifier, depth: int = 3,
            sync_only: bool = False) -> Found | None:
    """The classifier's verdict on a call, or on what the project function it calls does
    (followed ``depth`` calls deep, into sync functions only with ``sync_only``): the reason and
    the chain of functions leading to it."""
    reason = classify(project, call, scope)
    if reason is not None:
        return reason, []
    target = project.callee(call, scope)
    if target is None or (sync_only and target.is_async):
        return None
    return _search(project, target, classify, depth - 1, sync_only, set())[0]


def _search(project: Project, fn: Function, classify: Classifier, depth: int, sync_only: bool,
            stack: set[Function]) -> tuple[Found | None, bool]:
    """What ``fn`` or a function it calls does, and whether that answer is complete (not cut short
    by the depth or a recursion): only complete answers are remembered, so every caller of a
    helper gets the same verdict whichever asked first."""
    memo = _MEMO.setdefault(project, {})
    key = (classify, sync_only, depth, fn)
    if key in memo:
        return memo[key], True
    if fn in stack or depth < 0:
        return None, False
    found: Found | None = None
    complete = True
    for node in fn.nodes:
        if isinstance(node, ast.Call):
            reason = classify(project, node, fn)
            if reason is not None:
                found = f"{reason} at {fn.module.rel}:{node.lineno}", [fn]
                break
    if found is None:
        stack.add(fn)
        for target in dict.fromkeys(t for _, t in project.callees(fn)):
            if sync_only and target.is_async:
                continue
            if depth == 0:
                complete = False
                break
            sub, sub_complete = _search(project, target, classify, depth - 1, sync_only, stack)
            if sub is not None:
                found = sub[0], [fn, *sub[1]]
                break
            complete = complete and sub_complete
        stack.discard(fn)
    if found is not None or complete:
        memo[key] = found
    return found, complete


Construction = tuple[ast.Call, Scope, str, str]
#: Per project: every call that makes a value of a known kind (several rules ask, for different kinds).
_CONSTRUCTIONS: WeakKeyDictionary[Project, list[Construction]] = WeakKeyDictionary()


def constructions(project: Project, kinds: frozenset[str] | set[str]) -> Iterator[Construction]:
    """Every call in the project (module level and function bodies) that makes one of ``kinds``:
    (call, scope, kind, dotted name)."""
    if project not in _CONSTRUCTIONS:
        found = []
        for n, scope in project.all_calls():
            q = project.qualify(n.func, scope) or ""
            k = apis.kind_of_constructor(q)
            if k is not None:
                found.append((n, scope, k, q))
        _CONSTRUCTIONS[project] = found
    for c in _CONSTRUCTIONS[project]:
        if c[2] in kinds:
            yield c


def chain_text(chain: list[Function]) -> str:
    return " → ".join(f.label for f in chain)


__all__ = ["Found", "blocking", "chain_text", "constructions", "db_call", "http_call", "io", "receiver",
           "redis_command", "slow", "through", "words"]
