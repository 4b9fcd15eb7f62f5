"""Rules about outbound HTTP: calls without a timeout, read timeouts tighter than any upstream's
tail, and keep-alive pools that outlive the server's keep-alive (TH301–TH303)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tracehound.review import apis, calls
from tracehound.review.project import UNKNOWN, Class, Project, Scope
from tracehound.review.rules import Hit, Rule
from tracehound.review.syntax import arg, has_kwargs_splat, identifier_words, keyword

#: A read timeout at or under this many seconds fails the slow tail of any upstream.
TIGHT_TIMEOUT = 1.0
_REQUESTS_VERBS = {f"requests.{v}" for v in ("get", "post", "put", "patch", "delete", "head", "options", "request")}
_HTTPX_VERBS = {f"httpx.{v}" for v in ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")}


def _client_library(project: Project, call: ast.Call, scope: Scope) -> str | None:
    """``requests``/``httpx``/``aiohttp`` when the call is a request method of a client made by that library."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in apis.HTTP_VERBS:
        return None
    k = calls.receiver(project, call, scope)
    if k is None or k.name not in apis.HTTP_CLIENTS or k.origin is None or k.scope is None:
        return None
    return (project.qualify(k.origin.func, k.scope) or "").split(".")[0] or None


@Rule(
    code="TH301", name="http-call-without-timeout", signal="code:http_call_without_timeout",
    links=("upstream_timeout",),
    severity="warning", confidence=0.6,
    summary="An outbound HTTP call can wait forever (no timeout).",
    what="""
        Flags `requests` calls (module functions and `Session` methods) and `urllib.request.urlopen`
        without `timeout`, `http.client` connections without one, `httpx` calls or clients given
        `timeout=None`, and `aiohttp.ClientSession()` without `timeout` (its default is five minutes).""",
    why="""
        Without a timeout, a request to an upstream that stops answering waits as long as the TCP
        connection lives: each such call pins a worker thread or a connection of the pool. When the
        upstream has a bad minute, every request that depends on it hangs, the workers run out and the
        whole service stops answering, including endpoints that never call that upstream.""",
    example="""
        def fetch_rates():
            return requests.get(RATES_URL).json()
        """,
    fix="Always pass a timeout, separate for connecting and reading, chosen from the upstream's latency objective.",
    fixed="""
        def fetch_rates():
            return requests.get(RATES_URL, timeout=(1, 5)).json()
        """,
    references=(("requests: timeouts", "https://requests.readthedocs.io/en/latest/user/advanced/#timeouts"),
                ("HTTPX: timeouts", "https://www.python-httpx.org/advanced/timeouts/")),
)
def http_call_without_timeout(project: Project) -> Iterator[Hit]:
    for call, scope in project.all_calls():
        if has_kwargs_splat(call):
            continue
        q = project.qualify(call.func, scope) or ""
        timeout = keyword(call, "timeout")
        lib = _client_library(project, call, scope)
        if q in _REQUESTS_VERBS or lib == "requests":
            if timeout is None or _is_none(timeout):
                yield Hit(call, scope, f"{ast.unparse(call.func)}() has no timeout: when the upstream stops answering, "
                          "this request waits as long as the connection lives")
        elif q == "urllib.request.urlopen":
            if arg(call, 2, "timeout") is None:
                yield Hit(call, scope, "urlopen() has no timeout: it waits on the socket's default, forever")
        elif q in ("http.client.HTTPConnection", "http.client.HTTPSConnection"):
            if arg(call, 2, "timeout") is None:
                yield Hit(call, scope, f"{q}() has no timeout: requests on it can wait forever")
        elif q in _HTTPX_VERBS or q in ("httpx.Client", "httpx.AsyncClient") or lib == "httpx":
            if timeout is not None and _is_none(timeout):
                yield Hit(call, scope, f"{ast.unparse(call.func)}(timeout=None) disables httpx's 5 s default: "
                          "requests can wait forever")
        elif q == "aiohttp.ClientSession" and timeout is None:
            yield Hit(call, scope, "aiohttp.ClientSession() without timeout waits up to 5 minutes per request",
                      confidence=0.4)


def _is_none(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


@Rule(
    code="TH302", name="http-timeout-too-tight", signal="code:http_timeout_too_tight", links=("upstream_timeout",),
    severity="warning", confidence=0.6,
    summary=f"An outbound HTTP read timeout is {TIGHT_TIMEOUT:g} s or less.",
    what=f"""
        Flags an HTTP read timeout of {TIGHT_TIMEOUT:g} s or less: `httpx.Timeout(1.0)` (one value for
        connect, read, write and pool), `httpx.Timeout(read=…)`, `timeout=0.5` on an `httpx` or
        `requests` call or client, the read half of a `requests` `(connect, read)` tuple,
        `aiohttp.ClientTimeout(total=…, sock_read=…)`.""",
    why="""
        Upstreams have a tail: most answers in tens of milliseconds, a few in seconds (a cache miss, a
        retry on their side, a garbage-collection pause, a slow path such as a 3-D Secure check). A
        read timeout inside that tail turns every slow answer into a failure here, while the upstream
        completes the work (a payment authorised, an order placed) a moment later. The failures are
        few, steady, independent of load, and all end at the same duration.""",
    example="""
        payments = httpx.AsyncClient(base_url=PAYMENTS_URL, timeout=httpx.Timeout(1.0))
        """,
    fix="""
        Set the read timeout from the upstream's latency objective (its p99.9 or its published SLO),
        keep the connect timeout short, and bound the wait for a pooled connection separately.""",
    fixed="""
        payments = httpx.AsyncClient(base_url=PAYMENTS_URL, timeout=httpx.Timeout(5.0, connect=1.0, pool=2.0))
        """,
    references=(("HTTPX: fine tuning timeouts", "https://www.python-httpx.org/advanced/timeouts/#fine-tuning-the-configuration"),),
)
def http_timeout_too_tight(project: Project) -> Iterator[Hit]:
    for call, scope in project.all_calls():
        q = project.qualify(call.func, scope) or ""
        read = UNKNOWN
        if q == "httpx.Timeout":
            read = project.value(keyword(call, "read"), scope) if keyword(call, "read") is not None \
                else project.value(arg(call, 0, "timeout"), scope)
        elif q == "aiohttp.ClientTimeout":
            for name in ("sock_read", "total"):
                if keyword(call, name) is not None:
                    read = project.value(keyword(call, name), scope)
                    break
        elif q in _REQUESTS_VERBS | _HTTPX_VERBS or q in ("httpx.Client", "httpx.AsyncClient") or \
                _client_library(project, call, scope) in ("requests", "httpx"):
            t = keyword(call, "timeout")
            v = project.value(t, scope) if t is not None else UNKNOWN
            read = v[1] if isinstance(v, tuple) and len(v) == 2 else v
        if isinstance(read, (int, float)) and not isinstance(read, bool) and 0 < read <= TIGHT_TIMEOUT:
            yield Hit(call, scope, f"{ast.unparse(call.func)}() sets an HTTP read timeout of {read:g} s: "
                      "every upstream answer slower than that fails here, though the upstream completes the work")


_KEEPALIVE_PATTERNS = (
    re.compile(r"--keep-alive[=\s]+[\"']?(\d+(?:\.\d+)?)"),
    re.compile(r"--timeout-keep-alive[=\s]+[\"']?(\d+(?:\.\d+)?)"),
    re.compile(r"^\s*keepalive\s*=\s*(\d+(?:\.\d+)?)", re.M),
    re.compile(r"timeout_keep_alive\s*=\s*(\d+(?:\.\d+)?)"),
    re.compile(r"\bkeepalive_timeout\s+(\d+(?:\.\d+)?)s?\s*;"),
)


def server_keepalive(project: Project) -> tuple[float, str] | None:
    """The shortest server keep-alive the reviewed tree declares (gunicorn, uvicorn, nginx): (seconds, file)."""
    found: list[tuple[float, str]] = []
    texts = dict(project.config_text)
    texts.update({m.rel: m.source for m in project.modules})
    for rel, text in texts.items():
        if "keep" not in text:  # every pattern names it: most files are skipped without a regex
            continue
        for p in _KEEPALIVE_PATTERNS:
            found += [(float(v), rel) for v in p.findall(text)]
    return min(found) if found else None


@Rule(
    code="TH303", name="keepalive-outlives-server", signal="code:keepalive_outlives_server",
    links=("keepalive_mismatch",),
    severity="warning", confidence=0.7,
    summary="A client keeps idle HTTP connections longer than the server keeps them open.",
    what="""
        Flags client connection pools whose idle expiry is longer than the server's keep-alive:
        `httpx.Limits(keepalive_expiry=…)`, `aiohttp.TCPConnector(keepalive_timeout=…)`, and the
        project's own pools of `http.client` connections (an idle-timeout parameter of a class that
        opens them). The server's keep-alive is read from the reviewed tree (gunicorn `--keep-alive`
        or `keepalive =`, uvicorn `--timeout-keep-alive`, nginx `keepalive_timeout`); when none is
        there, the common defaults apply: uvicorn closes idle connections after 5 s, gunicorn after 2 s.""",
    why="""
        The server closes a connection that has been idle for its keep-alive timeout. A client pool
        that keeps idle connections longer hands out, after a pause, a connection the server has
        already closed: the request written on it gets a reset or an empty reply, and fails at once
        (502 at a gateway). Requests in quick succession reuse fresh connections and succeed, so it
        fails mostly when traffic is quiet.""",
    example="""
        class ServicePool:
            def __init__(self, base_url: str, idle_timeout: float = 60.0):
                ...
                return http.client.HTTPConnection(self.host, self.port, timeout=5)
        """,
    fix="""
        Keep the client's idle expiry below the server's keep-alive (or raise the server's above the
        client's), and retry an idempotent request once on a fresh connection when a reused one
        fails before any byte of the answer.""",
    fixed="""
        class ServicePool:
            def __init__(self, base_url: str, idle_timeout: float = 1.5):
                ...
        """,
    references=(("gunicorn: keepalive", "https://docs.gunicorn.org/en/stable/settings.html#keepalive"),
                ("uvicorn: timeout-keep-alive", "https://www.uvicorn.org/settings/#timeouts")),
)
def keepalive_outlives_server(project: Project) -> Iterator[Hit]:
    server = server_keepalive(project)
    limit = server[0] if server else apis.SERVER_KEEPALIVE_DEFAULTS["uvicorn"]
    srv = (f"the server's keep-alive is {server[0]:g} s ({server[1]})" if server else
           "uvicorn closes idle connections after 5 s, gunicorn after 2 s")
    confidence = 0.9 if server else None
    for call, scope in project.all_calls():
        q = project.qualify(call.func, scope) or ""
        name = {"httpx.Limits": "keepalive_expiry", "aiohttp.TCPConnector": "keepalive_timeout"}.get(q)
        if name is not None and keyword(call, name) is not None:
            v = project.value(keyword(call, name), scope)
            if isinstance(v, (int, float)) and v > limit:
                yield Hit(call, scope, f"{q}({name}={v:g}) keeps idle connections for {v:g} s, but {srv}: after a "
                          "pause the pool reuses a connection the server already closed", confidence=confidence)
    for cls, param, default in _custom_pools(project):
        sites = _instantiations(project, cls)
        for call, scope in sites:
            index = param[1] - 1  # the call does not pass self
            given = keyword(call, param[0]) or (call.args[index] if 0 <= index < len(call.args) else None)
            v = project.value(given, scope) if given is not None else default
            if isinstance(v, (int, float)) and v > limit:
                how = "" if given is not None else f" (the default of {cls.name}'s {param[0]})"
                yield Hit(call, scope, f"{cls.name} keeps idle HTTP connections for {v:g} s{how}, but {srv}: after a "
                          "pause it hands out a connection the server already closed, and that request fails",
                          confidence=confidence)
        if not sites and isinstance(default, (int, float)) and default > limit:
            init = project.method(cls, "__init__")
            if init is not None:
                yield Hit(init.node, init, f"{cls.name} keeps idle HTTP connections for {default:g} s by default, but "
                          f"{srv}", confidence=confidence)


def _custom_pools(project: Project) -> Iterator[tuple[Class, tuple[str, int], object]]:
    """Classes that open ``http.client``/socket connections and take an idle timeout:
    (class, (param, index), default)."""
    for m in project.modules:
        for cls in m.classes.values():
            opens = any(apis.kind_of_constructor(project.qualify(n.func, fn) or "") == apis.HTTP_CONN
                        or project.qualify(n.func, fn) == "socket.create_connection"
                        for fn in cls.methods.values() for n in fn.nodes if isinstance(n, ast.Call))
            init = cls.methods.get("__init__")
            if not opens or init is None:
                continue
            a = init.node.args
            params = a.posonlyargs + a.args
            defaults = [None] * (len(params) - len(a.defaults)) + list(a.defaults)
            for i, (p, d) in enumerate(zip(params, defaults, strict=False)):
                words = set(identifier_words(ast.Name(p.arg)))
                timed = words & {"timeout", "expiry", "ttl", "time", "seconds", "secs", "lifetime", "age"}
                if "keepalive" in words or {"keep", "alive"} <= words or ("idle" in words and timed):
                    yield cls, (p.arg, i), project.value(d, m) if d is not None else UNKNOWN


def _instantiations(project: Project, cls: Class) -> list[tuple[ast.Call, Scope]]:
    return [(call, scope) for call, scope in project.all_calls() if project.resolve(call.func, scope) is cls]
