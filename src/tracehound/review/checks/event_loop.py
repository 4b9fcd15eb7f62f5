"""Rules about the event loop: work that blocks it, coroutines that never run, locks held across
``await``, and ORM attributes read after they expired (TH101–TH105)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import UNKNOWN, Function, Kind, Project
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import dotted, has_await, keyword, pos, walk

#: How many calls deep TH101 follows sync helpers from a coroutine (handler → service → repository → helper …).
REACH = 6


@Rule(
    code="TH101", name="blocking-call-in-async", signal="code:blocking_call_in_async", links=("event_loop_blocking",),
    severity="error", confidence=0.9,
    summary="A call that blocks the thread (sleep, sync I/O, password hashing, subprocess) runs inside `async def`.",
    what="""
        Flags calls inside an `async def` that block the calling thread. It knows, by the name a call
        resolves to through the imports (so `from time import sleep` counts):

        - HTTP clients: `requests` functions and `Session` methods, `httpx`/`httpx2` module functions
          and `Client` methods, `urllib.request.urlopen`, `urllib3.request` and every method of a
          urllib3 pool (`PoolManager`, `HTTPConnectionPool` …), `http.client` connections, and
          `x.request("GET", …)` on an unknown object in a module that imports urllib3;

        - processes: `subprocess.run`/`call`/`check_call`/`check_output`/`getoutput`/`Popen`,
          `os.system`, `os.popen`, `os.posix_spawn`, `os.spawn*` and `os.wait*`;

        - file I/O: `open`, `io.open`, `io.open_code`, `os.fdopen`, `shutil` copies and removals,
          and `pathlib.Path` reads and writes (`read_text`, `write_bytes`, `open` …), reported with
          less confidence (a small local file is often fast);

        - `time.sleep`; synchronous database drivers and a sync SQLAlchemy `Session`; a sync Redis
          client; bcrypt, passlib and argon2 hashing, `hashlib.pbkdf2_hmac` and `scrypt`; a
          `threading` lock's `acquire`.

        A sync function of the project called from the coroutine counts too, followed up to six calls
        deep across modules: a helper, a method of a service object (built in place, kept at module
        level, or provided by `Depends`), an `async def` dependency's helpers. Calls handed to
        `run_in_executor` or `asyncio.to_thread`, a file opened into `anyio.wrap_file`, and calls that
        are awaited (so not the sync function of that name), pass; so do sync endpoints and sync
        dependencies, which frameworks run in a thread pool. Together this covers flake8-async's
        blocking-call rules for asyncio code (ASYNC210, 211, 212, 220, 221, 222, 230, 231 and 251),
        and follows the calls they cannot.""",
    why="""
        An event loop runs one thing at a time. While a coroutine blocks, no other request of the
        process makes progress: a 250 ms bcrypt check stalls every request of the worker for 250 ms,
        and ten sign-ins at once stall them for 2.5 s. Alone, each request is fine; under concurrency
        cheap endpoints queue behind the blocking one, pass the gateway's timeout and fail with 504,
        while CPU and database look idle.""",
    example="""
        @app.post("/login")
        async def login(body: Credentials):
            user = USERS[body.email]
            if not bcrypt.checkpw(body.password.encode(), user.hash):
                raise HTTPException(401)
        """,
    fix="""
        Run the blocking work in a thread (`asyncio.to_thread`, or `run_in_executor` on a pool sized
        to the cores for CPU work), use the async counterpart (`httpx.AsyncClient`, `asyncpg`,
        `AsyncSession`, `redis.asyncio`, `asyncio.create_subprocess_exec`, `await asyncio.sleep`,
        `aiofiles` or `anyio.Path` for files), or make the endpoint a plain `def` so that the framework
        runs it in its thread pool.""",
    fixed="""
        @app.post("/login")
        async def login(body: Credentials):
            user = USERS[body.email]
            ok = await asyncio.to_thread(bcrypt.checkpw, body.password.encode(), user.hash)
            if not ok:
                raise HTTPException(401)
        """,
    references=(("asyncio: running blocking code", "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code"),
                ("FastAPI: async def or def", "https://fastapi.tiangolo.com/async/"),
                ("flake8-async: blocking sync calls (ASYNC2xx)", "https://flake8-async.readthedocs.io/en/latest/rules.html#blocking-sync-calls-in-async-functions")),
)
def blocking_call_in_async(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if not fn.is_async or project.startup_only(fn):
            continue  # at start-up no request is waiting yet
        awaited = {id(n.value) for n in fn.nodes if isinstance(n, ast.Await)}
        wrapped = {id(n.args[0]) for n in fn.nodes if isinstance(n, ast.Call) and len(n.args) == 1
                   and (dotted(n.func) or "").endswith("wrap_file")
                   and project.qualify(n.func, fn) in apis.FILE_WRAPPERS}
        for node in fn.nodes:
            if not isinstance(node, ast.Call) or id(node) in awaited or id(node) in wrapped:
                continue  # what is awaited returns an awaitable: it is not the sync call of that name
            found = calls.through(project, node, fn, calls.blocking, depth=REACH, sync_only=True)
            if found is None:
                continue
            reason, chain = found
            light = apis.FILE_IO in reason
            if chain:
                msg = (f"{calls.chain_text(chain)} is sync and {reason}; called from async def {fn.name}(), "
                       "it blocks the event loop and every other request of the process waits")
            else:
                msg = f"{reason} inside async def {fn.name}(): the event loop, and every other request, waits for it"
            yield Hit(node, fn, msg, confidence=0.5 if light else None)


@Rule(
    code="TH102", name="coroutine-never-awaited", signal="code:coroutine_not_awaited",
    links=("connection_leak", "read_after_write", "race_condition"), severity="error", confidence=0.85,
    summary="A coroutine is called without `await`: it never runs (a commit, a close, a write silently skipped).",
    what="""
        Flags a call to a coroutine function used as a statement without `await`: the project's own
        `async def` functions, and the coroutine methods of async sessions, asyncpg connections and
        async HTTP clients (`session.commit()`, `session.close()`, `conn.execute(...)`).""",
    why="""
        Calling a coroutine function only creates the coroutine; nothing runs until it is awaited.
        A forgotten `await session.commit()` loses the write (a later read misses it); a forgotten
        `await session.close()` leaks the pooled connection until the garbage collector finds it, so
        the pool runs dry after enough requests. Python only warns "coroutine was never awaited" in the
        log, if anyone reads it.""",
    example="""
        async def rename(item_id: int, name: str, db: AsyncSession = Depends(get_db)):
            item = await db.get(Item, item_id)
            item.name = name
            db.commit()
        """,
    fix="Await it, or schedule it explicitly with `asyncio.create_task` and keep a reference to the task.",
    fixed="""
        async def rename(item_id: int, name: str, db: AsyncSession = Depends(get_db)):
            item = await db.get(Item, item_id)
            item.name = name
            await db.commit()
        """,
    references=(("asyncio: detect never-awaited coroutines", "https://docs.python.org/3/library/asyncio-dev.html#detect-never-awaited-coroutines"),),
)
def coroutine_never_awaited(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        for node in fn.nodes:
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
                continue
            call = node.value
            what = _coroutine(project, call, fn)
            if what is not None:
                yield Hit(call, fn, f"{what} is a coroutine called without await: it never runs")


def _coroutine(project: Project, call: ast.Call, fn: Function) -> str | None:
    q = project.qualify(call.func, fn)
    if q in apis.ASYNC_FUNCTIONS:
        return f"{q}()"
    target = project.callee(call, fn)
    if target is not None:
        return target.label if target.is_async and not target.is_generator else None
    if isinstance(call.func, ast.Attribute):
        k = calls.receiver(project, call, fn)
        if k is not None and call.func.attr in apis.ASYNC_METHODS.get(k.name, ()):
            return f".{call.func.attr}() of {calls.words(k)}"
    return None


@Rule(
    code="TH103", name="thread-lock-across-await", signal="code:thread_lock_across_await",
    links=("lock_contention", "event_loop_blocking"), severity="error", confidence=0.85,
    summary="A `threading` lock is held across an `await`.",
    what=("Flags a `with` block on a `threading.Lock` (or RLock, Semaphore, Condition) inside `async def` "
          "whose body awaits."),
    why="""
        A threading lock blocks the whole thread when it is taken. All coroutines of the loop share
        that thread: when a second request reaches the lock while the first is suspended at the
        `await` inside it, the second blocks the loop, and the first can never resume to release it.
        The process hangs until something times out; under low load the overlap is rare, so it looks
        random.""",
    example="""
        _lock = threading.Lock()

        async def bump(key: str):
            with _lock:
                value = await redis.get(key)
                await redis.set(key, int(value or 0) + 1)
        """,
    fix=("Use an `asyncio.Lock` (or an atomic operation of the store, such as `INCR`), and keep the critical "
         "section short."),
    fixed="""
        _lock = asyncio.Lock()

        async def bump(key: str):
            await redis.incr(key)
        """,
)
def thread_lock_across_await(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if not fn.is_async:
            continue
        for node in fn.nodes:
            if isinstance(node, ast.With) and has_await(node.body):
                for item in node.items:
                    k = project.kind(item.context_expr, fn)
                    if k is not None and k.name == apis.THREAD_LOCK:
                        yield Hit(item.context_expr, fn, f"threading lock {ast.unparse(item.context_expr)} is held "
                                  "across an await: a second request reaching it blocks the event loop "
                                  "(and the holder)")


@Rule(
    code="TH104", name="lock-held-across-io", signal="code:lock_held_across_io", links=("lock_contention",),
    severity="warning", confidence=0.8,
    summary="An in-process lock is held while the request queries the database or calls another service.",
    what="""
        Flags a `with`/`async with` block that holds a lock — an `asyncio` or `threading` lock, or a
        context manager of the project that acquires one (a per-key lock helper) — and inside it runs
        a database statement, a Redis command, an HTTP call or a sleep. The acquire timeout, when the
        helper has one, is reported with it.""",
    why="""
        The lock serialises every request for the same key, and the I/O inside sets how long each
        one holds it: 25 ms of queries under the lock means at most 40 requests per second for that
        key, whatever the hardware. When traffic concentrates on one key (a launch, a popular item),
        requests queue behind the lock; with an acquire timeout they fail ("could not lock"), without
        one they time out upstream. Alone, every request succeeds.""",
    example="""
        async def reserve(body: ReservationIn):
            async with sku_locks.hold(body.sku), pool.acquire() as conn:
                stock = await conn.fetchval("SELECT available FROM stock WHERE sku = $1", body.sku)
                if stock < body.qty:
                    raise HTTPException(409)
                await conn.execute("UPDATE stock SET available = $2 WHERE sku = $1", body.sku, stock - body.qty)
        """,
    fix="""
        Let the database serialise on the row, briefly: one atomic statement (`UPDATE … SET n = n - $2
        WHERE … AND n >= $2 RETURNING n`) or `SELECT … FOR UPDATE` in a short transaction, with the
        slow checks done before it and outside any lock.""",
    fixed="""
        async def reserve(body: ReservationIn):
            async with pool.acquire() as conn:
                left = await conn.fetchval(
                    "UPDATE stock SET available = available - $2 WHERE sku = $1 AND available >= $2 RETURNING available",
                    body.sku, body.qty)
            if left is None:
                raise HTTPException(409)
        """,  # noqa: E501 - the example is printed as written
)
def lock_held_across_io(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if not project.on_request_path(fn):
            continue  # contention is about requests waiting for each other
        for node in fn.nodes:
            if not isinstance(node, (ast.With, ast.AsyncWith)):
                continue
            for i, item in enumerate(node.items):
                lock = _lock_context(project, item.context_expr, fn)
                if lock is None:
                    continue
                inside: list[ast.AST] = [it.context_expr for it in node.items[i + 1:]] + list(node.body)
                for call in (n for n in walk(inside) if isinstance(n, ast.Call)):
                    found = calls.through(project, call, fn, calls.io, depth=2)
                    if found is not None:
                        timeout = f" (and gives up after {lock[1]})" if lock[1] else ""
                        yield Hit(item.context_expr, fn,
                                  f"the lock taken by {ast.unparse(item.context_expr)}{timeout} is held while "
                                  f"{ast.unparse(call.func)}() {found[0]} (line {call.lineno}): requests for the same "
                                  "key wait for that I/O one after another")
                        break
                break


def _lock_context(project: Project, expr: ast.expr, fn: Function) -> tuple[str, str] | None:
    """(what, acquire timeout text) when the context manager holds a lock, else None."""
    k = project.kind(expr, fn)
    if k is not None and k.name in (apis.ASYNC_LOCK, apis.THREAD_LOCK):
        return ast.unparse(expr), ""
    if not isinstance(expr, ast.Call):
        return None
    target = project.callee(expr, fn)
    if target is None:
        k = project.kind(expr, fn)
        if k is not None and k.name == apis.OBJECT and k.cls is not None:
            target = project.method(k.cls, "__aenter__") or project.method(k.cls, "__enter__")
    if target is None:
        return None
    acquires = [n for n in target.nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr == "acquire"]
    if not acquires:
        return None
    timeout = ""
    for n in target.nodes:
        if isinstance(n, ast.Call) and (project.qualify(n.func, target) or "").endswith("wait_for"):
            t = keyword(n, "timeout") or (n.args[1] if len(n.args) > 1 else None)
            v = _attribute_value(project, t, target)
            if isinstance(v, (int, float)):
                timeout = f"{v * 1000:g} ms" if v < 1 else f"{v:g} s"
    return ast.unparse(expr), timeout


def _attribute_value(project: Project, expr: ast.AST | None, fn: Function) -> object:
    """A constant behind ``self.x``: the value given to the constructor parameter it was set from."""
    v = project.value(expr, fn)
    if v is not UNKNOWN or not (isinstance(expr, ast.Attribute) and fn.cls is not None):
        return v
    for b in project.class_attr(fn.cls, expr.attr):
        if isinstance(b.value, ast.Name) and isinstance(b.scope, Function) and b.scope.name == "__init__":
            param = b.value.id
            for m in project.modules:
                for call in (n for n in ast.walk(m.tree) if isinstance(n, ast.Call)):
                    if project.resolve(call.func, m) is fn.cls:
                        given = keyword(call, param)
                        if given is not None:
                            return project.value(given, m)
    return v


@Rule(
    code="TH105", name="expired-attribute-after-commit", signal="code:expired_attribute_after_commit",
    links=("n_plus_one",), severity="error", confidence=0.8,
    summary="An ORM object's attributes are read after `await session.commit()` expired them (MissingGreenlet).",
    what="""
        In `async def`, flags reading an attribute of an ORM object (or returning the object to be
        serialised) after `await session.commit()` on an `AsyncSession` whose factory keeps the default
        `expire_on_commit=True`, with no `await session.refresh(obj)` in between.""",
    why="""
        Commit expires every loaded attribute; the next read must load it again, which an async
        session cannot do implicitly: SQLAlchemy raises `MissingGreenlet` ("greenlet_spawn has not been
        called"), answered 500. It fails only on the code paths that read after a commit, which is why
        it looks intermittent from outside.""",
    example="""
        async def create(body: ItemIn, db: AsyncSession = Depends(get_db)):
            item = Item(name=body.name)
            db.add(item)
            await db.commit()
            return {"id": item.id, "name": item.name}
        """,
    fix="Create the session factory with `expire_on_commit=False`, or `await db.refresh(item)` after the commit.",
    fixed="""
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

        async def create(body: ItemIn, db: AsyncSession = Depends(get_db)):
            item = Item(name=body.name)
            db.add(item)
            await db.commit()
            return {"id": item.id, "name": item.name}
        """,
    references=(("SQLAlchemy asyncio: preventing implicit IO", "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession"),),
)
def expired_attribute_after_commit(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if not fn.is_async:
            continue
        nodes = list(fn.nodes)
        for commit in nodes:
            if not (isinstance(commit, ast.Await) and isinstance(commit.value, ast.Call)
                    and isinstance(commit.value.func, ast.Attribute) and commit.value.func.attr == "commit"
                    and isinstance(commit.value.func.value, ast.Name)):
                continue
            session = commit.value.func.value.id
            k = project.kind(commit.value.func.value, fn)
            if k is None or k.name != apis.ASYNC_SESSION or not _expires_on_commit(project, k):
                continue
            at = pos(commit)
            loaded = _objects_of(project, nodes, session, fn, at)
            refreshed = {n.value.args[0].id for n in nodes if isinstance(n, ast.Await) and isinstance(n.value, ast.Call)
                         and isinstance(n.value.func, ast.Attribute) and n.value.func.attr == "refresh"
                         and n.value.args and isinstance(n.value.args[0], ast.Name) and pos(n) > at}
            for name in sorted(loaded - refreshed):
                use = _first_read_after(nodes, name, at)
                if use is not None:
                    yield Hit(use, fn, f"{name} was expired by {session}.commit() at line {commit.lineno}; reading it "
                              "again needs implicit I/O, which an AsyncSession refuses (MissingGreenlet)")


def _expires_on_commit(project: Project, k: Kind | None) -> bool:
    """Whether the session's factory (or constructor) leaves ``expire_on_commit`` at its default True."""
    seen = 0
    while k is not None and seen < 4:
        origin, scope = k.origin, k.scope
        if origin is not None and scope is not None:  # a kind made by a call knows the scope of the call
            v = keyword(origin, "expire_on_commit")
            if v is not None:
                return project.value(v, scope) is not False
            q = project.qualify(origin.func, scope) or ""
            if apis.kind_of_constructor(q) in (apis.ASYNC_SESSIONMAKER, apis.ASYNC_SESSION):
                return True
        k = k.inner
        seen += 1
    return False


def _objects_of(project: Project, nodes: list[ast.AST], session: str, fn: Function,
                before: tuple[int, int]) -> set[str]:
    out = set()
    for n in nodes:
        if pos(n) >= before:
            continue
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add" \
                and isinstance(n.func.value, ast.Name) and n.func.value.id == session \
                and n.args and isinstance(n.args[0], ast.Name):
            out.add(n.args[0].id)
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            k = project.kind(n.value, fn)
            if k is not None and k.name == apis.MODEL:
                out.add(n.targets[0].id)
    return out


def _first_read_after(nodes: list[ast.AST], name: str, at: tuple[int, int]) -> ast.AST | None:
    for n in nodes:
        if pos(n) <= at:
            continue
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and isinstance(n.value, ast.Name) \
                and n.value.id == name:
            return n
        if isinstance(n, ast.Return) and isinstance(n.value, ast.Name) and n.value.id == name:
            return n
    return None
