"""What the reviewer knows about the libraries web backends use, as data.

Values are sorted into *kinds* (an engine, a session, an asyncpg pool, a Redis client …) by the
call that made them; the rules ask questions of kinds ("a method of a sync database session,
called inside ``async def``"), never of variable names. Every table is keyed by the dotted
name a call resolves to through the module's imports, so ``from sqlalchemy.orm import Session``
and ``import sqlalchemy.orm as orm; orm.Session`` are the same thing.
"""

from __future__ import annotations

import functools

# -- kinds ------------------------------------------------------------------------------------

ENGINE = "engine"
ASYNC_ENGINE = "async_engine"
SESSIONMAKER = "sessionmaker"
ASYNC_SESSIONMAKER = "async_sessionmaker"
SESSION = "session"
ASYNC_SESSION = "async_session"
SA_CONN = "sa_connection"
ASYNC_SA_CONN = "async_sa_connection"
DBAPI_CONN = "dbapi_connection"
DBAPI_CURSOR = "dbapi_cursor"
ASYNC_DBAPI_CONN = "async_dbapi_connection"
ASYNCPG_CONN = "asyncpg_connection"
ASYNCPG_POOL = "asyncpg_pool"
DB_POOL = "db_pool"
REDIS = "redis"
ASYNC_REDIS = "async_redis"
REDIS_POOL = "redis_pool"
REDIS_BLOCKING_POOL = "redis_blocking_pool"
HTTP_CLIENT = "http_client"
ASYNC_HTTP_CLIENT = "async_http_client"
HTTP_CONN = "http_connection"
#: A urllib3 pool (``PoolManager``, ``HTTPConnectionPool`` …): every public method may do blocking network I/O.
URLLIB3_POOL = "urllib3_pool"
#: A ``pathlib.Path``.
PATH = "path"
HTTP_TIMEOUT = "http_timeout"
THREAD_LOCK = "thread_lock"
ASYNC_LOCK = "async_lock"
HASHER = "password_hasher"
FASTAPI = "fastapi_app"
ROUTER = "fastapi_router"
FLASK = "flask_app"
BLUEPRINT = "flask_blueprint"
DEFAULTDICT = "defaultdict"
MUTABLE = "mutable_container"
#: An instance of a class defined in the reviewed project (``Kind.cls`` says which).
OBJECT = "object"
#: One ORM entity (``Kind.entity``), and a list of them from a query (with its eager loads).
MODEL = "model"
ROWS = "model_rows"

SYNC_DB = frozenset({ENGINE, SESSION, SA_CONN, DBAPI_CONN, DBAPI_CURSOR})
ASYNC_DB = frozenset({ASYNC_ENGINE, ASYNC_SESSION, ASYNC_SA_CONN, ASYNC_DBAPI_CONN, ASYNCPG_CONN, ASYNCPG_POOL})
DB = SYNC_DB | ASYNC_DB
#: One connection's worth of state: what must be closed, and must not be shared between requests.
CONNECTIONS = frozenset({SESSION, ASYNC_SESSION, SA_CONN, ASYNC_SA_CONN, DBAPI_CONN, ASYNC_DBAPI_CONN, ASYNCPG_CONN})
REDIS_CLIENTS = frozenset({REDIS, ASYNC_REDIS})
HTTP_CLIENTS = frozenset({HTTP_CLIENT, ASYNC_HTTP_CLIENT, URLLIB3_POOL})
#: Kinds whose creation per request costs a pool, a TCP/TLS handshake or a server connection.
EXPENSIVE = frozenset({ENGINE, ASYNC_ENGINE, ASYNCPG_POOL, DB_POOL, REDIS, ASYNC_REDIS, REDIS_POOL,
                       REDIS_BLOCKING_POOL, HTTP_CLIENT, ASYNC_HTTP_CLIENT, URLLIB3_POOL})

#: Calls that make a value of a kind, by the dotted name they resolve to.
CONSTRUCTORS: dict[str, str] = {
    "sqlalchemy.create_engine": ENGINE,
    "sqlalchemy.engine.create_engine": ENGINE,
    "sqlalchemy.ext.asyncio.create_async_engine": ASYNC_ENGINE,
    "sqlalchemy.orm.sessionmaker": SESSIONMAKER,
    "sqlalchemy.orm.scoped_session": SESSIONMAKER,
    "sqlalchemy.ext.asyncio.async_sessionmaker": ASYNC_SESSIONMAKER,
    "sqlalchemy.ext.asyncio.async_scoped_session": ASYNC_SESSIONMAKER,
    "sqlalchemy.orm.Session": SESSION,
    "sqlmodel.Session": SESSION,
    "sqlalchemy.ext.asyncio.AsyncSession": ASYNC_SESSION,
    "sqlmodel.ext.asyncio.session.AsyncSession": ASYNC_SESSION,
    "psycopg.connect": DBAPI_CONN,
    "psycopg.Connection.connect": DBAPI_CONN,
    "psycopg2.connect": DBAPI_CONN,
    "sqlite3.connect": DBAPI_CONN,
    "pymysql.connect": DBAPI_CONN,
    "MySQLdb.connect": DBAPI_CONN,
    "mysql.connector.connect": DBAPI_CONN,
    "psycopg.AsyncConnection.connect": ASYNC_DBAPI_CONN,
    "asyncpg.connect": ASYNCPG_CONN,
    "asyncpg.create_pool": ASYNCPG_POOL,
    "psycopg_pool.ConnectionPool": DB_POOL,
    "psycopg_pool.AsyncConnectionPool": DB_POOL,
    "psycopg2.pool.SimpleConnectionPool": DB_POOL,
    "psycopg2.pool.ThreadedConnectionPool": DB_POOL,
    "redis.Redis": REDIS,
    "redis.StrictRedis": REDIS,
    "redis.from_url": REDIS,
    "redis.asyncio.Redis": ASYNC_REDIS,
    "redis.asyncio.StrictRedis": ASYNC_REDIS,
    "redis.asyncio.from_url": ASYNC_REDIS,
    "aioredis.Redis": ASYNC_REDIS,
    "aioredis.from_url": ASYNC_REDIS,
    "redis.ConnectionPool": REDIS_POOL,
    "redis.asyncio.ConnectionPool": REDIS_POOL,
    "redis.BlockingConnectionPool": REDIS_BLOCKING_POOL,
    "redis.asyncio.BlockingConnectionPool": REDIS_BLOCKING_POOL,
    "httpx.Client": HTTP_CLIENT,
    "httpx.AsyncClient": ASYNC_HTTP_CLIENT,
    "requests.Session": HTTP_CLIENT,
    "requests.session": HTTP_CLIENT,
    "urllib3.PoolManager": URLLIB3_POOL,
    "urllib3.ProxyManager": URLLIB3_POOL,
    "urllib3.HTTPConnectionPool": URLLIB3_POOL,
    "urllib3.HTTPSConnectionPool": URLLIB3_POOL,
    "urllib3.connection_from_url": URLLIB3_POOL,
    "urllib3.proxy_from_url": URLLIB3_POOL,
    "pathlib.Path": PATH,
    "pathlib.PosixPath": PATH,
    "pathlib.WindowsPath": PATH,
    "aiohttp.ClientSession": ASYNC_HTTP_CLIENT,
    "http.client.HTTPConnection": HTTP_CONN,
    "http.client.HTTPSConnection": HTTP_CONN,
    "httpx.Timeout": HTTP_TIMEOUT,
    "aiohttp.ClientTimeout": HTTP_TIMEOUT,
    "threading.Lock": THREAD_LOCK,
    "threading.RLock": THREAD_LOCK,
    "threading.Semaphore": THREAD_LOCK,
    "threading.BoundedSemaphore": THREAD_LOCK,
    "threading.Condition": THREAD_LOCK,
    "multiprocessing.Lock": THREAD_LOCK,
    "asyncio.Lock": ASYNC_LOCK,
    "asyncio.Semaphore": ASYNC_LOCK,
    "asyncio.BoundedSemaphore": ASYNC_LOCK,
    "asyncio.Condition": ASYNC_LOCK,
    "anyio.Lock": ASYNC_LOCK,
    "anyio.Semaphore": ASYNC_LOCK,
    "passlib.context.CryptContext": HASHER,
    "argon2.PasswordHasher": HASHER,
    "fastapi.FastAPI": FASTAPI,
    "fastapi.APIRouter": ROUTER,
    "flask.Flask": FLASK,
    "flask.Blueprint": BLUEPRINT,
    "collections.defaultdict": DEFAULTDICT,
    "dict": MUTABLE,
    "list": MUTABLE,
    "set": MUTABLE,
    "collections.OrderedDict": MUTABLE,
    "collections.Counter": MUTABLE,
    "collections.deque": MUTABLE,
}

#: Type annotations that name a kind (``db: Session``, ``conn: asyncpg.Connection``).
ANNOTATIONS: dict[str, str] = {
    "sqlalchemy.orm.Session": SESSION,
    "sqlalchemy.orm.session.Session": SESSION,
    "sqlmodel.Session": SESSION,
    "sqlalchemy.ext.asyncio.AsyncSession": ASYNC_SESSION,
    "sqlmodel.ext.asyncio.session.AsyncSession": ASYNC_SESSION,
    "sqlalchemy.engine.Engine": ENGINE,
    "sqlalchemy.Engine": ENGINE,
    "sqlalchemy.engine.Connection": SA_CONN,
    "sqlalchemy.Connection": SA_CONN,
    "sqlalchemy.ext.asyncio.AsyncEngine": ASYNC_ENGINE,
    "sqlalchemy.ext.asyncio.AsyncConnection": ASYNC_SA_CONN,
    "asyncpg.Connection": ASYNCPG_CONN,
    "asyncpg.connection.Connection": ASYNCPG_CONN,
    "asyncpg.Pool": ASYNCPG_POOL,
    "asyncpg.pool.Pool": ASYNCPG_POOL,
    "psycopg.Connection": DBAPI_CONN,
    "psycopg.AsyncConnection": ASYNC_DBAPI_CONN,
    "sqlite3.Connection": DBAPI_CONN,
    "redis.Redis": REDIS,
    "redis.asyncio.Redis": ASYNC_REDIS,
    "httpx.Client": HTTP_CLIENT,
    "httpx.AsyncClient": ASYNC_HTTP_CLIENT,
    "requests.Session": HTTP_CLIENT,
    "aiohttp.ClientSession": ASYNC_HTTP_CLIENT,
    "urllib3.PoolManager": URLLIB3_POOL,
    "urllib3.ProxyManager": URLLIB3_POOL,
    "urllib3.HTTPConnectionPool": URLLIB3_POOL,
    "urllib3.HTTPSConnectionPool": URLLIB3_POOL,
    "urllib3.connectionpool.ConnectionPool": URLLIB3_POOL,
    "urllib3.connectionpool.HTTPConnectionPool": URLLIB3_POOL,
    "urllib3.connectionpool.HTTPSConnectionPool": URLLIB3_POOL,
    "urllib3.poolmanager.PoolManager": URLLIB3_POOL,
    "urllib3.poolmanager.ProxyManager": URLLIB3_POOL,
    "urllib3.request.RequestMethods": URLLIB3_POOL,
    "urllib3._request_methods.RequestMethods": URLLIB3_POOL,
    "pathlib.Path": PATH,
}
#: Libraries published under another name with the same API (httpx2 continues httpx).
ALIASES = {"httpx2": "httpx"}

#: (kind, method) -> the kind of what the method returns (``engine.connect()`` is a connection).
METHOD_RESULTS: dict[tuple[str, str], str] = {
    (SESSIONMAKER, "__call__"): SESSION,
    (SESSIONMAKER, "begin"): SESSION,
    (ASYNC_SESSIONMAKER, "__call__"): ASYNC_SESSION,
    (ASYNC_SESSIONMAKER, "begin"): ASYNC_SESSION,
    (ENGINE, "connect"): SA_CONN,
    (ENGINE, "begin"): SA_CONN,
    (ENGINE, "raw_connection"): DBAPI_CONN,
    (ASYNC_ENGINE, "connect"): ASYNC_SA_CONN,
    (ASYNC_ENGINE, "begin"): ASYNC_SA_CONN,
    (DBAPI_CONN, "cursor"): DBAPI_CURSOR,
    (ASYNCPG_POOL, "acquire"): ASYNCPG_CONN,
    (DB_POOL, "getconn"): DBAPI_CONN,
    (DB_POOL, "connection"): DBAPI_CONN,
}

#: Methods that run a statement (and so check a connection out of the pool).
DB_QUERY_METHODS = frozenset({
    "execute", "executemany", "scalars", "scalar", "get", "get_one", "query", "flush", "refresh", "merge",
    "fetch", "fetchrow", "fetchval", "fetchone", "fetchall", "fetchmany", "stream", "stream_scalars",
    "copy_records_to_table", "copy_from_query", "run_sync",
})
#: Methods that hand a session's or connection's database connection back.
DB_RELEASE_METHODS = frozenset({"close", "commit", "rollback", "release", "aclose", "putconn"})
#: Methods that end a session's or connection's life (for "closed on every path").
DB_CLOSE_METHODS = frozenset({"close", "aclose", "release", "terminate", "dispose"})

#: Redis client methods that are not commands (no round trip to the server).
REDIS_NON_COMMANDS = frozenset({"pipeline", "close", "aclose", "connection_pool", "lock", "pubsub", "register_script",
                                "get_connection_kwargs", "get_encoder", "from_url", "client"})

HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"})
#: HTTP request methods, as the first argument of urllib3's ``request(method, url)`` names them.
HTTP_METHOD_NAMES = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT"})
#: Methods of a sync HTTP client (``httpx.Client``, ``requests.Session``) that do network I/O.
SYNC_CLIENT_METHODS = HTTP_VERBS | {"close"}
#: urllib3 methods whose first argument is the HTTP method.
URLLIB3_REQUEST_METHODS = frozenset({"request", "urlopen", "request_encode_url", "request_encode_body"})
#: Module-level request functions (a new connection per call; ``httpx.get`` has a 5 s default timeout).
HTTP_FUNCTIONS = frozenset({f"requests.{v}" for v in HTTP_VERBS - {"send", "stream"}}
                           | {f"httpx.{v}" for v in HTTP_VERBS - {"send"}}
                           | {"urllib.request.urlopen", "urllib3.request"})

_SYNC_HTTP = "makes a synchronous HTTP request"
_WAITS_FOR_PROCESS = "runs a subprocess and waits for it"
_SPAWNS = "spawns a process (and with os.P_WAIT waits for it)"
#: What blocking file I/O is called in messages (and how TH101 tells it from heavier blocking).
FILE_IO = "blocking file I/O"
#: Calls that block the calling thread, by dotted name, with what they are (for the message).
BLOCKING_CALLS: dict[str, str] = {
    "time.sleep": "sleeps",
    "urllib.request.urlopen": _SYNC_HTTP,
    "urllib3.request": _SYNC_HTTP,
    "bcrypt.hashpw": "hashes a password with bcrypt (~100-300 ms of CPU)",
    "bcrypt.checkpw": "checks a password with bcrypt (~100-300 ms of CPU)",
    "bcrypt.kdf": "derives a key with bcrypt (CPU-bound)",
    "hashlib.pbkdf2_hmac": "derives a key with PBKDF2 (CPU-bound by design)",
    "hashlib.scrypt": "derives a key with scrypt (CPU- and memory-bound by design)",
    "subprocess.run": _WAITS_FOR_PROCESS,
    "subprocess.call": _WAITS_FOR_PROCESS,
    "subprocess.check_call": _WAITS_FOR_PROCESS,
    "subprocess.check_output": _WAITS_FOR_PROCESS,
    "subprocess.getoutput": _WAITS_FOR_PROCESS,
    "subprocess.getstatusoutput": _WAITS_FOR_PROCESS,
    "subprocess.Popen": "starts a subprocess (fork and exec on the loop's thread)",
    "os.system": "runs a shell command and waits for it",
    "os.popen": "runs a shell command",
    "os.posix_spawn": "spawns a process",
    "os.posix_spawnp": "spawns a process",
    **{f"os.spawn{v}": _SPAWNS for v in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")},
    **{f"os.{w}": "waits for a child process" for w in ("wait", "wait3", "wait4", "waitid", "waitpid")},
    "open": f"opens a file ({FILE_IO})",
    "io.open": f"opens a file ({FILE_IO})",
    "io.open_code": f"opens a file ({FILE_IO})",
    "os.fdopen": f"opens a file object ({FILE_IO})",
    **{f"shutil.{f}": f"copies or removes files ({FILE_IO})"
       for f in ("copyfile", "copy", "copy2", "copytree", "rmtree", "move")},
    "socket.create_connection": "opens a blocking socket",
    "psycopg.connect": "connects to the database with a synchronous driver",
    "psycopg2.connect": "connects to the database with a synchronous driver",
    "sqlite3.connect": "opens a database with a synchronous driver",
    "pymysql.connect": "connects to the database with a synchronous driver",
    "MySQLdb.connect": "connects to the database with a synchronous driver",
    "mysql.connector.connect": "connects to the database with a synchronous driver",
}
#: Calls that make an async file of a sync one (anyio runs on asyncio): the ``open()`` given is not flagged.
FILE_WRAPPERS = frozenset({"anyio.wrap_file", "trio.wrap_file"})
#: Method names of ``pathlib.Path`` that do blocking file I/O (specific enough to match on any object).
BLOCKING_PATH_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes"})
#: Methods of a known ``pathlib.Path`` that read or write a file.
PATH_IO_METHODS = BLOCKING_PATH_METHODS | {"open"}
#: Methods of a password hasher (passlib's CryptContext, argon2's PasswordHasher) that do the work.
HASHER_METHODS = frozenset({"hash", "verify", "verify_and_update", "encrypt", "needs_update"})
#: Project-independent callables known to be coroutine functions.
ASYNC_FUNCTIONS = frozenset({"asyncio.sleep", "asyncio.wait_for", "asyncio.gather", "asyncio.wait",
                             "asyncio.to_thread", "asyncpg.connect", "asyncpg.create_pool", "anyio.sleep"})
#: Methods that are coroutines on async kinds (a call without ``await`` never runs).
ASYNC_METHODS: dict[str, frozenset[str]] = {
    ASYNC_SESSION: frozenset({"execute", "scalars", "scalar", "get", "get_one", "flush", "refresh", "merge", "commit",
                              "rollback", "close", "delete", "stream", "stream_scalars", "run_sync", "invalidate"}),
    ASYNC_SA_CONN: frozenset({"execute", "scalars", "scalar", "commit", "rollback", "close", "stream", "run_sync"}),
    ASYNCPG_CONN: frozenset({"execute", "executemany", "fetch", "fetchrow", "fetchval", "close",
                             "copy_records_to_table"}),
    ASYNCPG_POOL: frozenset({"execute", "executemany", "fetch", "fetchrow", "fetchval", "close", "release"}),
    ASYNC_DBAPI_CONN: frozenset({"execute", "commit", "rollback", "close"}),
    ASYNC_ENGINE: frozenset({"dispose"}),
    ASYNC_HTTP_CLIENT: frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "send",
                                  "aclose", "close"}),
}
#: Calls that create many coroutines at once; a session passed to two of them is shared.
GATHER_CALLS = frozenset({"asyncio.gather", "asyncio.wait", "asyncio.as_completed"})
#: Decorators that make a function run once (a client made inside is not made per request).
CACHING_DECORATORS = frozenset({"functools.cache", "functools.lru_cache", "functools.cached_property", "cache",
                                "lru_cache"})
#: Loader options of SQLAlchemy and whether they load a relationship eagerly.
LOADER_OPTIONS: dict[str, bool] = {
    "selectinload": True, "joinedload": True, "subqueryload": True, "immediateload": True, "contains_eager": True,
    "lazyload": False, "raiseload": True, "noload": True, "defaultload": False,
}
#: ``relationship(lazy=...)`` values that load eagerly (or refuse to load lazily).
EAGER_LAZY = frozenset({"selectin", "joined", "subquery", "immediate", "raise", "raise_on_sql", "noload", "write_only",
                        "dynamic"})
#: Statuses and their constants meaning "too many requests".
TOO_MANY_REQUESTS = frozenset({"HTTP_429_TOO_MANY_REQUESTS", "TOO_MANY_REQUESTS"})

#: Default keep-alive timeouts of common Python servers (seconds): the smallest is what a client
#: pool must stay under when the server's own setting is not in the reviewed tree.
SERVER_KEEPALIVE_DEFAULTS = {"gunicorn": 2.0, "uvicorn": 5.0, "hypercorn": 5.0}


def canonical(qualname: str) -> str:
    """The dotted name under the library these tables know it by (``httpx2.Client`` → ``httpx.Client``)."""
    head, dot, rest = qualname.partition(".")
    return f"{ALIASES[head]}{dot}{rest}" if head in ALIASES else qualname


@functools.lru_cache(maxsize=8192)
def kind_of_constructor(qualname: str) -> str | None:
    """The kind a call to ``qualname`` makes, also under the library's internal module paths."""
    qualname = canonical(qualname)
    if qualname in CONSTRUCTORS:
        return CONSTRUCTORS[qualname]
    parts = qualname.split(".")
    if parts[-1] in ("from_url", "connect") and len(parts) > 2:
        hit = CONSTRUCTORS.get(".".join(parts[:-1]))
        if hit is not None:
            return hit
    if len(parts) > 2:
        # ``sqlalchemy.orm.session.Session``, ``redis.asyncio.client.Redis``: the package and the name.
        root, last = parts[0], parts[-1]
        if "asyncio" in parts[1:-1]:
            hit = CONSTRUCTORS.get(f"{root}.asyncio.{last}")
            if hit is not None:
                return hit
        for name, kind in CONSTRUCTORS.items():
            p = name.split(".")
            if p[0] == root and p[-1] == last and ("asyncio" in p) == ("asyncio" in parts):
                return kind
    return None


def library_heads() -> frozenset[str]:
    """The top-level packages of the libraries these tables know (``sqlalchemy``, ``redis``, ``httpx`` …)."""
    names = [*CONSTRUCTORS, *ANNOTATIONS, *BLOCKING_CALLS, *HTTP_FUNCTIONS, *ASYNC_FUNCTIONS, *GATHER_CALLS]
    frameworks = {"fastapi", "starlette", "flask", "django", "passlib"}
    return frozenset(n.split(".")[0] for n in names if "." in n) | frameworks


def blocking_reason(qualname: str) -> str | None:
    """Why a call to ``qualname`` blocks, or None."""
    qualname = canonical(qualname)
    if qualname in BLOCKING_CALLS:
        return BLOCKING_CALLS[qualname]
    if qualname in HTTP_FUNCTIONS and not qualname.startswith("httpx."):
        return _SYNC_HTTP
    verb = qualname.rsplit(".", maxsplit=1)[-1]
    if qualname.startswith("httpx.") and verb in HTTP_VERBS and qualname.count(".") == 1:
        return _SYNC_HTTP
    if qualname.startswith("passlib.") and qualname.rsplit(".", maxsplit=1)[-1] in HASHER_METHODS:
        return "hashes a password with passlib (CPU-bound by design)"
    if qualname.startswith("subprocess.Popen"):
        return "starts a subprocess"
    return None
