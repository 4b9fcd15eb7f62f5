"""Rule about rate limits the service applies itself (TH604)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import Function, Project
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import arg, identifier_words, keyword, string

_RATE_TEXT = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d*)\s*(second|sec|s|minute|min|m|hour|h|day|d)\w*\s*$", re.I)


def _is_429(project: Project, call: ast.Call, fn: Function) -> bool:
    for expr in [keyword(call, "status_code"), keyword(call, "status"), keyword(call, "code")]:
        if expr is not None and _means_429(expr):
            return True
    name = (project.qualify(call.func, fn) or "").split(".")[-1]
    first = arg(call, 0)
    return name in ("abort", "HTTPException", "Response", "JSONResponse") and first is not None and _means_429(first) \
        or (name in ("JSONResponse", "Response", "PlainTextResponse") and len(call.args) > 1
            and _means_429(call.args[1]))


def _means_429(expr: ast.AST) -> bool:
    if isinstance(expr, ast.Constant):
        return expr.value == 429
    name = expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""
    return name in apis.TOO_MANY_REQUESTS


def _limit_of(project: Project, fn: Function) -> str:
    """The limit in words, from a decorator (``"20/second"``) or the limiter object the endpoint uses."""
    for dec in fn.decorators:
        if isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == "limit":
            text = string(arg(dec, 0, "limit_value"))
            if text and _RATE_TEXT.match(text):
                return text
    for call in (n for n in fn.nodes if isinstance(n, ast.Call)):
        k = calls.receiver(project, call, fn)
        if k is None or k.name != apis.OBJECT or k.origin is None or k.scope is None:
            continue
        limit = window = None
        for kw in k.origin.keywords:
            words = set(identifier_words(ast.Name(kw.arg or "")))
            v = project.value(kw.value, k.scope)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            if words & {"limit", "rate", "requests", "max", "capacity", "burst"} and limit is None:
                limit = float(v)
            elif words & {"window", "period", "per", "interval", "seconds"}:
                window = float(v)
        if limit is not None:
            return f"{limit:g} requests per {window or 1.0:g} s"
    return ""


@Rule(
    code="TH604", name="rate-limit-in-app", signal="code:rate_limit_in_app", links=("rate_limiting",),
    severity="note", confidence=0.6,
    summary="The service answers 429 itself: an in-process rate limit on the request path.",
    what="""
        Flags endpoints that answer 429 Too Many Requests themselves (a limiter in the handler, or a
        `@limiter.limit("…")` decorator), with the limit when the code states it. A note, not a bug:
        code cannot know the rate clients are promised; compare the limit with it.""",
    why="""
        A limit below what a legitimate client sends refuses part of its traffic in a saw-tooth at the
        end of every window — "random" errors during busy hours, while nothing is slow or broken. A
        fixed window also lets twice the limit through around a window boundary.""",
    example="""
        limiter = FixedWindowLimiter(limit=20, window=1.0)

        @app.get("/v2/search")
        def search(q: str, x_api_key: str = Header(...)):
            if not limiter.hit(x_api_key):
                return JSONResponse({"error": "too many requests"}, status_code=429)
        """,
    fix="""
        Size the limit above the documented client rate with headroom, send `Retry-After`, and prefer a sliding
        window or a token bucket.""",
    fixed="""
        limiter = FixedWindowLimiter(limit=100, window=1.0)   # the contract promises 50/s per partner
        """,
)
def rate_limit_in_app(project: Project) -> Iterator[Hit]:
    for fn in project.functions():
        if not project.on_request_path(fn):
            continue
        answers = [n for n in fn.nodes if isinstance(n, ast.Call) and _is_429(project, n, fn)]
        decorated = any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "limit"
                        for d in fn.decorators)
        if not answers and not decorated:
            continue
        text = _limit_of(project, fn)
        node: ast.AST = answers[0] if answers else fn.node
        yield Hit(node, fn, f"{fn.label} answers 429 itself{f' (limit: {text})' if text else ''}: clients sending "
                  "faster are refused; check the limit against the rate they are promised")

