"""tracehound.instrument on real servers: Server-Timing phases, /metrics, pool hooks, loop lag, WSGI."""

from __future__ import annotations

import contextlib
import re
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tracehound.analysis.frame import Frame
from tracehound.analysis.server_timing import phase_ms
from tracehound.errors import MissingBinary
from tracehound.instrument import QUEUE_PROBE
from tracehound.lab import servers
from tracehound.probe import LoadShape, ProbeConfig, Target, probe

ASGI_APP = '''
import os
import time

from fastapi import FastAPI
from sqlalchemy import create_engine, text

from tracehound.instrument import instrument

engine = create_engine(f"sqlite:///{os.environ['DATA_DIR']}/t.db", pool_size=1, max_overflow=0, pool_timeout=0.3,
                       connect_args={"check_same_thread": False})
app = FastAPI()
instrument(app, engine=engine)


@app.get("/hold")
def hold() -> dict:
    with engine.connect() as conn:
        conn.execute(text("select 1"))
        time.sleep(0.2)
    return {"ok": True}


@app.get("/block")
async def block() -> dict:
    time.sleep(0.4)
    return {"blocked": True}


@app.get("/cheap")
async def cheap() -> dict:
    return {"cheap": True}
'''

ASYNC_ENGINE_APP = '''
import os

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tracehound.instrument import instrument

engine = create_async_engine(os.environ["ASYNC_URL"], pool_size=1, max_overflow=0, pool_timeout=0.3)
app = FastAPI()
instrument(app, engine=engine)


@app.get("/hold")
async def hold() -> dict:
    async with engine.connect() as conn:
        await conn.execute(text("select pg_sleep(0.2)"))
    return {"ok": True}
'''

WSGI_APP = '''
import os
import time

from flask import Flask
from sqlalchemy import create_engine, text

from tracehound.instrument import instrument

engine = create_engine(f"sqlite:///{os.environ['DATA_DIR']}/w.db", pool_size=1, max_overflow=0, pool_timeout=0.3,
                       connect_args={"check_same_thread": False})
app = Flask(__name__)
instrument(app, engine=engine, request_metrics=True)


@app.get("/hold")
def hold():
    with engine.connect() as conn:
        conn.execute(text("select 1"))
        time.sleep(0.2)
    return {"ok": True}
'''


PLAIN_APP = '''
import time

from fastapi import FastAPI, HTTPException

from tracehound.instrument import instrument

app = FastAPI()
instrument(app)


@app.get("/block")
async def block() -> dict:
    time.sleep(0.4)
    return {"blocked": True}


@app.get("/cheap")
async def cheap() -> dict:
    return {"cheap": True}


@app.get("/boom")
async def boom() -> dict:
    raise RuntimeError("boom")


@app.get("/gone")
async def gone() -> dict:
    raise HTTPException(status_code=404)
'''


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """Start an app file on a free port with uvicorn or gunicorn; stopped at the end of the test."""
    stack: list = []

    def start(source: str, server: str = "uvicorn", env: dict[str, str] | None = None, **kw: object) -> str:
        code = tmp_path / f"code{len(stack)}"
        code.mkdir()
        (code / "svc.py").write_text(textwrap.dedent(source))
        cm = servers.app_server("svc:app", code, tmp_path / f"app{len(stack)}.log",
                                env={"DATA_DIR": str(tmp_path), **(env or {})},
                                server=server, ready_path="/metrics", **kw)  # type: ignore[arg-type]
        srv = cm.__enter__()
        stack.append(cm)
        return srv.url

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def timing(header: str) -> dict[str, float]:
    """``app;dur=1.2, pool;dur=3`` → {"app": 1.2, "pool": 3.0}."""
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"([\w.-]+);dur=([0-9.]+)", header)}


def metrics(base: str) -> dict[str, float]:
    """The endpoint's samples, by name and labels, summed over label sets of the same name too."""
    status, headers, body = get(base + "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            key = s.name + (f"{{le={s.labels['le']}}}" if "le" in s.labels else "")
            out[key] = out.get(key, 0.0) + s.value
    return out


def burst(url: str, concurrency: int, requests: int, tmp_path: Path):
    return probe(ProbeConfig(LoadShape(concurrency=concurrency, requests=requests), Target(url), timeout=10,
                             out=tmp_path / "runs"))


def phases_of(run, phase: str) -> tuple[np.ndarray, np.ndarray]:
    """A phase's ms per request, and the requests' failure mask."""
    f = Frame(run.table)
    return phase_ms(f.table.column("h_server_timing").cast("string"), phase), f.failed


# -- ASGI ----------------------------------------------------------------------------------------


def test_server_timing_names_each_phase_and_metrics_parse(serve) -> None:
    base = serve(ASGI_APP)
    status, headers, _ = get(base + "/hold")
    assert status == 200
    t = timing(headers["server-timing"])
    assert set(t) == {"app", "pool", "db", "loop"}
    assert t["app"] >= 200 and t["db"] < t["app"] and t["pool"] < 100
    m = metrics(base)
    assert m["tracehound_db_pool_checkout_wait_seconds_count"] >= 1
    assert m["tracehound_db_pool_max_connections"] == 1 and m["tracehound_db_pool_size_connections"] == 1
    assert m["tracehound_db_pool_checked_out_connections"] == 0
    assert m["tracehound_db_query_duration_seconds_count"] >= 1
    assert "tracehound_http_requests_total" not in m  # request counts are opt-in (request_metrics=True)
    assert m["process_resident_memory_bytes"] > 0 and "process_cpu_seconds_total" in m


def test_a_drained_pool_shows_in_server_timing_and_metrics(serve, tmp_path: Path) -> None:
    base = serve(ASGI_APP)
    run = burst(base + "/hold", concurrency=6, requests=30, tmp_path=tmp_path)
    pool, failed = phases_of(run, "pool")
    assert failed.sum() >= 3, "one connection held 0.2 s by six users must time out some checkouts"
    # Every failure waited the whole 0.3 s pool timeout, and said so in its 500's Server-Timing.
    assert np.isfinite(pool[failed]).all() and (pool[failed] >= 290).all()
    assert np.nanmedian(pool[~failed]) > 20  # the successes queued too
    m = metrics(base)
    assert m["tracehound_db_pool_checkout_timeouts_total"] == failed.sum()
    assert m["tracehound_db_pool_checkout_wait_seconds_count"] >= 30
    assert m["tracehound_db_pool_checkout_wait_seconds_sum"] >= 0.29 * failed.sum()
    assert m["tracehound_db_pool_waiting_requests"] == 0 and m["tracehound_db_pool_checked_out_connections"] == 0


def test_loop_lag_is_charged_to_the_request_it_delayed(serve) -> None:
    base = serve(ASGI_APP)
    blocker = threading.Thread(target=get, args=(base + "/block",))
    blocker.start()
    time.sleep(0.1)
    _, headers, _ = get(base + "/cheap")
    blocker.join()
    t = timing(headers["server-timing"])
    # The cheap handler takes no time itself; it waited behind the 0.4 s block that began before it.
    assert t["loop"] >= 200 and t["app"] < 50
    assert "pool" not in t or t["pool"] < 50
    m = metrics(base)
    assert m["tracehound_event_loop_lag_seconds_sum"] >= 0.3
    assert (m["tracehound_event_loop_lag_seconds_bucket{le=0.25}"]
            < m["tracehound_event_loop_lag_seconds_bucket{le=+Inf}"])


def test_an_app_without_a_database_after_the_gateway_probe(serve, tmp_path: Path) -> None:
    """No engine and no gateway stamp: past the first requests the middleware takes its short path,
    which must still time every answer (errors included) and charge the loop's lag."""
    base = serve(PLAIN_APP)
    run = burst(base + "/cheap", concurrency=4, requests=QUEUE_PROBE + 50, tmp_path=tmp_path)
    app_ms, failed = phases_of(run, "app")
    loop_ms, _ = phases_of(run, "loop")
    assert not failed.any() and np.isfinite(app_ms).all() and np.isfinite(loop_ms).all()
    for path, code in (("/boom", 500), ("/gone", 404)):
        status, headers, _ = get(base + path)
        assert status == code and set(timing(headers["server-timing"])) == {"app", "loop"}
    blocker = threading.Thread(target=get, args=(base + "/block",))
    blocker.start()
    time.sleep(0.1)
    _, headers, _ = get(base + "/cheap")
    blocker.join()
    t = timing(headers["server-timing"])
    assert t["loop"] >= 200 and t["app"] < 50
    assert metrics(base)["tracehound_event_loop_lag_seconds_sum"] >= 0.3


def test_a_gateway_stamp_becomes_the_queue_phase(serve) -> None:
    base = serve(ASGI_APP)
    _, headers, _ = get(base + "/cheap", {"X-Request-Start": f"t={time.time() - 0.25:.3f}"})
    assert 240 <= timing(headers["server-timing"])["queue"] < 5000
    _, headers, _ = get(base + "/cheap", {"X-Request-Start": "garbage"})
    assert "queue" not in timing(headers["server-timing"])


def test_async_engine_pool_on_postgres(serve, tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        try:
            pg = stack.enter_context(servers.postgres(tmp_path / "pg"))
        except MissingBinary as e:
            pytest.skip(e.line())
        base = serve(ASYNC_ENGINE_APP, env={"ASYNC_URL": pg.url("asyncpg")})
        run = burst(base + "/hold", concurrency=5, requests=25, tmp_path=tmp_path)
        pool, failed = phases_of(run, "pool")
        db, _ = phases_of(run, "db")
        assert failed.sum() >= 2 and (pool[failed] >= 290).all()
        assert np.nanmedian(db[~failed]) >= 190  # pg_sleep(0.2) inside the statement, seen through the greenlet
        m = metrics(base)
        assert m["tracehound_db_pool_checkout_timeouts_total"] == failed.sum()


# -- WSGI ----------------------------------------------------------------------------------------


def test_flask_under_gunicorn_gets_server_timing_and_metrics(serve, tmp_path: Path) -> None:
    base = serve(WSGI_APP, server="gunicorn", worker_class="gthread", args=("--threads", "6"))
    status, headers, _ = get(base + "/hold")
    assert status == 200
    t = timing(headers["server-timing"])
    assert set(t) == {"app", "pool", "db"} and t["app"] >= 200  # no event loop, so no loop phase
    run = burst(base + "/hold", concurrency=6, requests=24, tmp_path=tmp_path)
    pool, failed = phases_of(run, "pool")
    assert failed.sum() >= 2 and (pool[failed] >= 290).all()
    m = metrics(base)
    assert m["tracehound_db_pool_checkout_timeouts_total"] == failed.sum()
    assert m["tracehound_http_requests_total"] >= 25
    assert "tracehound_event_loop_lag_seconds_count" not in m


# -- in one process --------------------------------------------------------------------------------


def test_two_apps_in_one_process_keep_their_own_metrics() -> None:
    from fastapi import FastAPI
    from starlette.testclient import TestClient

    from tracehound.instrument import instrument, instrumentation

    a, b = FastAPI(), FastAPI()
    for app in (a, b):
        app.get("/x")(lambda: {})
        instrument(app, request_metrics=True)
    with TestClient(a) as ca, TestClient(b) as cb:
        for _ in range(3):
            assert "server-timing" in ca.get("/x").headers
        cb.get("/x")
        ta, tb = ca.get("/metrics").text, cb.get("/metrics").text
    assert 'tracehound_http_requests_total{status="200"} 3.0' in ta
    assert 'tracehound_http_requests_total{status="200"} 1.0' in tb
    with pytest.raises(ValueError, match="already instrumented"):
        instrument(a)
    assert instrumentation(a) is not instrumentation(b)


def test_a_bare_asgi_callable_is_wrapped_and_bad_input_refused() -> None:
    from starlette.testclient import TestClient

    from tracehound.instrument import instrument

    async def bare(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = instrument(bare)
    c = TestClient(app)
    r = c.get("/")
    assert r.status_code == 204 and r.headers["server-timing"].startswith("app;dur=")
    assert c.get("/metrics").status_code == 200
    with pytest.raises(TypeError, match="not an ASGI or WSGI app"):
        instrument(42)
    with pytest.raises(ValueError, match="metrics_path"):
        instrument(lambda environ, start_response: [], metrics_path="metrics")


# -- the traffic analysis of the header (synthetic records) ---------------------------------------------


def _records(pool: np.ndarray, loop: np.ndarray, latency: np.ndarray, status: np.ndarray) -> Frame:
    from tracehound.analysis import synthetic

    header = [None if s == 504 else f"app;dur={lat:.1f}, pool;dur={p:.1f}, db;dur=1.0, loop;dur={lo:.1f}"
              for p, lo, lat, s in zip(pool, loop, latency, status, strict=True)]
    return Frame(synthetic.table(len(status), latency_ms=latency, status=status, headers={"server-timing": header}))


def test_the_phase_that_grows_in_failing_requests() -> None:
    from tracehound.analysis.server_timing import server_timing

    rng = np.random.default_rng(1)
    n = 400
    failed = rng.random(n) < 0.3
    pool = np.where(failed, 1000 + rng.random(n) * 5, rng.random(n) * 300)
    latency = pool + 160 + rng.random(n) * 20
    st = server_timing(_records(pool, rng.random(n) * 2, latency, np.where(failed, 500, 200)))
    assert st is not None and st.contrast == "failing"
    grown = {g.role: g for g in st.growing}
    assert set(grown) == {"pool"} and grown["pool"].how == "failing" and grown["pool"].bad_ms >= 1000


def test_a_lag_that_takes_every_answered_request_time_has_grown() -> None:
    from tracehound.analysis.server_timing import server_timing

    rng = np.random.default_rng(2)
    n = 200
    gateway = rng.random(n) < 0.5  # the 504s carry no header
    loop = 400 + rng.random(n) * 20  # every answered request waited alike; what else it did varies
    st = server_timing(_records(np.zeros(n), loop, loop + rng.random(n) * 400, np.where(gateway, 504, 200)))
    assert st is not None and [g.role for g in st.growing] == ["loop"] and st.growing[0].how == "dominant"
    calm = server_timing(_records(np.zeros(n), rng.random(n) * 3, 20 + rng.random(n) * 200, np.full(n, 200)))
    assert calm is not None and calm.growing == []
