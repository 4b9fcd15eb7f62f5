"""Rules about database sessions and connections and the clients of other services: closed on
every path, made once rather than per request, never shared between requests, and not held
while the request waits on something else (TH201, TH202, TH206, TH207)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import Function, Kind, Project, Scope
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import pos, within


def _created(project: Project, value: ast.expr, scope: Scope) -> Kind | None:
    """The connection kind when ``value`` makes a new session or connection (not an alias of one)."""
    call = value.value if isinstance(value, ast.Await) else value
    if not isinstance(call, ast.Call):
        return None
    k = project.kind(value, scope)
    return k if k is not None and k.name in apis.CONNECTIONS and k.origin is call else None


def _is_name(expr: ast.AST | None, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


@Rule(
    code="TH201", name="session-not-closed", signal="code:session_not_closed",
    links=("connection_leak", "db_pool_exhaustion"), severity="error", confidence=0.9,
    summary="A session or connection is opened by hand and not closed on every path.",
    what="""
        Flags a database session or connection created in a function (`SessionLocal()`,
        `engine.connect()`, `await pool.acquire()`, `psycopg.connect()`) that is neither used as a
        context manager, nor provided by a dependency, nor closed in a `finally`: never closed, or
        closed only at the end of the normal path while an early `return` or `raise` skips it.""",
    why="""
        Each open session keeps its pooled connection checked out. A path that skips the close — the
        404 branch, the "nothing to show" early return, any exception — leaks one connection per
        request that takes it, until the garbage collector happens to reclaim it. After enough such
        requests the pool is empty and every request waits for the pool timeout and fails
        (`QueuePool limit … reached`), even at low load; a restart "fixes" it for a while.""",
    example="""
        @app.get("/tasks")
        async def list_tasks(assignee: str):
            db = SessionLocal()
            user = await db.scalar(select(User).where(User.name == assignee))
            if user is None:
                raise HTTPException(404)
            rows = (await db.scalars(select(Task).where(Task.assignee_id == user.id))).all()
            await db.close()
            return rows
        """,
    fix=("Take the session from a `yield` dependency that opens it with `async with`/`with`, or open it with "
         "`with` yourself."),
    fixed="""
        async def get_db():
            async with SessionLocal() as session:
                yield session

        @app.get("/tasks")
        async def list_tasks(assignee: str, db: AsyncSession = Depends(get_db)):
            user = await db.scalar(select(User).where(User.name == assignee))
            if user is None:
                raise HTTPException(404)
            return (await db.scalars(select(Task).where(Task.assignee_id == user.id))).all()
        """,
    references=(("FastAPI: dependencies with yield", "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/"),
                ("SQLAlchemy: session basics, opening and closing", "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#opening-and-closing-a-session")),
)
def session_not_closed(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        nodes = list(fn.nodes)
        for n in nodes:
            if not (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)):
                continue
            k = _created(project, n.value, fn)
            if k is None:
                continue
            name, created = n.targets[0].id, pos(n)
            hit = _unclosed(nodes, name, created, fn, calls.words(k))
            if hit is not None:
                yield Hit(n.value, fn, hit[0], confidence=hit[1])


def _unclosed(nodes: list[ast.AST], name: str, created: tuple[int, int], fn: Function,
              what: str) -> tuple[str, float] | None:
    after = [n for n in nodes if pos(n) > created]
    closes: list[ast.Call] = []
    passed = yielded = False
    for n in after:
        if isinstance(n, (ast.With, ast.AsyncWith)) and any(_is_name(i.context_expr, name) for i in n.items):
            return None
        if isinstance(n, ast.Return) and _is_name(n.value, name):
            return None
        if isinstance(n, ast.Assign) and _is_name(n.value, name) \
                and not all(isinstance(t, ast.Name) for t in n.targets):
            return None  # stored on an object or in a container: its owner closes it
        if isinstance(n, (ast.Yield, ast.YieldFrom)) and _is_name(n.value, name):
            yielded = True
        if isinstance(n, ast.Call):
            f = n.func
            closes_it = isinstance(f, ast.Attribute) and _is_name(f.value, name) and f.attr in apis.DB_CLOSE_METHODS
            releases_it = isinstance(f, ast.Attribute) and f.attr in ("release", "putconn") \
                and any(_is_name(a, name) for a in n.args)
            if closes_it or releases_it:
                closes.append(n)
            elif any(_is_name(a, name) for a in n.args) or any(_is_name(kw.value, name) for kw in n.keywords):
                if isinstance(f, ast.Name) and f.id == "closing" or ast.unparse(f).endswith("closing"):
                    return None
                passed = True
    if any(_in_finally(c, fn) for c in closes):
        return None
    if not closes:
        if passed:
            return None  # handed to other code, which may close it
        where = "yielded by a dependency without try/finally" if yielded else "never closed"
        return (f"{name} ({what}) is {where}: its pooled connection stays checked out until the garbage collector "
                "reclaims it", 0.95 if not yielded else 0.8)
    first = min(closes, key=pos)
    exits: list[ast.Return | ast.Raise | ast.Yield] = [
        n for n in after if isinstance(n, (ast.Return, ast.Raise)) and pos(n) < pos(first)]
    if yielded:
        exits = exits or [n for n in after if isinstance(n, ast.Yield)]
    if exits:
        listed = ", ".join(f"the {_exit_word(e)} at line {e.lineno}" for e in exits[:4])
        return (f"{name} ({what}) is closed only on the normal path (line {first.lineno}): {listed} skip"
                f"{'s' if len(exits) == 1 else ''} it and leak its pooled connection", 0.95)
    return (f"{name} ({what}) is closed at line {first.lineno} but not in finally or with: an exception before it "
            "leaks the pooled connection", 0.55)


def _exit_word(node: ast.Return | ast.Raise | ast.Yield) -> str:
    return "return" if isinstance(node, ast.Return) else "raise" if isinstance(node, ast.Raise) else "yield"


def _in_finally(call: ast.Call, fn: Function) -> bool:
    parents = fn.module.parents
    node: ast.AST | None = call
    while node is not None and node is not fn.node:
        parent = parents.get(node)
        if isinstance(parent, ast.Try) and any(within(call, s) for s in parent.finalbody):
            return True
        node = parent
    return False


@Rule(
    code="TH202", name="client-per-request", signal="code:client_per_request",
    links=("db_pool_exhaustion", "connection_leak"), severity="warning", confidence=0.85,
    summary="An engine, connection pool, HTTP client or Redis client is created on every request.",
    what="""
        Flags `create_engine`, `create_async_engine`, `asyncpg.create_pool`, `httpx.Client`/`AsyncClient`,
        `requests.Session`, `aiohttp.ClientSession`, `redis.Redis` and Redis connection pools created in
        a function that endpoints reach (the handler, its dependencies, the services it calls), unless
        the result is kept on a module global, an attribute or `app.state` (created once, lazily).""",
    why="""
        These objects are pools: they exist to reuse connections across requests. Made per request,
        every request pays a new TCP (and TLS) handshake and a new database or Redis login, and the
        connections linger until the pool object is garbage-collected. Under load the server's
        connection limit fills up (`too many connections`, `remaining connection slots are reserved`)
        and requests fail, while at low traffic all is well.""",
    example="""
        @app.get("/rates/{currency}")
        async def rate(currency: str):
            async with httpx.AsyncClient(timeout=5) as client:
                r = await client.get(f"{RATES_URL}/{currency}")
            return r.json()
        """,
    fix="Create the client once (module level, or in the app's `lifespan`) and reuse it from every request.",
    fixed="""
        @asynccontextmanager
        async def lifespan(app: FastAPI):
            app.state.rates = httpx.AsyncClient(base_url=RATES_URL, timeout=5)
            yield
            await app.state.rates.aclose()

        @app.get("/rates/{currency}")
        async def rate(currency: str, request: Request):
            r = await request.app.state.rates.get(f"/{currency}")
            return r.json()
        """,
    references=(("HTTPX: why use a Client", "https://www.python-httpx.org/advanced/clients/#why-use-a-client"),
                ("SQLAlchemy: engine disposal", "https://docs.sqlalchemy.org/en/20/core/connections.html#engine-disposal")),
)
def client_per_request(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if not project.on_request_path(fn) or _runs_once(project, fn):
            continue
        for call in (n for n in fn.nodes if isinstance(n, ast.Call)):
            q = project.qualify(call.func, fn) or ""
            kind = apis.kind_of_constructor(q)
            if kind not in apis.EXPENSIVE:
                continue
            declared_global = {name for n in fn.nodes if isinstance(n, ast.Global) for name in n.names}
            if _kept(call, fn.module.parents, declared_global):
                continue
            yield Hit(call, fn, f"{q}() creates {calls.words(kind)} "
                      f"in {fn.label}, on every request: new connections (and handshakes) each time "
                      "instead of a reused pool")


def _runs_once(project: Project, fn: Function) -> bool:
    for dec in fn.decorators:
        target = dec.func if isinstance(dec, ast.Call) else dec
        q = project.qualify(target, fn.module) or ""
        if q in apis.CACHING_DECORATORS or q.split(".")[-1] in ("cache", "lru_cache", "cached_property"):
            return True
    return False


def _kept(call: ast.Call, parents: dict[ast.AST, ast.AST], declared_global: set[str]) -> bool:
    node: ast.AST = call
    while node in parents and not isinstance(node, ast.stmt):
        node = parents[node]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, (ast.Attribute, ast.Subscript))
                   or (isinstance(t, ast.Name) and t.id in declared_global) for t in targets)
    return False


@Rule(
    code="TH206", name="shared-session", signal="code:shared_session", links=("race_condition",),
    severity="error", confidence=0.85,
    summary="One session or connection is shared by concurrent requests or by tasks run with `gather`.",
    what="""
        Flags a single session or connection (not a pool or an engine) created once — at module level
        or in the app's start-up — and used by endpoints, and a session or connection passed to two or
        more coroutines run together with `asyncio.gather`/`asyncio.wait`.""",
    why="""
        A session or a connection runs one statement at a time and keeps one transaction. Shared by
        concurrent requests (threads of a sync server, or coroutines at their awaits), statements
        interleave: asyncpg raises "another operation is in progress", an `AsyncSession` raises
        `IllegalStateChangeError`, a sync session mixes one request's rows and rollbacks into another's.
        One at a time it works, so tests pass and load fails.""",
    example="""
        session = SessionLocal()

        @app.get("/users/{user_id}")
        def get_user(user_id: int):
            return session.get(User, user_id)
        """,
    fix="""
        Give each request (and each concurrent task) its own session from a dependency; share the engine or the
        pool, never the session.""",
    fixed="""
        def get_db():
            with SessionLocal() as session:
                yield session

        @app.get("/users/{user_id}")
        def get_user(user_id: int, db: Session = Depends(get_db)):
            return db.get(User, user_id)
        """,
    references=(("SQLAlchemy: is the Session thread-safe?", "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#is-the-session-thread-safe-is-asyncsession-safe-to-share-in-concurrent-tasks"),),
)
def shared_session(project: Project) -> Iterator[Hit]:
    for m in project.modules:
        for name, bindings in m.bindings.items():  # one connection for the process
            for b in bindings:
                made = _created(project, b.value, m) if b.how == "assign" and b.value is not None else None
                if b.value is not None and made is not None and project.routes_using_global(m, name):
                    yield Hit(b.value, m, f"{name} is one {calls.words(made)} for the whole "
                              "process, used by concurrent requests", global_name=name)
    for attr, bindings in project.state_attrs.items():
        for b in bindings:
            made = _created(project, b.value, b.scope) if b.value is not None else None
            if b.value is None or made is None:
                continue
            users = project.routes_using_state(attr)
            if users:
                yield Hit(b.value, b.scope, f"app.state.{attr} is one {calls.words(made)} "
                          "shared by every request", extra_routes=users)
    for fn in project.functions():
        if not fn.is_async:
            continue
        for call in (n for n in fn.nodes if isinstance(n, ast.Call)):
            if project.qualify(call.func, fn) not in apis.GATHER_CALLS:
                continue
            counts: dict[str, int] = {}
            for a in call.args:
                many = isinstance(a, ast.Starred)
                inner = a.value if isinstance(a, ast.Starred) else a
                elt = inner.elt if isinstance(inner, (ast.GeneratorExp, ast.ListComp)) else inner
                if not isinstance(elt, ast.Call):
                    continue
                for given in [*elt.args, *(kw.value for kw in elt.keywords)]:
                    if isinstance(given, ast.Name):
                        k = project.kind(given, fn)
                        if k is not None and k.name in apis.CONNECTIONS:
                            counts[given.id] = counts.get(given.id, 0) + (2 if many else 1)
            for name, count in counts.items():
                if count >= 2:
                    yield Hit(call, fn, f"{name} is passed to several coroutines run at once by "
                              f"{ast.unparse(call.func)}(): their statements interleave on one connection")


@Rule(
    code="TH207", name="session-held-across-slow-call", signal="code:session_held_across_slow_call",
    links=("db_pool_exhaustion",), severity="warning", confidence=0.85,
    summary="A request keeps its pooled database connection while it waits on an HTTP call, a sleep or a subprocess.",
    what="""
        Flags a call that waits on something other than the database — an outbound HTTP request, a
        sleep, a subprocess, password hashing, directly or inside a project function it calls — made
        while the function's session or connection has a pooled connection checked out: after its
        first statement and before `close()`, `commit()` or `rollback()` (or inside
        `async with pool.acquire()`).""",
    why="""
        A pool of N connections serves N requests at a time only if each holds its connection for the
        time of its queries. Held across a 150 ms call to another service, every request keeps a
        connection for the whole call: a handful of concurrent users exhaust a small pool, the rest
        wait for the pool timeout and fail with `QueuePool limit … reached`, though the database is
        idle. Alone, each request is fine.""",
    example="""
        @app.get("/orders/{order_id}")
        def read_order(order_id: int, db: Session = Depends(get_db)):
            order = db.get(Order, order_id)
            quote = carrier.quote(order.country, order.weight)   # 150 ms over HTTP
            return {"order": order.id, "shipping": quote}
        """,
    fix="""
        Finish the database work and release the connection (`db.close()` or `commit()`) before the slow call, or
        make the call before the first query.""",
    fixed="""
        @app.get("/orders/{order_id}")
        def read_order(order_id: int, db: Session = Depends(get_db)):
            order = db.get(Order, order_id)
            country, weight = order.country, order.weight
            db.close()
            quote = carrier.quote(country, weight)
            return {"order": order_id, "shipping": quote}
        """,
)
def session_held_across_slow_call(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if not project.on_request_path(fn):
            continue
        for name, start, stop, held_from_start in _sessions(project, fn):
            held = held_from_start
            calls_in = sorted((n for n in fn.nodes if isinstance(n, ast.Call) and start <= pos(n) <= stop), key=pos)
            first_use = None
            for call in calls_in:
                f = call.func
                on_session = isinstance(f, ast.Attribute) and _is_name(f.value, name)
                method = f.attr if isinstance(f, ast.Attribute) else ""
                if on_session and method in apis.DB_RELEASE_METHODS:
                    held = False
                    continue
                if on_session and method in apis.DB_QUERY_METHODS:
                    held, first_use = True, first_use or call
                    continue
                if not held or on_session:
                    continue
                found = calls.through(project, call, fn, calls.slow, depth=3)
                if found is not None:
                    since = f" since line {first_use.lineno}" if first_use is not None else ""
                    yield Hit(call, fn, f"{ast.unparse(call.func)}() {found[0]} while {name} holds a pooled database "
                              f"connection{since}: every request keeps a connection for the whole wait")
                    break


def _sessions(project: Project, fn: Function) -> Iterator[tuple[str, tuple[int, int], tuple[int, int], bool]]:
    """(name, from, to, held from the start) for each session or connection the function uses."""
    whole = (fn.node.body[0].lineno, 0), (10**9, 0)
    for a in [*fn.node.args.posonlyargs, *fn.node.args.args, *fn.node.args.kwonlyargs]:
        b = project.binding(a.arg, fn, pos(a))
        k = project.binding_kind(b) if b is not None else None
        if k is not None and k.name in apis.CONNECTIONS:
            yield a.arg, whole[0], whole[1], k.name == apis.ASYNCPG_CONN
    for n in fn.nodes:
        if isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                if isinstance(item.optional_vars, ast.Name):
                    k = project.kind(item.context_expr, fn)
                    if k is not None and k.name in apis.CONNECTIONS:
                        end = (n.end_lineno or n.lineno, n.end_col_offset or 0)
                        held = k.name in (apis.ASYNCPG_CONN, apis.SA_CONN, apis.ASYNC_SA_CONN)
                        yield item.optional_vars.id, pos(n), end, held
        elif isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) \
                and _created(project, n.value, fn) is not None:
            k = project.kind(n.value, fn)
            yield n.targets[0].id, pos(n), whole[1], k is not None and k.name == apis.ASYNCPG_CONN

