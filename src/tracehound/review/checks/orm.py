"""Rules about how queries load data: one query per item of a loop (N+1, explicit or through
lazy relationships), joined eager loads that multiply rows, and eager loads of whole
collections for unbounded lists (TH401–TH403)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import Class, Function, Kind, Project, Scope
from tracehound.review.queries import loader_options
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import pos, target_names, walk

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _db(project: Project, call: ast.Call, scope: Scope) -> str | None:
    k = calls.db_call(project, call, scope)
    return f"runs a statement on {calls.words(k)}" if k is not None else None


Loop = tuple[ast.stmt | ast.expr, set[str], list[ast.AST], ast.expr | None]


def _loops(fn: Function) -> list[Loop]:
    """(loop node, item names, body, iterable) of every loop and comprehension, innermost first."""
    out: list[Loop] = []
    for n in fn.nodes:
        if isinstance(n, (ast.For, ast.AsyncFor)):
            out.append((n, {t.id for t in target_names(n.target)}, [*n.body], n.iter))
        elif isinstance(n, ast.While):
            out.append((n, set(), [*n.body], None))
        elif isinstance(n, _COMPREHENSIONS):
            first, *rest = n.generators
            body: list[ast.AST] = [n.key, n.value] if isinstance(n, ast.DictComp) else [n.elt]
            body += list(first.ifs) + [x for g in rest for x in (g.iter, *g.ifs)]
            out.append((n, {t.id for t in target_names(first.target)}, body, first.iter))
    return sorted(out, key=lambda loop: (loop[0].end_lineno or 0) - loop[0].lineno)


def _small_range(project: Project, it: ast.expr | None, fn: Function) -> bool:
    """A retry loop: ``range(3)``, ``(1, 2)``."""
    if isinstance(it, ast.Call) and project.qualify(it.func, fn) == "range" and len(it.args) == 1:
        v = project.value(it.args[0], fn)
        return isinstance(v, int) and v <= 5
    return isinstance(it, (ast.Tuple, ast.List)) and len(it.elts) <= 3


def _polls(project: Project, body: list[ast.AST], fn: Function) -> bool:
    """A polling loop: it sleeps between rounds."""
    return any(isinstance(n, ast.Call) and (project.qualify(n.func, fn) or "").endswith("sleep") for n in walk(body))


def _collections(project: Project, cls: Class) -> set[str]:
    """Relationships of a model that hold many rows (annotated ``list[...]``, or plural when unannotated)."""
    rels = project.models.get(cls, {})
    return {name for name, r in rels.items()
            if r.uselist or (r.uselist is None and name.endswith("s") and not name.endswith("ss"))}


@Rule(
    code="TH401", name="query-in-loop", signal="code:n_plus_one_query", links=("n_plus_one",),
    severity="warning", confidence=0.85,
    summary="A query runs once per item of a loop (N+1), explicitly or through a lazy-loaded relationship.",
    what="""
        Flags a database statement inside a loop or comprehension (directly or in a project function
        the loop calls), and a loop over a query's rows that reads relationships the query did not
        load eagerly — in the loop body or in a helper called per row (a serializer), where each read
        is a lazy load: one more SELECT per row and relationship.""",
    why="""
        Each statement is a round trip. A page with 10 items runs 11 queries and nobody notices; the
        account with 450 items runs 901, hundreds of milliseconds of round trips that queue behind each
        other under concurrency, and that page alone passes the gateway's timeout. The time grows with
        the data of one customer, not with a slow statement, so the slow-query log shows nothing.""",
    example="""
        invoices = db.scalars(select(Invoice).where(Invoice.customer_id == cid)).all()
        return [{"id": inv.id, "lines": len(inv.lines), "paid": sum(p.amount for p in inv.payments)}
                for inv in invoices]
        """,
    fix="""
        Load what the loop reads in the same query: `selectinload` for collections, `joinedload` for many-to-one;
        or one query with `IN (...)` instead of one per item.""",
    fixed="""
        invoices = db.scalars(
            select(Invoice).where(Invoice.customer_id == cid)
            .options(selectinload(Invoice.lines), selectinload(Invoice.payments))
        ).all()
        """,
    references=(("SQLAlchemy: relationship loading techniques", "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html"),),
)
def query_in_loop(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if project.routes and not project.on_request_path(fn):
            continue  # a background job's loop is not a request's latency
        reported: set[int] = set()
        for loop, names, body, it in _loops(fn):
            if _small_range(project, it, fn) or (isinstance(loop, ast.While) and _polls(project, body, fn)):
                continue
            rows = project.kind(it, fn) if it is not None else None
            if rows is not None and rows.name == apis.ROWS and rows.cls in project.models and names:
                reads = _lazy_reads(project, rows, names, body, fn)
                if reads and id(loop) not in reported:
                    reported.add(id(loop))
                    where = f"the query at line {rows.origin.lineno}" if rows.origin is not None else "the query"
                    rels = ", ".join(sorted({rel for _, _, rel in reads}))
                    yield Hit(loop, fn, f"{_reads_text(reads)} for every {rows.cls.name} of {where}: "
                              f"one more query per row and relationship ({rels} not eager-loaded)")
                    continue
            for call in (n for n in walk(body) if isinstance(n, ast.Call)):
                if id(call) in reported:
                    continue
                found = calls.through(project, call, fn, _db, depth=2)
                if found is not None:
                    for inner in walk(loop):
                        reported.add(id(inner))
                    reported.add(id(loop))
                    what = ast.unparse(call.func)
                    yield Hit(call, fn, f"{what}() {found[0]} inside a loop (line {loop.lineno}): one query per item")
                    break


def _lazy_reads(project: Project, rows: Kind, names: set[str], body: list[ast.AST], fn: Function,
                depth: int = 2, via: str = "") -> set[tuple[str, str, str]]:
    """(the helper that reads it or "", ``item.rel``, rel) for each lazy relationship read per row."""
    assert rows.cls is not None
    rels = project.models.get(rows.cls, {})
    lazy = {name for name, r in rels.items()
            if name not in rows.eager and (r.lazy is None or r.lazy not in apis.EAGER_LAZY)}
    out: set[tuple[str, str, str]] = set()
    for n in walk(body):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in names and n.attr in lazy:
            out.add((via, f"{n.value.id}.{n.attr}", n.attr))
        elif isinstance(n, ast.Call) and depth > 0:
            target = project.callee(n, fn)
            if target is None:
                continue
            params = [a.arg for a in target.node.args.posonlyargs + target.node.args.args]
            if target.cls is not None and params:
                params = params[1:]
            passed = {params[i] for i, a in enumerate(n.args)
                      if i < len(params) and isinstance(a, ast.Name) and a.id in names}
            passed |= {kw.arg for kw in n.keywords
                       if kw.arg and isinstance(kw.value, ast.Name) and kw.value.id in names}
            if passed:
                out |= _lazy_reads(project, rows, passed, list(target.node.body), target, depth - 1,
                                   via or target.label)
    return out


def _reads_text(reads: set[tuple[str, str, str]]) -> str:
    """``invoice_summary() reads inv.lines and inv.payments``, ``post.author lazy-loads``."""
    parts = []
    for via in sorted({v for v, _, _ in reads}):
        attrs = sorted({a for v, a, _ in reads if v == via})
        listed = ", ".join(attrs[:-1]) + f" and {attrs[-1]}" if len(attrs) > 1 else attrs[0]
        parts.append(f"{via} reads {listed}" if via else f"{listed} lazy-load{'s' if len(attrs) == 1 else ''}")
    return "; ".join(parts)


def _chains(project: Project) -> Iterator[tuple[list[ast.Call], Scope]]:
    """Each outermost method-call chain (``select(E).where(…).options(…)``) in the project."""
    for n, scope in project.all_calls():
        if not project.outermost(n):
            continue
        chain: list[ast.Call] = []
        node: ast.AST | None = n
        while isinstance(node, ast.Call):
            chain.append(node)
            node = node.func.value if isinstance(node.func, ast.Attribute) else None
        yield chain, scope


@Rule(
    code="TH402", name="cartesian-eager-load", signal="code:cartesian_eager_load", links=("slow_query",),
    severity="error", confidence=0.85,
    summary="One query joined-eager-loads two or more collections: the rows multiply.",
    what="Flags `joinedload` of two or more collection relationships (one-to-many, many-to-many) in one query.",
    why="""
        A joined eager load adds a LEFT OUTER JOIN per relationship, so the result holds one row per
        combination: a user with 50 posts, 40 followers and 30 followings comes back as 60,000 rows,
        which the ORM then de-duplicates one by one. Ordinary records stay small and fast; the
        popular one takes seconds and holds its connection meanwhile, and at peak its page times out
        at the gateway — for that record only, which looks random.""",
    example="""
        user = db.scalars(
            select(User).where(User.id == user_id)
            .options(joinedload(User.posts), joinedload(User.followers), joinedload(User.following))
        ).unique().one()
        """,
    fix="""
        Load collections with `selectinload` (one extra query per collection, no multiplication); keep `joinedload`
        for many-to-one.""",
    fixed="""
        user = db.scalars(
            select(User).where(User.id == user_id)
            .options(selectinload(User.posts), selectinload(User.followers), selectinload(User.following))
        ).one()
        """,
    references=(("SQLAlchemy: joined eager loading", "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html#joined-eager-loading"),),
)
def cartesian_eager_load(project: Project) -> Iterator[Hit]:
    for chain, scope in _chains(project):
        joined: list[tuple[str, ast.Call]] = []
        for call in chain:
            if isinstance(call.func, ast.Attribute) and call.func.attr == "options":
                for opt in call.args:
                    for loader, rel, node in loader_options(project, opt, scope):
                        cls = _entity_of(project, node, scope)
                        if loader == "joinedload" and cls is not None and rel in _collections(project, cls):
                            joined.append((f"{cls.name}.{rel}", node))
        if len(joined) >= 2:
            first = min((n for _, n in joined), key=pos)
            names = ", ".join(r for r, _ in joined)
            yield Hit(first, scope, f"joinedload of {len(joined)} collections in one query ({names}): "
                      "the result has one row per combination of their items")


def _entity_of(project: Project, loader_call: ast.Call, scope: Scope) -> Class | None:
    for a in loader_call.args:
        if isinstance(a, ast.Attribute):
            target = project.resolve(a.value, scope)
            if isinstance(target, Class) and target in project.models:
                return target
    return None


@Rule(
    code="TH403", name="unbounded-eager-load", signal="code:unbounded_eager_load", links=("slow_query",),
    severity="warning", confidence=0.5,
    summary="A query with no limit eager-loads whole collections for every row.",
    what="""
        Flags a query that returns every matching row (no `limit`, no single-row fetch) and
        eager-loads a collection relationship (`selectinload`, `joinedload`, `subqueryload`) for each.""",
    why="""
        The work and the response grow with the largest customer's data: all of its rows, each with
        all of its children. Typical accounts are fast; the biggest one is slow enough to time out at
        peak, and it only gets bigger.""",
    example="""
        orders = db.scalars(select(Order).where(Order.customer_id == cid).options(selectinload(Order.items))).all()
        """,
    fix="Page the parent query (`limit`/keyset pagination) and load the children for the page only.",
    fixed="""
        orders = db.scalars(
            select(Order).where(Order.customer_id == cid).order_by(Order.id.desc()).limit(50)
            .options(selectinload(Order.items))
        ).all()
        """,
)
def unbounded_eager_load(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        for call in (n for n in fn.nodes if isinstance(n, ast.Call)):
            if not project.outermost(call):
                continue
            k = project.kind(call, fn)
            if k is None or k.name != apis.ROWS or k.bounded or k.cls is None:
                continue
            many = sorted(k.eager & _collections(project, k.cls))
            if many:
                yield Hit(call, fn, f"loads every {k.cls.name} the query matches (no limit), each with all of its "
                          f"{', '.join(many)}: the work grows with the largest account's data")
