"""Rules about state shared between concurrent requests: process-wide objects modified across
an ``await`` (TH501), and reads served from a replica with no fallback for what was just
written (TH502)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import Class, Function, Module, Project
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import Pos, end, identifier_words, pos, walk

Loc = tuple[str, ...]
_MUTATORS = frozenset({"update", "append", "extend", "add", "insert", "setdefault", "__setitem__", "pop", "popitem",
                       "clear", "remove", "discard", "appendleft"})
_FRESH = frozenset({"dict", "list", "set", "collections.defaultdict", "collections.OrderedDict", "collections.deque",
                    "collections.Counter"})


class _Shared:
    """Which expressions name state shared by every request of the process."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.singletons: set[Class] = set()
        for m in project.modules:
            for bs in m.bindings.values():
                for b in bs:
                    k = project.binding_kind(b) if b.how == "assign" else None
                    if k is not None and k.name == apis.OBJECT and k.cls is not None:
                        self.singletons.add(k.cls)
        for bs in project.state_attrs.values():
            for b in bs:
                k = project.binding_kind(b)
                if k is not None and k.name == apis.OBJECT and k.cls is not None:
                    self.singletons.add(k.cls)

    def loc(self, expr: ast.AST, fn: Function, declared: set[str]) -> Loc | None:
        while isinstance(expr, ast.Subscript):
            expr = expr.value
        p = self.project
        if isinstance(expr, ast.Name):
            if expr.id in declared:
                return ("global", fn.module.name, expr.id)
            b = p.binding(expr.id, fn, pos(expr))
            if b is not None and isinstance(b.scope, Module) and b.how == "assign":
                k = p.binding_kind(b)
                if k is not None and k.name in (apis.MUTABLE, apis.DEFAULTDICT):
                    return ("global", b.scope.name, expr.id)
            return None
        if isinstance(expr, ast.Attribute):
            base = expr.value
            if isinstance(base, ast.Attribute) and base.attr == "state":
                return ("state", expr.attr)
            if isinstance(base, ast.Name):
                f: Function | None = fn
                while f is not None and f.cls is None:
                    f = f.parent
                if f is not None and f.cls in self.singletons and f.node.args.args \
                        and base.id == f.node.args.args[0].arg:
                    return ("attr", f.cls.qualname, expr.attr)
                target = p.resolve(base, fn)
                if isinstance(target, Class):
                    return ("attr", target.qualname, expr.attr)
                k = p.kind(base, fn)
                if k is not None and k.name == apis.OBJECT and k.cls in self.singletons:
                    return ("attr", k.cls.qualname, expr.attr)
        return None

    def text(self, loc: Loc) -> str:
        return {"global": lambda: f"module global {loc[2]}", "state": lambda: f"app.state.{loc[1]}",
                "attr": lambda: f"{loc[1].rsplit('.', 1)[-1]}.{loc[2]} (one object for the whole process)"}[loc[0]]()


def _names_all(expr: ast.AST | None) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)} if expr is not None else set()


@Rule(
    code="TH501", name="shared-state-across-await", signal="code:shared_state_across_await", links=("race_condition",),
    severity="error", confidence=0.85,
    summary="Process-wide state is published half-built, or read and written back, across an `await`.",
    what="""
        In `async def`, flags two check-then-act races on state every request shares (module-level
        containers, attributes of an object created once for the process, `app.state`):
        a new container is put into the shared state and filled only after an `await` (readers in
        between see it empty or partial); and a value read from the shared state is written back,
        changed, after an `await` (a lost update).""",
    why="""
        At an `await` other requests run. Whatever the coroutine left in shared state at that moment is
        what they see: a cache entry marked fresh but still empty is served as a valid answer — `{}`
        with status 200, no error anywhere — and two read-modify-write cycles that overlap lose one of
        the writes. One request at a time never overlaps; under concurrency each refresh hands out a
        burst of wrong answers, and extra logging, which slows requests apart, makes it disappear.""",
    example="""
        async def features(self, session, tenant):
            if self._fresh(tenant):
                return self._cache[tenant]
            found = {}
            self._cache[tenant] = found
            self._stamp[tenant] = time.monotonic()
            for name, on in await session.execute(QUERY, {"tenant": tenant}):
                found[name] = on
            return found
        """,
    fix="""
        Build the value completely, then publish it in one assignment after the last `await`; for
        counters, use an atomic operation of the store or an `asyncio.Lock` around the read and the
        write.""",
    fixed="""
        async def features(self, session, tenant):
            if self._fresh(tenant):
                return self._cache[tenant]
            found = {name: on for name, on in await session.execute(QUERY, {"tenant": tenant})}
            self._cache[tenant] = found
            self._stamp[tenant] = time.monotonic()
            return found
        """,
)
def shared_state_across_await(project: Project) -> Iterator[Hit]:
    shared = _Shared(project)
    for fn in project.functions():
        if not fn.is_async:
            continue
        nodes = list(fn.nodes)
        awaits = sorted(end(n) if isinstance(n, ast.Await) else pos(n) for n in nodes
                        if isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith)))
        if not awaits:
            continue
        declared = {name for n in nodes if isinstance(n, ast.Global) for name in n.names}
        yield from _published_then_filled(project, shared, fn, nodes, awaits, declared)
        yield from _lost_updates(project, shared, fn, nodes, awaits, declared)


def _fresh_containers(project: Project, fn: Function, nodes: list[ast.AST]) -> dict[str, ast.stmt]:
    out: dict[str, ast.stmt] = {}
    for n in nodes:
        if isinstance(n, ast.Assign) and len(n.targets) == 1:
            target: ast.expr = n.targets[0]
        elif isinstance(n, ast.AnnAssign):
            target = n.target
        else:
            continue
        v = n.value
        if isinstance(target, ast.Name) and v is not None:
            fresh = isinstance(v, (ast.Dict, ast.List, ast.Set)) or (
                isinstance(v, ast.Call) and (project.qualify(v.func, fn) or "") in _FRESH)
            if fresh:
                out[target.id] = n
    return out


def _writes(n: ast.AST) -> list[ast.expr]:
    if isinstance(n, ast.Assign):
        return list(n.targets)
    if isinstance(n, (ast.AugAssign, ast.AnnAssign)):
        return [n.target]
    return []


def _published_then_filled(project: Project, shared: _Shared, fn: Function, nodes: list[ast.AST],
                           awaits: list[Pos], declared: set[str]) -> Iterator[Hit]:
    fresh = _fresh_containers(project, fn, nodes)
    for n in nodes:
        if not isinstance(n, ast.Assign):
            continue
        value_names = {n.value.id} if isinstance(n.value, ast.Name) else (
            {e.id for e in n.value.elts if isinstance(e, ast.Name)} if isinstance(n.value, ast.Tuple) else set())
        published = [v for v in value_names if v in fresh and pos(fresh[v]) < pos(n)]
        if not published:
            continue
        locs = [loc for t in n.targets if (loc := shared.loc(t, fn, declared)) is not None]
        if not locs:
            continue
        done = end(n)
        after = [a for a in awaits if a > done]
        if not after:
            continue
        for v in published:
            fill = next((m for m in nodes if pos(m) > after[0] and _mutates(m, v)), None)
            if fill is not None:
                yield Hit(n, fn, f"{v} is published in {shared.text(locs[0])} before it is filled: the await at line "
                          f"{after[0][0]} lets concurrent requests read it empty or half-built (filled at line "
                          f"{pos(fill)[0]})")
                break


def _mutates(n: ast.AST, name: str) -> bool:
    for t in _writes(n):
        if isinstance(t, (ast.Subscript, ast.Attribute)) and isinstance(t.value, ast.Name) and t.value.id == name:
            return True
    return (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _MUTATORS
            and isinstance(n.func.value, ast.Name) and n.func.value.id == name)


def _lost_updates(project: Project, shared: _Shared, fn: Function, nodes: list[ast.AST], awaits: list[Pos],
                  declared: set[str]) -> Iterator[Hit]:
    writes: list[tuple[ast.AST, list[tuple[ast.expr, Loc]]]] = []
    for n in nodes:
        if isinstance(n, ast.AugAssign) and any(isinstance(x, ast.Await) for x in walk(n.value)):
            loc = shared.loc(n.target, fn, declared)
            if loc is not None:
                yield Hit(n, fn, f"{shared.text(loc)} is read, then the statement awaits, then writes back: concurrent "
                          "requests overwrite each other's update")
                continue
        targets = [(t, loc) for t in _writes(n) if (loc := shared.loc(t, fn, declared)) is not None]
        if targets:
            writes.append((n, targets))
    if not writes:
        return  # no write to shared state: no read of it can be lost (the reads are the costly part)
    reads: list[tuple[str, Loc, ast.Assign]] = []
    for n in nodes:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            for sub in walk(n.value):
                if isinstance(sub, (ast.Name, ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, ast.Load):
                    loc = shared.loc(sub, fn, declared)
                    if loc is not None:
                        reads.append((n.targets[0].id, loc, n))
                        break
    for n, targets in writes:
        value = getattr(n, "value", None)
        used = _names_all(value)
        for name, loc, read in reads:
            if name not in used or all(loc != t_loc for _, t_loc in targets) or pos(read) >= pos(n):
                continue
            if project.binding(name, fn, pos(n)) is not _binding_of(project, fn, name, read):
                continue  # rebound since the read: not the value that was read
            between = [a for a in awaits if end(read) < a < end(n)]
            if between:
                yield Hit(n, fn, f"{shared.text(loc)} is read at line {read.lineno} and written back from that read "
                          f"after the await at line {between[0][0]}: concurrent requests overwrite each other's update")
                break


def _binding_of(project: Project, fn: Function, name: str, node: ast.AST) -> object:
    for b in fn.bindings.get(name, []):
        if b.node is node:
            return b
    return None


_REPLICA_WORDS = frozenset({"replica", "replicas", "reader", "readonly", "standby", "secondary", "follower", "ro"})


def _replica(words: list[str]) -> bool:
    pairs = zip(words, words[1:], strict=False)
    return bool(_REPLICA_WORDS & set(words)) or any(a == "read" and b == "only" for a, b in pairs)


def _source_words(project: Project, call: ast.Call, fn: Function) -> list[str]:
    recv = call.func.value if isinstance(call.func, ast.Attribute) else call.func
    words = identifier_words(recv)
    if isinstance(recv, ast.Name):
        b = project.binding(recv.id, fn, pos(recv))
        if b is not None and b.value is not None:
            if b.how == "param":  # a dependency's name says where it reads (get_replica_db)
                dep = project.depends_target(b.value, fn)
                words += identifier_words(ast.Name(dep.name)) if dep is not None else []
            else:
                words += identifier_words(b.value)
    return words


def _not_found(test: ast.expr, name: str, body: list[ast.stmt]) -> bool:
    checks = any(isinstance(n, ast.Compare) and isinstance(n.left, ast.Name) and n.left.id == name
                 and isinstance(n.ops[0], ast.Is) for n in ast.walk(test)) or (
        isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name)
        and test.operand.id == name)
    if not checks:
        return False
    for n in walk(body):
        if isinstance(n, ast.Constant) and n.value == 404:
            return True
        if isinstance(n, (ast.Name, ast.Attribute)):
            word = n.id if isinstance(n, ast.Name) else n.attr
            if "404" in word or "NOT_FOUND" in word.upper() or word in ("Http404", "NotFound", "DoesNotExist"):
                return True
    return False


@Rule(
    code="TH502", name="replica-read-without-fallback", signal="code:replica_read_without_fallback",
    links=("read_after_write",), severity="warning", confidence=0.75,
    summary="A read served by a replica answers 404 for a row it does not have yet, without asking the primary.",
    what="""
        Flags an endpoint that reads a row through a replica (a pool, engine or session whose name
        says replica, reader, read-only, standby, secondary) and answers "not found" when it is
        missing, with no read of the primary in between, in a service that writes through another
        connection.""",
    why="""
        Replicas apply the primary's changes a little later (milliseconds to seconds, more under write
        load). A client that creates something and reads it right away reaches the replica before the
        row does and gets 404 for what it just created; a retry a moment later works. It depends on
        timing, not on load.""",
    example="""
        @app.get("/modules/{module_id}")
        async def load_module(module_id: int, request: Request):
            async with request.app.state.replica.acquire() as conn:
                row = await conn.fetchrow(MODULE, module_id)
            if row is None:
                raise HTTPException(404)
        """,
    fix="""
        Read your own writes: on a miss, read the primary; or route reads that follow a write (same
        session, a short window after it, or a version the client sends) to the primary.""",
    fixed="""
        @app.get("/modules/{module_id}")
        async def load_module(module_id: int, request: Request):
            async with request.app.state.replica.acquire() as conn:
                row = await conn.fetchrow(MODULE, module_id)
            if row is None:
                async with request.app.state.primary.acquire() as conn:
                    row = await conn.fetchrow(MODULE, module_id)
            if row is None:
                raise HTTPException(404)
        """,
)
def replica_read_without_fallback(project: Project) -> Iterator[Hit]:
    db_calls = [(call, fn) for fn in project.functions() for call in fn.nodes
                if isinstance(call, ast.Call) and calls.db_call(project, call, fn) is not None]
    if not any(not _replica(_source_words(project, c, f)) for c, f in db_calls):
        return  # no primary in this code: nothing written here to read back
    for call, fn in db_calls:
        if not project.on_request_path(fn) or not _replica(_source_words(project, call, fn)):
            continue
        assigned = _assigned(fn, call)
        if assigned is None:
            continue
        assign, name = assigned
        nodes = list(fn.nodes)
        miss = next((n for n in nodes if isinstance(n, ast.If) and pos(n) > pos(assign)
                     and _not_found(n.test, name, n.body)), None)
        if miss is None:
            continue
        fallback = any(c is not call and pos(assign) < pos(c) < pos(miss)
                       and not _replica(_source_words(project, c, fn)) for c, f in db_calls if f is fn)
        if not fallback:
            yield Hit(call, fn, f"reads {name} from a replica and answers not-found (line {miss.lineno}) "
                      "without trying the primary: a row written a moment ago is not on the replica yet")


def _assigned(fn: Function, call: ast.Call) -> tuple[ast.Assign, str] | None:
    """The ``name = …`` statement a call is in, and the name."""
    parents = fn.module.parents
    node: ast.AST = call
    while node in parents and not isinstance(node, ast.stmt):
        node = parents[node]
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node, node.targets[0].id
    return None
