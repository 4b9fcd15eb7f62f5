"""The PostgreSQL inspector: what the database was doing while the experiments ran.

:class:`PostgresSampler` polls on its own connection (``application_name=tracehound``, read-only
transactions, a statement timeout on its session; it never writes): every tick it reads
``pg_stat_activity`` (sessions by state, wait and application, idle-in-transaction ages, the
oldest transaction, who blocks whom through ``pg_blocking_pids``) and ``pg_stat_database``
(rollbacks, deadlocks, temp files, sessions ended by fatal errors or abandoned); on heavy ticks
it also reads ``pg_stat_statements`` and replication lag. The settings that make failures come
and go (``idle_session_timeout`` and the other timeouts, ``tcp_keepalives_*``, ``max_connections``)
are read once, before the sampler changes its own session.

:func:`analyze_postgres` turns a recording and the requests' start times into findings and
``pg:`` signals: statement calls per probed request (N+1) from the statement deltas of the
windows the requests fell in, mean and max times (slow statements), connections used against
``max_connections``, and so on. It keys on no table, query or application name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tracehound.agents.base import AgentResult, Finding
from tracehound.agents.sampling import (
    Recording,
    Sample,
    Sampler,
    aligned,
    clock,
    count_between,
    during,
    inspect_for,
    load_window,
    one_line,
    recording_result,
    sampled_agent,
)
from tracehound.diagnosis.signals import Signal, register, signal
from tracehound.errors import BadSource, SourceUnreachable
from tracehound.redact import redact_text, redact_url

NAME = "postgres"
APP_NAME = "tracehound"
#: Our own statements carry this comment (inside the statement: pg_stat_statements drops a leading one).
TAG = "/* tracehound */"
STATEMENT_TIMEOUT_MS = 3000
STATEMENTS_LIMIT = 1000
SETTINGS = ("max_connections", "superuser_reserved_connections", "reserved_connections", "idle_session_timeout",
            "idle_in_transaction_session_timeout", "statement_timeout", "lock_timeout", "tcp_keepalives_idle",
            "tcp_keepalives_interval", "tcp_keepalives_count", "deadlock_timeout")
#: An idle-in-transaction pause this long means the application did other work holding the transaction.
IDLE_IN_TX_S = 0.1
#: A transaction idle this long, outliving the load, has been forgotten.
FORGOTTEN_TX_S = 5.0
#: Fewer probed requests than this in the load windows and calls per request are not estimated.
MIN_REQUESTS = 20
#: Signals that hold whenever they are read: a snapshot taken after the requests still tests them.
TIMELESS = ("pg:idle_session_timeout_set", "pg:idle_in_transaction_timeout_set", "pg:statement_timeout_set",
            "pg:lock_timeout_set")

_SIGNALS = {
    "pg:connections_near_max": "the server's connections came close to max_connections (less the reserved slots)",
    "pg:idle_in_transaction": "sessions sat idle inside an open transaction (the application held it while doing other work)",
    "pg:open_transactions_accumulate": "sessions idle in transaction for seconds pile up and outlive the load (never committed or closed)",
    "pg:blocked_sessions": "sessions waited on locks held by other sessions (pg_blocking_pids)",
    "pg:deadlocks": "PostgreSQL detected deadlocks while sampling",
    "pg:statement_calls_per_request_high": "one statement ran many times per probed request (pg_stat_statements)",
    "pg:statement_slow": "a statement took long on average or at its worst while sampling (pg_stat_statements)",
    "pg:temp_files": "queries spilled sorts or hashes to temporary files while sampling",
    "pg:idle_session_timeout_set": "idle_session_timeout is set: the server ends sessions that sit idle, pooled ones included",
    "pg:idle_in_transaction_timeout_set": "idle_in_transaction_session_timeout is set: the server ends sessions idle in a transaction",
    "pg:statement_timeout_set": "statement_timeout is set: the server cancels statements that run longer",
    "pg:lock_timeout_set": "lock_timeout is set: the server cancels statements that wait longer for a lock",
    "pg:replication_lag": "a replica trails the primary (replay lag)",
    "pg:sessions_terminated": "the server ended sessions with a fatal error or on request while sampling (pg_stat_database)",
    "pg:sessions_abandoned": "clients vanished without closing their sessions while sampling (pg_stat_database)",
    "pg:unavailable_during_run": "the inspector's own connection to PostgreSQL failed while the experiments ran",
}
for _name, _desc in _SIGNALS.items():
    register(_name, _desc, "postgres")


# -- connecting ---------------------------------------------------------------------------------


def normalize_dsn(dsn: str) -> str:
    """A libpq DSN from what users paste: SQLAlchemy's ``postgresql+driver://`` becomes ``postgresql://``."""
    dsn = dsn.strip()
    return re.sub(r"^(postgres(?:ql)?)\+[a-z0-9_]+://", r"\1://", dsn, flags=re.I)


def describe_dsn(dsn: str) -> str:
    """``host:port/db`` (or the redacted DSN) for messages: never the password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        d = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - only for a message
        return redact_url(dsn)
    host = d.get("host") or d.get("hostaddr") or "localhost"
    return f"{host}:{d.get('port') or 5432}/{d.get('dbname') or d.get('user') or ''}"


_REJECTED = ("authentication failed", "no password supplied", "does not exist", "permission denied", "pg_hba.conf")
#: The server is up but out of connection slots (libpq's and PostgreSQL's words for it).
_FULL = ("too many clients", "remaining connection slots", "too many connections")
_MALFORMED = ("invalid", "sslmode", "ssl is not", "unrecognized", "missing")
_PREFIX = re.compile(r'^(?:connection (?:failed|is bad): )?(?:connection to server (?:at|on) .*? failed: )?(?:FATAL:\s+)?', re.I)


def connect_error(dsn: str, e: BaseException) -> BadSource | SourceUnreachable:
    """A connection failure as the error a user can act on: credentials or DSN (exit 2), unreachable (exit 3)."""
    msg = _PREFIX.sub("", one_line(e)).strip() or type(e).__name__
    where = describe_dsn(dsn)
    low = msg.lower()
    if any(k in low for k in _REJECTED):
        return BadSource(f"PostgreSQL at {where} rejected the connection: {msg}",
                         hint="check the user, password and database in the DSN")
    if "too old" in low:
        return BadSource(f"PostgreSQL at {where}: {msg}")
    if any(k in low for k in _MALFORMED):
        return BadSource(f"cannot use the DSN for {where}: {msg}", hint="give postgresql://user:password@host:port/db")
    return SourceUnreachable(f"cannot connect to PostgreSQL at {where}: {msg}", hint="is the server running and reachable?")


_SQL_SECRET = re.compile(r"(?i)\b(password|identified by|secret)(\s+)'(?:[^']|'')*'")


def redact_sql(text: str) -> str:
    """A statement for a report: credentials masked, also the literal ones of ``CREATE ROLE … PASSWORD '…'``."""
    return redact_text(_SQL_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}'[redacted]'", text or ""))


def _seconds(value: str, unit: str | None) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v * {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}.get(unit or "", 1.0)


class PostgresSampler(Sampler):
    """Polls a PostgreSQL server on its own read-only connection; see :class:`~tracehound.agents.sampling.Sampler`."""

    source = "PostgreSQL"

    def __init__(self, dsn: str, interval_s: float = 0.5, heavy_every_s: float = 5.0) -> None:
        super().__init__(interval_s, heavy_every_s)
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError:  # pragma: no cover - psycopg is a dependency of the lab and test extras
            raise BadSource("the PostgreSQL inspector needs psycopg 3", hint="pip install 'psycopg[binary]>=3.1'") from None
        self.dsn = self.address = normalize_dsn(dsn)
        try:
            conninfo_to_dict(self.dsn)
        except psycopg.Error as e:
            raise BadSource(f"not a PostgreSQL DSN: {one_line(e)}", hint="give postgresql://user:password@host:port/db") from None
        self.driver_errors = (psycopg.Error, OSError)
        self._version = 0
        self._statements_ok = True
        self._known: set[str] = set()

    def _fatal(self, error: BaseException) -> bool:
        return isinstance(connect_error(self.dsn, error), BadSource)

    def check(self) -> None:
        """Connect once and close: :class:`BadSource` or :class:`SourceUnreachable` when that fails."""
        try:
            conn = self._connect()
        except self.driver_errors as e:
            raise connect_error(self.dsn, e) from None
        self._close(conn)

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=3, application_name=APP_NAME)
        try:
            if not self.info:
                self._read_info(conn)
            # Our own session only: never a write, never wait long, never be timed out while idle.
            for stmt in ("SET default_transaction_read_only = on", f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}",
                         "SET lock_timeout = 1000", "SET idle_in_transaction_session_timeout = 0"):
                conn.execute(stmt.replace("SET ", f"SET {TAG} ", 1))
            if self._version >= 140000:
                conn.execute(f"SET {TAG} idle_session_timeout = 0")
        except BaseException:
            conn.close()
            raise
        return conn

    def _read_info(self, conn: Any) -> None:
        row = conn.execute(
            f"SELECT {TAG} current_setting('server_version_num')::int, current_user, current_database(), "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
            "pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER'), pg_is_in_recovery()").fetchone()
        self._version = int(row[0])
        if self._version < 100000:
            import psycopg

            raise psycopg.NotSupportedError(f"server version {self._version} is too old: the inspector needs PostgreSQL 10 or newer")
        settings: dict[str, Any] = {}
        for name, setting, unit in conn.execute(
                f"SELECT {TAG} name, setting, unit FROM pg_settings WHERE name = ANY(%s)", (list(SETTINGS),)).fetchall():
            settings[name] = int(setting) if unit is None and setting.lstrip("-").isdigit() else _seconds(setting, unit)
        self.info = {"version": self._version, "user": row[1], "database": row[2], "superuser": bool(row[3]),
                     "read_all_stats": bool(row[3]) or bool(row[4]), "in_recovery": bool(row[5]),
                     "settings": settings, "where": describe_dsn(self.dsn)}

    def _read(self, conn: Any, heavy: bool) -> dict[str, Any]:
        data = _activity(conn.execute(
            f"SELECT {TAG} pid, datname, usename, application_name, state, wait_event_type, wait_event, "
            "EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8, "
            "EXTRACT(EPOCH FROM clock_timestamp() - state_change)::float8, "
            "CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END, left(query, 300) "
            "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            # Other roles' rows hide backend_type from a role without pg_read_all_stats; they keep datid.
            "AND (backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL))").fetchall())
        extra = ", sum(sessions), sum(sessions_abandoned), sum(sessions_fatal), sum(sessions_killed)" \
            if self._version >= 140000 else ""
        row = conn.execute(f"SELECT {TAG} sum(xact_commit), sum(xact_rollback), sum(deadlocks), sum(temp_files), "
                           f"sum(temp_bytes){extra} FROM pg_stat_database").fetchone()
        keys = ("xact_commit", "xact_rollback", "deadlocks", "temp_files", "temp_bytes", "sessions",
                "sessions_abandoned", "sessions_fatal", "sessions_killed")
        data["db"] = {k: int(v or 0) for k, v in zip(keys, row)}
        data["replication"] = self._replication(conn)
        if heavy and self._statements_ok:
            self._read_statements(conn, data)
        return data

    def _read_statements(self, conn: Any, data: dict[str, Any]) -> None:
        import psycopg

        total, mx = ("total_exec_time", "max_exec_time") if self._version >= 130000 else ("total_time", "max_time")
        top = "toplevel::text" if self._version >= 140000 else "'t'"
        try:
            rows = conn.execute(
                f"SELECT {TAG} userid::text || ':' || dbid::text || ':' || coalesce(queryid::text, '') || ':' || {top}, "
                f"calls, {total}, {mx}, rows, temp_blks_written, left(query, 300) FROM pg_stat_statements "
                f"WHERE query NOT LIKE '%{TAG}%' ORDER BY calls DESC LIMIT {STATEMENTS_LIMIT}").fetchall()
        except psycopg.errors.UndefinedTable:
            return self._no_statements("the pg_stat_statements extension is not installed in this database")
        except psycopg.errors.ObjectNotInPrerequisiteState:
            return self._no_statements("pg_stat_statements is not in shared_preload_libraries")
        except psycopg.errors.InsufficientPrivilege:
            return self._no_statements("this role may not read pg_stat_statements")
        stats, texts = {}, {}
        for key, calls, tot, mxt, nrows, temp, query in rows:
            stats[key] = [int(calls), float(tot), float(mxt), int(nrows), int(temp or 0)]
            if key not in self._known:
                self._known.add(key)
                texts[key] = redact_sql(query)
        data["statements"] = stats
        data["texts"] = texts

    def _no_statements(self, why: str) -> None:
        self._statements_ok = False
        self.info["statements_missing"] = why

    def _replication(self, conn: Any) -> dict[str, Any]:
        if conn.execute(f"SELECT {TAG} pg_is_in_recovery()").fetchone()[0]:
            row = conn.execute(
                f"SELECT {TAG} CASE WHEN pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn() "
                "THEN EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 ELSE 0 END, "
                "coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8, "
                "coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::float8").fetchone()
            behind = float(row[1] or 0)
            return {"role": "replica", "replicas": 1, "lag_s": max(0.0, float(row[0] or 0)), "bytes": behind,
                    "each": {"this replica": [behind, float(row[2] or 0)]}}
        rows = conn.execute(
            f"SELECT {TAG} pid, application_name, coalesce(EXTRACT(EPOCH FROM replay_lag)::float8, 0), "
            "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::float8, "
            "coalesce(pg_wal_lsn_diff(replay_lsn, '0/0'), 0)::float8 FROM pg_stat_replication "
            "WHERE state IS DISTINCT FROM 'backup'").fetchall()  # a base backup in progress is no replica
        return {"role": "primary", "replicas": len(rows), "lag_s": max((float(r[2]) for r in rows), default=0.0),
                "bytes": max((float(r[3]) for r in rows), default=0.0),
                # Per replica: (bytes behind, replay position), to see a replay that stopped moving.
                "each": {f"{r[1] or 'replica'} (pid {r[0]})": [float(r[3]), float(r[4])] for r in rows}}


def _activity(rows: Sequence[tuple]) -> dict[str, Any]:
    """One pg_stat_activity read, summarised: counts, and the few sessions worth naming."""
    by_state: Counter[str] = Counter()
    by_wait: Counter[str] = Counter()
    by_app: Counter[str] = Counter()
    ours = hidden = 0
    idle_tx: list[list[Any]] = []
    blocked: list[list[Any]] = []
    by_pid: dict[int, list[Any]] = {}
    oldest: list[Any] | None = None
    for pid, _db, _user, app, state, wtype, wevent, xact_age, state_age, blockers, query in rows:
        if app == APP_NAME:
            ours += 1
            continue
        if state is None:
            hidden += 1
        by_state[state or "hidden"] += 1
        if wtype and state == "active":  # an idle session always "waits" for its client
            by_wait[f"{wtype}:{wevent}"] += 1
        by_app[app or "(none)"] += 1
        q = redact_sql(" ".join((query or "").split()))[:200]
        by_pid[pid] = [state, xact_age, app or "", q]
        if state in ("idle in transaction", "idle in transaction (aborted)"):
            idle_tx.append([pid, float(state_age or 0), float(xact_age or 0), app or "", q])
        if blockers:
            blocked.append([pid, float(state_age or 0), f"{wtype}:{wevent}", list(blockers), app or "", q])
        if xact_age is not None and (oldest is None or xact_age > oldest[1]):
            oldest = [pid, float(xact_age), state, app or "", q]
    blocker_pids = {b for row in blocked for b in row[3]}
    idle_tx.sort(key=lambda r: -r[1])
    blocked.sort(key=lambda r: -r[1])
    return {"sessions": sum(by_state.values()), "ours": ours, "hidden": hidden, "by_state": dict(by_state),
            "by_wait": dict(by_wait), "by_app": dict(by_app.most_common(8)), "idle_in_tx": idle_tx[:20],
            "oldest_xact": oldest, "blocked": blocked[:20],
            "blockers": {str(p): by_pid[p] for p in blocker_pids if p in by_pid}}


# -- analysis -------------------------------------------------------------------------------------


@dataclass
class PostgresAnalysis:
    findings: list[Finding] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def signals(self) -> list[Signal]:
        return [s for f in self.findings for s in f.signals]


@dataclass
class StatementFigures:
    """One statement over the sampled windows."""

    key: str
    text: str
    calls: int
    total_ms: float
    max_ms: float
    rows: int
    per_request: float | None = None

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    def describe(self) -> str:
        per = f"{self.per_request:.1f} calls per request, " if self.per_request is not None else ""
        rows = f", {self.rows / self.calls:.0f} rows per call" if self.calls else ""
        return (f"{per}{self.calls} calls, mean {_ms(self.mean_ms)}, max {_ms(self.max_ms)}{rows}: "
                f"{_short(self.text)}")


def analyze_postgres(rec: Recording, times: np.ndarray) -> PostgresAnalysis:
    """Findings and ``pg:`` signals from a recording and the sorted start times (ns) of the probed requests."""
    out = PostgresAnalysis()
    ok = rec.ok_samples
    if not ok:
        out.detail = f"no sample could be read: {rec.first_error() or rec.crash or 'nothing sampled'}"
        return out
    window = load_window(times)
    now = during(ok, window) or ok
    ctx = _Context(rec, ok, now, times, window, out)
    ctx.run()
    return out


class _Context:
    def __init__(self, rec: Recording, ok: list[Sample], now: list[Sample], times: np.ndarray,
                 window: tuple[int, int] | None, out: PostgresAnalysis) -> None:
        self.rec, self.ok, self.now, self.times, self.window, self.out = rec, ok, now, times, window, out
        self.info = rec.info
        self.settings: dict[str, Any] = rec.info.get("settings", {})
        peak_hidden = max(s.data["hidden"] for s in now)
        peak_sessions = max(s.data["sessions"] for s in now)
        #: Other roles' sessions hide their state from a role without pg_read_all_stats.
        self.blind = peak_sessions > 0 and peak_hidden >= 0.5 * peak_sessions
        self.covers_load = window is None or bool(during(ok, window))

    def tested(self, *names: str) -> None:
        if not self.covers_load:  # samples taken after the requests: only the settings speak for that time
            names = tuple(n for n in names if n in TIMELESS)
        self.out.tested.extend(names)

    def finding(self, title: str, detail: str, signals: list[Signal] | None = None, exemplars: list[str] | None = None) -> None:
        sigs = signals or []
        ex = exemplars if exemplars is not None else [e for s in sigs for e in s.exemplars][:5]
        self.out.findings.append(Finding(title, detail, ex, sigs))

    def run(self) -> None:
        self.connections()
        self.transactions()
        self.locks()
        self.statements()
        self.counters()
        self.settings_()
        self.replication()
        self.availability()
        self.visibility()
        span = (self.ok[-1].t_ns - self.ok[0].t_ns) / 1e9
        self.out.detail = (f"{len(self.rec.samples)} samples of {self.info.get('where', 'PostgreSQL')} over {span:.1f} s "
                           f"({aligned(len(during(self.ok, self.window)), self.window)}); {len(self.out.signals)} signal(s)")

    # -- sessions -----------------------------------------------------------------------------
    def connections(self) -> None:
        s = self.settings
        max_conn = int(s.get("max_connections") or 0)
        reserved = int(s.get("superuser_reserved_connections") or 0) + int(s.get("reserved_connections") or 0)
        usable = max(1, max_conn - reserved)
        peak = max(self.now, key=lambda x: x.data["sessions"] + x.data["ours"])
        used = peak.data["sessions"] + peak.data["ours"]
        share = used / usable
        states = ", ".join(f"{k} {v}" for k, v in sorted(peak.data["by_state"].items(), key=lambda kv: -kv[1]))
        apps = ", ".join(f"{k or '(none)'} {v}" for k, v in peak.data["by_app"].items())
        waits = Counter[str]()
        for x in self.now:
            waits.update(x.data["by_wait"])
        wait_txt = ", ".join(f"{k} {v}" for k, v in waits.most_common(5))
        detail = (f"peak {used} of {usable} usable connections ({share:.0%}; max_connections {max_conn}, {reserved} reserved): "
                  f"{states or 'none'}; by application: {apps or 'none'}"
                  + (f"; active sessions waited on (session-samples): {wait_txt}" if wait_txt else ""))
        sigs: list[Signal] = []
        full = [x for x in self.rec.samples if x.error and any(k in x.error.lower() for k in _FULL)]
        if max_conn:
            self.tested("pg:connections_near_max")
            if share >= 0.8 or full:
                ex = [f"{used}/{usable} connections at {clock(peak.t_ns)}: {states}"]
                ex += [f"{clock(x.t_ns)}: the inspector's own connection was refused: {x.error}" for x in full[:2]]
                sigs.append(signal("pg:connections_near_max", 1.0 if full else (share - 0.7) / 0.25, detail, ex,
                                   value=1.0 if full else share))
        self.finding("PostgreSQL connections", detail, sigs, [])

    def transactions(self) -> None:
        if not self.blind:
            self.tested("pg:idle_in_transaction")
        seen = [x for x in self.now if any(r[1] >= IDLE_IN_TX_S for r in x.data["idle_in_tx"])]
        rows = [r for x in self.now for r in x.data["idle_in_tx"] if r[1] >= IDLE_IN_TX_S]
        sigs: list[Signal] = []
        parts: list[str] = []
        oldest = max((x.data["oldest_xact"] for x in self.now if x.data["oldest_xact"]), key=lambda r: r[1], default=None)
        if oldest:
            parts.append(f"oldest transaction {oldest[1]:.1f} s ({oldest[2]}, pid {oldest[0]}): {_short(oldest[4])}")
        if rows:
            longest = max(r[1] for r in rows)
            peak = max(sum(r[1] >= IDLE_IN_TX_S for r in x.data["idle_in_tx"]) for x in self.now)
            share = len(seen) / len(self.now)
            d = (f"sessions idle inside a transaction for ≥{IDLE_IN_TX_S:g} s in {len(seen)} of {len(self.now)} samples "
                 f"(up to {peak} at once, longest {longest:.1f} s)")
            parts.insert(0, d)
            if len(seen) >= 2 or longest >= 1.0:
                ex = [f"pid {r[0]} ({r[3] or 'no application_name'}) idle in transaction {r[1]:.2f} s, open {r[2]:.1f} s; "
                      f"last: {_short(r[4])}" for r in _spread(rows, key=1)]
                sigs.append(signal("pg:idle_in_transaction", max(0.3, share, min(1.0, longest / 5)), d, ex, value=longest))
        self.forgotten(sigs, parts)
        if parts or sigs:
            self.finding("Transactions", "; ".join(parts), sigs)

    def forgotten(self, sigs: list[Signal], parts: list[str]) -> None:
        """Transactions left open: idle for seconds, more of them at the end than at the start."""
        ok = self.ok
        if (ok[-1].t_ns - ok[0].t_ns) / 1e9 < FORGOTTEN_TX_S or self.blind:
            return
        self.tested("pg:open_transactions_accumulate")

        def old(x: Sample) -> list[list[Any]]:
            # Idle all that time: a session still in use runs a statement now and then, even on a busy service.
            return [r for r in x.data["idle_in_tx"] if r[1] >= FORGOTTEN_TX_S]

        first, last = len(old(ok[0])), old(ok[-1])
        if len(last) >= 2 and len(last) > first:
            d = (f"{len(last)} sessions were idle in a transaction open for ≥{FORGOTTEN_TX_S:g} s at the last sample "
                 f"({first} at the first); the oldest open {max(r[2] for r in last):.1f} s")
            parts.append(d)
            ex = [f"pid {r[0]} ({r[3] or 'no application_name'}) transaction open {r[2]:.1f} s, idle {r[1]:.1f} s; "
                  f"last: {_short(r[4])}" for r in last[:5]]
            sigs.append(signal("pg:open_transactions_accumulate", 0.3 + 0.15 * len(last), d, ex, value=len(last)))

    def locks(self) -> None:
        if not self.blind:
            self.tested("pg:blocked_sessions")
        seen = [x for x in self.now if x.data["blocked"]]
        if not seen:
            return
        rows = [(x, r) for x in seen for r in x.data["blocked"]]
        peak = max(len(x.data["blocked"]) for x in seen)
        longest = max(r[1] for _, r in rows)
        share = len(seen) / len(self.now)
        d = (f"sessions waiting on another session's lock in {len(seen)} of {len(self.now)} samples "
             f"(up to {peak} at once, longest wait {longest:.2f} s)")
        ex, named = [], set()
        for x, r in sorted(rows, key=lambda xr: -xr[1][1]):
            if r[0] in named or len(named) == 5:
                continue
            named.add(r[0])
            by = []
            for b in r[3][:3]:
                info = x.data["blockers"].get(str(b))
                by.append(f"pid {b}" + (f" ({info[0]}, transaction open {info[1] or 0:.1f} s: {_short(info[3], 60)})" if info else ""))
            ex.append(f"pid {r[0]} waited {r[1]:.2f} s on {r[2]} behind {', '.join(by)}: {_short(r[5])}")
        sigs: list[Signal] = []
        if len(seen) >= 2 or longest >= 0.5:
            sigs.append(signal("pg:blocked_sessions", max(0.3, share, min(1.0, peak / 4), min(1.0, longest / 2)), d, ex,
                               value=float(peak)))
        self.finding("Lock waits", d, sigs, ex)

    # -- statements -------------------------------------------------------------------------------
    def statements(self) -> None:
        missing = self.info.get("statements_missing")
        heavy = [x for x in self.ok if x.heavy and "statements" in x.data]
        if missing or len(heavy) < 2:
            why = missing or "fewer than two statement snapshots"
            self.finding("Statements not measured",
                         f"{why}: calls per request (N+1) and statement times (slow queries) are not measured; "
                         "the other views still are")
            return
        texts: dict[str, str] = {}
        for x in heavy:
            texts.update(x.data.get("texts", {}))
        windows = _windows(heavy, self.times)
        first = int(self.times[0]) if self.times.size else None
        # From the first request on, the windows after the last one included (late work is theirs too).
        scope = [w for w in windows if first is None or w.t1 > first] or windows
        if not any(w.delta for w in scope):
            self._cumulative(heavy[-1], texts)
            return
        self.tested("pg:statement_slow")
        figs = _figures(scope, texts)
        sigs: list[Signal] = []
        parts: list[str] = []
        reqs = sum(w.requests for w in windows)
        if first is not None and reqs >= MIN_REQUESTS:
            self.tested("pg:statement_calls_per_request_high")
            _per_request(figs, windows, first)
            total = sum(f.per_request or 0 for f in figs.values())
            parts.append(f"{reqs} probed requests in the sampled windows; {total:.1f} statements per request in all")
            many = sorted((f for f in figs.values() if (f.per_request or 0) >= 10), key=lambda f: -(f.per_request or 0))
            if many:
                top = many[0]
                assert top.per_request is not None
                d = f"one statement ran {top.per_request:.0f} times per probed request ({top.calls} calls for {reqs} requests)"
                sigs.append(signal("pg:statement_calls_per_request_high", math.log(top.per_request / 5) / math.log(20), d,
                                   [f.describe() for f in many[:5]], value=top.per_request))
        slow = sorted((f for f in figs.values() if f.calls and _slowness(f) >= 0.15), key=lambda f: -_slowness(f))
        if slow:
            top = slow[0]
            d = f"slowest statement: mean {_ms(top.mean_ms)}, max {_ms(top.max_ms)} over {top.calls} calls while sampling"
            sigs.append(signal("pg:statement_slow", _slowness(top), d, [f.describe() for f in slow[:5]], value=top.mean_ms))
        busiest = sorted(figs.values(), key=lambda f: -f.total_ms)[:3]
        parts.append("most time: " + "; ".join(f.describe() for f in busiest))
        self.finding("Statements (pg_stat_statements)", "; ".join(parts), sigs,
                     [e for s in sigs for e in s.exemplars][:5] or [f.describe() for f in busiest])

    def _cumulative(self, last: Sample, texts: dict[str, str]) -> None:
        """No calls while sampling: the statistics since their last reset, at half strength."""
        figs = [StatementFigures(k, texts.get(k, ""), v[0], v[1], v[2], v[3]) for k, v in last.data["statements"].items()]
        slow = sorted((f for f in figs if f.calls >= 3 and _slowness(f) >= 0.15), key=lambda f: -_slowness(f))
        sigs = []
        if slow:
            top = slow[0]
            d = (f"since the statistics were last reset (not measured during the experiments): mean {_ms(top.mean_ms)}, "
                 f"max {_ms(top.max_ms)} over {top.calls} calls")
            sigs.append(signal("pg:statement_slow", 0.5 * _slowness(top), d, [f.describe() for f in slow[:5]], value=top.mean_ms))
        busiest = sorted(figs, key=lambda f: -f.total_ms)[:3]
        self.finding("Statements (pg_stat_statements, cumulative)",
                     "no statement ran while sampling; cumulative figures: "
                     + ("; ".join(f.describe() for f in busiest) or "none"), sigs)

    # -- counters ---------------------------------------------------------------------------------
    def counters(self) -> None:
        first, last = self.ok[0].data["db"], self.ok[-1].data["db"]
        d = {k: max(0, last[k] - first[k]) for k in first}
        if len(self.ok) < 2:
            return
        self.tested("pg:deadlocks", "pg:temp_files")
        sigs: list[Signal] = []
        text = (f"while sampling: {d['xact_commit']} commits, {d['xact_rollback']} rollbacks, {d['deadlocks']} deadlocks, "
                f"{d['temp_files']} temp files ({d['temp_bytes'] / 1e6:.1f} MB)")
        if d["deadlocks"]:
            what = f"{d['deadlocks']} deadlock(s) detected while sampling"
            sigs.append(signal("pg:deadlocks", 0.5 + 0.1 * d["deadlocks"], what, [what], value=d["deadlocks"]))
        if d["temp_files"]:
            what = f"{d['temp_files']} temporary file(s), {d['temp_bytes'] / 1e6:.1f} MB, written by queries"
            sigs.append(signal("pg:temp_files", 0.3 + 0.1 * d["temp_files"], what, [what], value=d["temp_files"]))
        if self.info.get("version", 0) >= 140000:
            self.tested("pg:sessions_terminated", "pg:sessions_abandoned")
            ended = d["sessions_fatal"] + d["sessions_killed"]
            text += (f"; sessions: {d['sessions']} began, {d['sessions_fatal']} ended by a fatal error, "
                     f"{d['sessions_killed']} terminated by request, {d['sessions_abandoned']} abandoned by their client")
            if ended:
                what = f"{ended} session(s) ended by the server (fatal error or termination) while sampling{self._why_ended()}"
                sigs.append(signal("pg:sessions_terminated", 0.4 + 0.15 * ended, what, [what], value=ended))
            if d["sessions_abandoned"]:
                what = f"{d['sessions_abandoned']} session(s) abandoned: the client went away without closing"
                sigs.append(signal("pg:sessions_abandoned", 0.4 + 0.1 * d["sessions_abandoned"], what, [what],
                                   value=d["sessions_abandoned"]))
        self.finding("Server counters (pg_stat_database)", text, sigs)

    def _why_ended(self) -> str:
        s = self.settings
        reasons = [f"{n} = {_secs(s[n])}" for n in ("idle_session_timeout", "idle_in_transaction_session_timeout")
                   if s.get(n)]
        return f"; the server has {', '.join(reasons)}" if reasons else ""

    # -- settings -----------------------------------------------------------------------------------
    def settings_(self) -> None:
        s = self.settings
        if not s:
            return
        who = f"as role {self.info.get('user')} sees them"
        shown = [f"{n} = {_secs(s[n]) if 'timeout' in n or 'keepalives_i' in n else s[n]}"
                 for n in SETTINGS if n in s and n not in ("max_connections", "superuser_reserved_connections", "reserved_connections")]
        sigs: list[Signal] = []
        checks = (("idle_session_timeout", "pg:idle_session_timeout_set", (60, 600)),
                  ("idle_in_transaction_session_timeout", "pg:idle_in_transaction_timeout_set", (60, 600)),
                  ("statement_timeout", "pg:statement_timeout_set", (5, 30)),
                  ("lock_timeout", "pg:lock_timeout_set", (5, 30)))
        for setting, name, (short, medium) in checks:
            if setting not in s:
                continue
            self.tested(name)
            v = s[setting]
            if v and v > 0:
                strength = 1.0 if v <= short else 0.7 if v <= medium else 0.4
                sigs.append(signal(name, strength, f"{setting} = {_secs(v)} ({who})", [f"{setting} = {_secs(v)}"], value=v))
        self.finding("Settings that end sessions or statements", f"{'; '.join(shown)} ({who})", sigs)

    def replication(self) -> None:
        samples = [x for x in self.ok if "replication" in x.data]
        reps = [x.data["replication"] for x in samples]
        if not reps or not any(r["replicas"] for r in reps):
            return
        self.tested("pg:replication_lag")
        worst = max(reps, key=lambda r: r["lag_s"])
        # On a replica the age of the last replayed transaction is lag only while WAL stays unreplayed
        # over two samples: after an idle spell, the first new record would look like minutes of lag.
        lag = max((b["lag_s"] for a, b in zip(reps, reps[1:]) if b["role"] == "primary" or min(a["bytes"], b["bytes"]) > 0),
                  default=reps[0]["lag_s"] if reps[0]["role"] == "primary" else 0.0)
        stalled = _stalled_replay(samples)
        role = "this server is a replica" if worst["role"] == "replica" else f"{max(r['replicas'] for r in reps)} replica(s)"
        d = f"{role}; replay lag up to {_ms(lag * 1000)}, up to {max(r['bytes'] for r in reps) / 1024:.0f} KiB behind"
        if stalled and stalled[1] > lag:
            lag = stalled[1]
            d += f"; {stalled[0]} replayed nothing for {stalled[1]:.1f} s while WAL waited for it"
        sigs = []
        if lag >= 0.02:
            strength = max(0.2, math.log10(lag * 1000 / 10) / 2)
            sigs.append(signal("pg:replication_lag", strength, d, [d], value=lag))
        self.finding("Replication", d, sigs)

    def availability(self) -> None:
        samples = self.rec.samples
        first_ok = next(i for i, x in enumerate(samples) if x.ok)
        later = samples[first_ok:]
        inside = during(later, self.window)
        if len(inside) < 3:
            return
        self.tested("pg:unavailable_during_run")
        # A server out of connection slots is up: that shows as connections near max, not as an outage.
        failed = [x for x in inside if x.error and not any(k in x.error.lower() for k in _FULL)]
        if not failed:
            return
        share = len(failed) / len(inside)
        d = (f"the inspector's connection failed in {len(failed)} of {len(inside)} samples while requests ran, "
             f"first at {clock(failed[0].t_ns)}: {failed[0].error}")
        ex = [f"{clock(x.t_ns)} ({x.phase}): {x.error}" for x in failed[:5]]
        self.finding("PostgreSQL unavailable", d, [signal("pg:unavailable_during_run", 0.5 + share, d, ex, value=share)])

    def visibility(self) -> None:
        if self.info.get("read_all_stats"):
            return
        hidden = max(x.data["hidden"] for x in self.ok)
        self.finding("Limited view",
                     f"role {self.info.get('user')} is neither superuser nor a member of pg_read_all_stats: it sees the state, "
                     f"waits and queries of its own sessions only ({hidden} other session(s) hidden at most); connection "
                     "counts are still right. GRANT pg_read_all_stats TO that role for the full picture")


@dataclass
class _Window:
    t0: int
    t1: int
    requests: int
    #: key → [calls, total_ms, max_ms (or a lower bound), rows, temp blocks]
    delta: dict[str, list[float]]

    @property
    def seconds(self) -> float:
        return max(1e-3, (self.t1 - self.t0) / 1e9)


def _windows(heavy: list[Sample], times: np.ndarray) -> list[_Window]:
    """Statement deltas between consecutive heavy samples, with the probed requests each window holds."""
    out = []
    for a, b in zip(heavy, heavy[1:]):
        sa, sb = a.data["statements"], b.data["statements"]
        delta: dict[str, list[float]] = {}
        for k, vb in sb.items():
            va = sa.get(k)
            if va is None or vb[0] < va[0]:  # new, or statistics reset in between
                va = [0, 0.0, 0.0, 0, 0]
            calls = vb[0] - va[0]
            if calls <= 0:
                continue
            total = max(0.0, vb[1] - va[1])
            # The view keeps one max since its reset: a new one is this window's; else the mean bounds it.
            worst = vb[2] if vb[2] > va[2] else total / calls
            delta[k] = [calls, total, worst, vb[3] - va[3], vb[4] - va[4]]
        out.append(_Window(a.t_ns, b.t_ns, count_between(times, a.t_ns, b.t_ns), delta))
    return out


def _figures(windows: list[_Window], texts: dict[str, str]) -> dict[str, StatementFigures]:
    figs: dict[str, StatementFigures] = {}
    for w in windows:
        for k, (calls, tot, mx, rows, _temp) in w.delta.items():
            f = figs.get(k)
            if f is None:
                f = figs[k] = StatementFigures(k, texts.get(k, ""), 0, 0.0, 0.0, 0)
            f.calls += int(calls)
            f.total_ms += tot
            f.max_ms = max(f.max_ms, mx)
            f.rows += int(rows)
    return figs


def _per_request(figs: dict[str, StatementFigures], windows: list[_Window], first_request_ns: int) -> None:
    """Calls per probed request, net of the rate each statement ran at before the first request.

    Everything from the first request on counts, the windows after the last one included: a
    service still working through requests its callers gave up on runs their statements late.
    A job that runs on its own (a poller, a cron) shows in the windows before the load, and that
    rate is taken off; without such windows nothing is, so start the sampler before the load.
    """
    before = [w for w in windows if w.t1 <= first_request_ns]
    since = [w for w in windows if w.t1 > first_request_ns]
    before_s = sum(w.seconds for w in before)
    since_s = sum(w.seconds for w in since)
    requests = max(1, sum(w.requests for w in since))
    for k, f in figs.items():
        rate = sum(w.delta.get(k, [0])[0] for w in before) / before_s if before_s >= 1.0 else 0.0
        calls = sum(w.delta.get(k, [0])[0] for w in since)
        f.per_request = max(0.0, calls - rate * since_s) / requests


def _stalled_replay(samples: list[Sample]) -> tuple[str, float] | None:
    """The longest time a replica's replay position stood still with WAL waiting for it (seen from the primary).

    ``replay_lag`` only updates when replay moves, so a replica that stopped replaying shows its
    old, small lag; its unchanged position with bytes still behind is what gives it away.
    """
    best: tuple[str, float] | None = None
    since: dict[str, tuple[int, float]] = {}
    for x in samples:
        for name, (behind, pos) in x.data["replication"].get("each", {}).items():
            start = since.get(name)
            if behind <= 0 or start is None or start[1] != pos:
                since[name] = (x.t_ns, pos)
                continue
            secs = (x.t_ns - start[0]) / 1e9
            if best is None or secs > best[1]:
                best = (name, secs)
    return best


def _slowness(f: StatementFigures) -> float:
    """0 at a 50 ms mean, 1 at 2 s; a single slow call counts at 0.7 of its weight."""
    def scale(ms: float) -> float:
        return 0.0 if ms <= 50 else min(1.0, math.log10(ms / 50) / math.log10(40))
    mean = scale(f.mean_ms) if f.calls >= 2 else 0.7 * scale(f.mean_ms)
    return max(mean, 0.7 * scale(f.max_ms))


def _spread(rows: list[list[Any]], key: int, k: int = 5) -> list[list[Any]]:
    """Up to ``k`` rows, one per pid, the longest first."""
    seen: set[int] = set()
    out = []
    for r in sorted(rows, key=lambda r: -r[key]):
        if r[0] not in seen:
            seen.add(r[0])
            out.append(r)
        if len(out) == k:
            break
    return out


def _short(text: str, n: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms" if ms >= 1 else f"{ms:.3f} ms"


def _secs(v: Any) -> str:
    if not isinstance(v, (int, float)):
        return str(v)
    return "off" if v == 0 else f"{v:g} s"



# -- the agent and the command -----------------------------------------------------------------------


async def postgres_agent(case: Any, runs: Sequence[Any], sampler: PostgresSampler | None = None) -> AgentResult:
    """The PostgreSQL agent: the sampler's recording (or, without one, a snapshot taken now) against the runs."""
    dsn = getattr(getattr(case, "sources", None), "db", None)
    return await sampled_agent(NAME, dsn, "--db", sampler, PostgresSampler, runs, _result)


def _result(rec: Recording, times: np.ndarray, dsn: str) -> AgentResult:
    return recording_result(NAME, rec, times, dsn, analyze_postgres, connect_error)


def inspect_postgres(dsn: str, duration_s: float = 10.0, interval_s: float = 0.5) -> AgentResult:
    """Sample a server for ``duration_s`` and analyse it (``tracehound db``); connection errors raise."""
    sampler = PostgresSampler(dsn, interval_s=interval_s, heavy_every_s=max(interval_s, min(5.0, duration_s / 4)))
    return inspect_for(sampler, duration_s, _result)


__all__ = ["PostgresSampler", "analyze_postgres", "connect_error", "inspect_postgres", "postgres_agent"]
