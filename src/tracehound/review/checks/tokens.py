"""Rule about access tokens that expire before their users are done with them (TH601)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tracehound.review.project import Project, Scope
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import identifier_words, pos, string, walk

#: A token that lives less than this is shorter than a page view with a retry.
SHORT_LIFETIME = 60.0
_UNITS = {"weeks": 604800.0, "days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0,
          "milliseconds": 0.001, "microseconds": 0.000001}
_WORDS = {"week": "weeks", "weeks": "weeks", "day": "days", "days": "days", "hour": "hours", "hours": "hours",
          "hrs": "hours", "minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes",
          "second": "seconds", "seconds": "seconds", "sec": "seconds", "secs": "seconds",
          "ms": "milliseconds", "millis": "milliseconds", "milliseconds": "milliseconds"}


def _claims(project: Project) -> Iterator[tuple[ast.expr, Scope]]:
    """The value expressions given to an ``exp`` claim: ``{"exp": …}``, ``claims["exp"] = …``, ``dict(exp=…)``."""
    for scope, nodes in project.scopes():
        for n in nodes:
            if isinstance(n, ast.Dict):
                yield from ((v, scope) for k, v in zip(n.keys, n.values, strict=True) if string(k) == "exp")
            elif isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Subscript) and string(t.slice) == "exp":
                        yield n.value, scope
            elif isinstance(n, ast.Call):
                yield from ((kw.value, scope) for kw in n.keywords if kw.arg == "exp")


Duration = tuple[ast.AST, str, str | None, float | None]


def _lifetime(project: Project, expr: ast.expr, scope: Scope, depth: int = 0) -> list[Duration]:
    """(node, unit, unit the amount's name says, seconds) for each duration in the expression."""
    out = []
    for n in walk(expr):
        if isinstance(n, ast.Call) and (project.qualify(n.func, scope) or "").split(".")[-1] == "timedelta":
            for kw in n.keywords:
                if kw.arg in _UNITS:
                    out.append(_duration(project, n, kw.arg, kw.value, scope))
            if n.args and not n.keywords:
                out.append(_duration(project, n, "days", n.args[0], scope))
        elif isinstance(n, ast.Name) and depth < 2:
            b = project.binding(n.id, scope, pos(n))
            if b is not None and b.how == "assign" and b.value is not None and b.value is not expr:
                out += _lifetime(project, b.value, b.scope, depth + 1)
    if not out and isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        # a timestamp in seconds: int(time.time()) + TTL
        for side in (expr.left, expr.right):
            if "time" in ast.unparse(expr.left if side is expr.right else expr.right):
                out.append(_duration(project, side, "seconds", side, scope))
                break
    return out


def _duration(project: Project, node: ast.AST, unit: str, amount: ast.expr, scope: Scope) -> Duration:
    said = {_WORDS[w] for w in identifier_words(amount) if w in _WORDS}
    v = project.value(amount, scope)
    seconds = float(v) * _UNITS[unit] if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    return node, unit, next(iter(said)) if len(said) == 1 else None, seconds


@Rule(
    code="TH601", name="short-token-lifetime", signal="code:short_token_lifetime", links=("auth_token_expiry",),
    severity="error", confidence=0.85,
    summary="Access tokens are issued with a lifetime under a minute, or in the wrong time unit.",
    what=f"""
        Flags the `exp` claim of a token when its duration is under {SHORT_LIFETIME:g} s, or when the
        amount's name says one unit and the code uses another (`timedelta(seconds=EXPIRE_MINUTES)`).
        Constants are followed through settings modules, with an environment variable's default.""",
    why="""
        Tokens are checked on every call, so a lifetime shorter than a user's session turns into 401s
        at a fixed age: right after login everything works, a few seconds or minutes later every call
        fails, and logging in again "fixes" it. A unit slip makes a 5-minute token a 5-second one;
        tests that call right after login never see it.""",
    example="""
        ACCESS_TOKEN_EXPIRE_MINUTES = 5

        def issue(user_id: int) -> str:
            now = datetime.now(timezone.utc)
            return jwt.encode({"sub": str(user_id), "exp": now + timedelta(seconds=ACCESS_TOKEN_EXPIRE_MINUTES)}, KEY)
        """,
    fix="""
        Use the unit the setting names, and give tokens a lifetime longer than the sessions that use them (with a
        refresh token for long sessions).""",
    fixed="""
        ACCESS_TOKEN_EXPIRE_MINUTES = 5

        def issue(user_id: int) -> str:
            now = datetime.now(timezone.utc)
            return jwt.encode({"sub": str(user_id), "exp": now + timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES)}, KEY)
        """,
    references=(("RFC 7519: the exp claim", "https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4"),),
)
def short_token_lifetime(project: Project) -> Iterator[Hit]:
    seen: set[int] = set()
    for value, scope in _claims(project):
        for node, unit, said, seconds in _lifetime(project, value, scope):
            if id(node) in seen:
                continue
            if said is not None and said != unit:
                seen.add(id(node))
                real = f" (tokens live {seconds:g} s)" if seconds is not None else ""
                yield Hit(node, scope, f"the token's exp adds {ast.unparse(node)}: the amount is named in {said} but "
                          f"counted in {unit}{real}")
            elif seconds is not None and 0 < seconds < SHORT_LIFETIME:
                seen.add(id(node))
                yield Hit(node, scope, f"tokens expire {seconds:g} s after they are issued: any client that keeps one "
                          "longer gets 401s")
