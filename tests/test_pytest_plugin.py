"""The pytest plugin, through pytest's own ``pytester``: the probe fixture against a real server,
the query-time budget on a real PostgreSQL, and ``max_queries`` catching an N+1 loop in a FastAPI
app served in-process.

The SQLAlchemy sessions run in a subprocess: an in-process run unloads the modules it imported,
and SQLAlchemy's compiled extensions do not survive being imported twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


def _failures(result: pytest.RunResult) -> str:
    return "\n".join(result.outlines)


# -- tracehound_probe ---------------------------------------------------------------------------


def test_probe_fixture_measures_and_holds_an_slo(pytester: pytest.Pytester, faulty, monkeypatch) -> None:
    monkeypatch.setenv("TRACEHOUND_TARGET_URL", faulty.base_url)
    pytester.makepyfile(test_inner="""
        def test_healthy(tracehound_probe):
            result = tracehound_probe("/ok", concurrency=2, requests=20)
            assert (result.requests, result.failures, result.status_counts) == (20, 0, {"200": 20})
            assert result.percentiles_ms["p50"] > 0 and result.run.is_dir()
            result.assert_slo("error_rate<1%,p99<5s")

        def test_broken(tracehound_probe):
            tracehound_probe("/status/503", requests=10).assert_slo("error_rate<1%")

        def test_unknown_criterion(tracehound_probe):
            tracehound_probe("/ok", requests=1).assert_slo("latency<1s")
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    out = _failures(result)
    assert "SLO error_rate<1% does not hold" in out and "FAIL error_rate<1%: measured 100.00%" in out
    assert "10 of 10 requests failed" in out and "statuses: 503×10" in out
    assert "cannot read SLO criterion 'latency<1s'" in out


def test_probe_fixture_skips_without_a_target_and_replays_a_flow(pytester: pytest.Pytester, faulty,
                                                                  monkeypatch) -> None:
    monkeypatch.delenv("TRACEHOUND_TARGET_URL", raising=False)
    pytester.makefile(".yaml", me_flow="""
        setup:
          - {name: login, method: POST, path: /login, json: {user: ann, password: "{password}"},
             capture: {token: "$.access_token"}}
        steps:
          - {name: me, path: /me, headers: {Authorization: "Bearer {token}"}}
    """)
    pytester.makepyfile(test_inner=f"""
        from tracehound.pytest_plugin import require_env

        def test_needs_the_url(tracehound_probe):
            tracehound_probe("/ok", requests=1)

        def test_needs_a_secret(tracehound_probe):
            tracehound_probe("/ok", requests=1, base_url="{faulty.base_url}",
                             headers={{"X-Api-Key": require_env("INNER_SECRET", "the API key")}})

        def test_flow_file(tracehound_probe):
            result = tracehound_probe(flow="me_flow.yaml", variables={{"password": "s3cret"}}, concurrency=2,
                                      requests=12, base_url="{faulty.base_url}")
            assert result.requests == 12 and result.failures == 0
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    out = _failures(result)
    assert "TRACEHOUND_TARGET_URL is not set" in out and "set INNER_SECRET (the API key)" in out


@pytest.mark.parametrize("call, options, message", [
    ('"/ok", requests=1, base_url="http://192.0.2.1:9"', [], "192.0.2.1 is not this machine"),
    ('flow={"steps": [{"name": "x", "url": "http://example.invalid/x"}]}, requests=1, base_url="http://127.0.0.1:9"',
     [], "example.invalid is not this machine"),
    ('"/ok", duration="2m", base_url="http://127.0.0.1:9"', [], "a 120 s probe is over the 60 s cap"),
    ('"/ok", duration=3, base_url="http://127.0.0.1:9"', ["--th-max-duration", "2"], "over the 2 s cap"),
    ('"/ok", requests=10**6, base_url="http://127.0.0.1:9"', [], "1,000,000 requests are over the 50,000 cap"),
    ('"/ok", concurrency=4, base_url="http://127.0.0.1:9"', [], "give the probe a bound"),
    ('"/ok", requests=2, base_url="http://127.0.0.1:{port}"', [], "unreachable"),
])
def test_probe_fixture_refuses_what_a_test_should_not_send(pytester: pytest.Pytester, call: str,
                                                           options: list[str], message: str) -> None:
    from tracehound.lab.servers import free_port

    call = call.replace("{port}", str(free_port()))  # nothing listens there
    pytester.makepyfile(test_inner=f"""
        def test_it(tracehound_probe):
            tracehound_probe({call})
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", *options)
    result.assert_outcomes(failed=1)
    out = _failures(result)
    assert message in out and "tracehound_probe:" in out


# -- the query-time budget ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg(tmp_path_factory) -> Iterator[str]:
    """A throwaway PostgreSQL; its SQLAlchemy URL (psycopg 3)."""
    from tracehound.lab import servers

    with servers.postgres(tmp_path_factory.mktemp("pg-logs")) as server:
        servers.guard()
        yield server.url("psycopg")


def test_query_time_budget_fails_the_test_with_the_slow_query(pytester: pytest.Pytester, pg: str) -> None:
    pytester.makepyfile(test_inner=f"""
        import pytest
        import sqlalchemy as sa
        from sqlalchemy.exc import OperationalError

        ENGINE = sa.create_engine("{pg}")

        def test_fast():
            with ENGINE.connect() as c:
                assert c.execute(sa.text("SELECT pg_sleep(0.01), 1")).one()[1] == 1

        def test_slow():
            with ENGINE.connect() as c:
                c.execute(sa.text("SELECT pg_sleep(1.5)"))

        def test_slow_then_cancelled_by_the_server():
            with ENGINE.connect() as c:
                c.execute(sa.text("SET statement_timeout = 1200"))
                with pytest.raises(OperationalError):
                    c.execute(sa.text("SELECT pg_sleep(3)"))

        @pytest.fixture
        def slow_setup():
            with ENGINE.connect() as c:
                c.execute(sa.text("SELECT pg_sleep(1.5) AS in_setup"))

        def test_slow_fixture(slow_setup):
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--th-query-timeout", "0.8")
    result.assert_outcomes(passed=1, failed=2, errors=1)
    out = _failures(result)
    assert "tracehound: query-time budget 0.8 s per query" in out
    assert "1 query ran longer than the 0.8 s budget (--th-query-timeout) during the test" in out
    assert "SELECT pg_sleep(1.5)" in out and "SELECT pg_sleep(3)" in out
    assert "during setup" in out and "in_setup" in out
    # Without the option the budget is off: the same tests pass (the cancelled one expects its error).
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_query_time_budget_must_be_positive(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_x(): pass")
    result = pytester.runpytest("-p", "no:cacheprovider", "--th-query-timeout", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--th-query-timeout must be a number of seconds above 0" in "\n".join(result.errlines)


# -- the query-count budget ---------------------------------------------------------------------

_INVOICES_APP = '''
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import ForeignKey, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[int] = mapped_column(primary_key=True)
    lines: Mapped[list["Line"]] = relationship()


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    cents: Mapped[int]


engine = create_engine("sqlite:///{db}")
Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add_all([Invoice(id=i, lines=[Line(cents=100 * i + k) for k in range(3)]) for i in range(1, 7)])
    s.commit()

app = FastAPI()


@app.get("/invoices")
def invoices(eager: bool = False):
    query = select(Invoice).options(selectinload(Invoice.lines)) if eager else select(Invoice)
    with Session(engine) as s:
        return [{{"id": inv.id, "total": sum(l.cents for l in inv.lines)}} for inv in s.scalars(query)]


client = TestClient(app)
'''


def test_max_queries_catches_an_n_plus_one_loop(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(invoices_app=_INVOICES_APP.format(db=tmp_path / "invoices.db"))
    pytester.makepyfile(test_inner="""
        from invoices_app import client

        def test_lazy_lines(max_queries):
            with max_queries(3):
                assert len(client.get("/invoices").json()) == 6

        def test_selectinload(max_queries):
            with max_queries(3) as log:
                assert len(client.get("/invoices", params={"eager": "true"}).json()) == 6
            assert len(log) == 2 and all("SELECT" in s for s in log.statements)
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = _failures(result)
    assert "7 queries ran where at most 3 may (max_queries(3))" in out and "with max_queries(3):" in out
    assert "FROM invoices" in out
    # The repeated statement is named once with its count, or (where pytest prints the whole
    # message, as under CI=true) listed six times.
    repeated = [line for line in result.outlines if "×6  SELECT" in line and "FROM lines" in line]
    listed = [line for line in result.outlines if "FROM lines WHERE" in line]
    assert len(repeated) == 1 or len(listed) >= 6, out


def test_max_queries_lets_the_blocks_own_error_through(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(invoices_app=_INVOICES_APP.format(db=tmp_path / "invoices.db"))
    pytester.makepyfile(test_inner="""
        import pytest
        from invoices_app import client

        def test_error_first(max_queries):
            with pytest.raises(ZeroDivisionError):
                with max_queries(0):
                    client.get("/invoices")
                    1 / 0

        def test_bad_budget(max_queries):
            with pytest.raises(ValueError, match="whole number"):
                max_queries(-1)
    """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
