"""Opt-in instrumentation for the service under test: one line, for users who can change it.

>>> from tracehound.instrument import instrument
>>> app = instrument(app, engine=engine)       # doctest: +SKIP

For a FastAPI or Starlette app (ASGI) or a Flask app (WSGI), or any bare ASGI/WSGI callable:

* every response gets a ``Server-Timing`` header with the request's phases in milliseconds:
  ``app`` (until the headers were sent), ``pool`` (waiting for a pooled connection), ``db``
  (inside cursor executes), ``loop`` (event-loop lag seen while it ran; ASGI only) and ``queue``
  (since a gateway's ``X-Request-Start`` stamp, when there is one). tracehound's prober records
  the header, and the traffic analysis asks which phase grows in failing or slow requests;
* ``GET /metrics`` answers Prometheus text from a registry of the app's own: the SQLAlchemy pool
  (checkout wait, checked out, waiting, overflow, timeouts, invalidations), statement time,
  event-loop lag, the process's CPU and memory, and (``request_metrics=True``) request counts and
  durations. The metrics agent (``--metrics URL``) scrapes it during an investigation.

``engine`` is a SQLAlchemy ``Engine`` or ``AsyncEngine`` (or a list of them). The app is changed
in place where the framework allows it (Starlette, Flask) and returned; a bare callable comes
back wrapped, so ``app = instrument(app, …)`` works for all. With several server processes each
one has its own ``/metrics``.
"""

from __future__ import annotations

import inspect
from typing import Any

from tracehound.instrument._asgi import ASGIMiddleware
from tracehound.instrument._instrumentation import QUEUE_PROBE, Instrumentation
from tracehound.instrument._wsgi import WSGIMiddleware

_MARK = "_tracehound_instrumentation"


def instrument(app: Any, engine: Any = None, *, metrics_path: str | None = "/metrics", server_timing: bool = True,
               loop_monitor: bool = True, loop_interval_s: float = 0.02, queue_header: bool = True,
               request_metrics: bool = False) -> Any:
    """Instrument ``app`` (FastAPI/Starlette, Flask, or a bare ASGI or WSGI callable) and return it.

    ``engine``: a SQLAlchemy Engine or AsyncEngine, or a list of them, whose pools are watched.
    ``metrics_path=None`` serves no endpoint (read :func:`instrumentation` (app).metrics_text()).
    ``request_metrics=True`` adds request counts by status and a duration histogram to /metrics:
    most services export those already, and on a trivial endpoint they cost a few per cent.
    Instrumenting the same app twice raises ``ValueError``.
    """
    if getattr(app, _MARK, None) is not None:
        raise ValueError("this app is already instrumented")
    engines = [] if engine is None else list(engine) if isinstance(engine, (list, tuple)) else [engine]
    inst = Instrumentation(engines, metrics_path=metrics_path, server_timing=server_timing, loop=loop_monitor,
                           loop_interval_s=loop_interval_s, queue=queue_header, requests=request_metrics)
    if hasattr(app, "build_middleware_stack"):  # Starlette and FastAPI
        _outermost(app, inst.for_asgi())
        out = app
    elif hasattr(app, "wsgi_app"):  # Flask
        app.wsgi_app = WSGIMiddleware(app.wsgi_app, inst)
        out = app
    elif _is_asgi(app):
        out = ASGIMiddleware(app, inst.for_asgi())
    elif callable(app):
        out = WSGIMiddleware(app, inst)
    else:
        raise TypeError(f"cannot instrument {type(app).__name__}: not an ASGI or WSGI app")
    setattr(out, _MARK, inst)
    return out


def instrumentation(app: Any) -> Instrumentation | None:
    """The :class:`Instrumentation` installed on ``app`` by :func:`instrument`, if any."""
    return getattr(app, _MARK, None)


def _outermost(app: Any, inst: Instrumentation) -> None:
    """Wrap Starlette's whole middleware stack, so that the 500 its error middleware sends is timed too."""
    build = app.build_middleware_stack

    # Starlette only awaits its stack, so the stack can be the middleware's plain ``handle``
    # (no coroutine frame of the middleware's own per request).
    def build_timed() -> Any:
        return ASGIMiddleware(build(), inst).handle

    app.build_middleware_stack = build_timed
    if getattr(app, "middleware_stack", None) is not None:  # already serving: wrap the stack it built
        app.middleware_stack = ASGIMiddleware(app.middleware_stack, inst).handle


def _is_asgi(app: Any) -> bool:
    """An ASGI app is a coroutine function, or an object whose ``__call__`` is one (WSGI apps are plain callables)."""
    if inspect.isfunction(app) or inspect.ismethod(app):
        return inspect.iscoroutinefunction(app)
    return inspect.iscoroutinefunction(type(app).__call__) if callable(app) else False


__all__ = ["QUEUE_PROBE", "Instrumentation", "instrument", "instrumentation"]
