"""Sampling PostgreSQL: what the database was doing while the experiments ran.

:class:`PostgresSampler` polls on its own connection (``application_name=tracehound``, read-only
transactions, a statement timeout on its session; it never writes): every tick it reads
``pg_stat_activity`` (sessions by state, wait and application, idle-in-transaction ages, the
oldest transaction, who blocks whom through ``pg_blocking_pids``) and ``pg_stat_database``
(rollbacks, deadlocks, temp files, sessions ended by fatal errors or abandoned); on heavy ticks
it also reads ``pg_stat_statements`` and replication lag. The settings that make failures come
and go (``idle_session_timeout`` and the other timeouts, ``tcp_keepalives_*``, ``max_connections``)
are read once, before the sampler changes its own session. Each read is a frozen
:class:`PostgresReading`; what was read once is a :class:`PostgresInfo`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tracehound.errors import BadSource, SourceUnreachable
from tracehound.redact import redact_text, redact_url
from tracehound.sources.sampler import Sampler, one_line

if TYPE_CHECKING:
    import psycopg

APP_NAME = "tracehound"
#: Our own statements carry this comment (inside the statement: pg_stat_statements drops a leading one).
TAG = "/* tracehound */"
STATEMENT_TIMEOUT_MS = 3000
STATEMENTS_LIMIT = 1000
SETTINGS = ("max_connections", "superuser_reserved_connections", "reserved_connections", "idle_session_timeout",
            "idle_in_transaction_session_timeout", "statement_timeout", "lock_timeout", "tcp_keepalives_idle",
            "tcp_keepalives_interval", "tcp_keepalives_count", "deadlock_timeout")
#: The server is up but out of connection slots (libpq's and PostgreSQL's words for it).
FULL = ("too many clients", "remaining connection slots", "too many connections")


# -- what is read -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresInfo:
    """Read once, on the first connection; ``statements_missing`` says why statements could not be read."""

    where: str
    version: int = 0
    user: str = ""
    database: str = ""
    superuser: bool = False
    read_all_stats: bool = False
    in_recovery: bool = False
    #: Setting name → its value (seconds for times, a count otherwise; None when unreadable).
    settings: Mapping[str, float | None] = field(default_factory=dict)
    statements_missing: str | None = None


@dataclass(frozen=True)
class IdleInTransaction:
    """A session idle inside an open transaction."""

    pid: int
    idle_s: float
    open_s: float
    app: str
    query: str


@dataclass(frozen=True)
class BlockedSession:
    """A session waiting on a lock, and the sessions it waits behind."""

    pid: int
    waited_s: float
    wait: str
    blockers: tuple[int, ...]
    app: str
    query: str


@dataclass(frozen=True)
class SessionState:
    """What a blocking session was doing."""

    state: str | None
    open_s: float | None
    app: str
    query: str


@dataclass(frozen=True)
class OpenTransaction:
    """The oldest open transaction."""

    pid: int
    open_s: float
    state: str | None
    app: str
    query: str


@dataclass(frozen=True)
class Activity:
    """One pg_stat_activity read, summarised: counts, and the few sessions worth naming."""

    sessions: int = 0
    ours: int = 0
    #: Sessions whose state another role's privileges hide.
    hidden: int = 0
    by_state: Mapping[str, int] = field(default_factory=dict)
    by_wait: Mapping[str, int] = field(default_factory=dict)
    by_app: Mapping[str, int] = field(default_factory=dict)
    idle_in_tx: tuple[IdleInTransaction, ...] = ()
    oldest_xact: OpenTransaction | None = None
    blocked: tuple[BlockedSession, ...] = ()
    blockers: Mapping[int, SessionState] = field(default_factory=dict)


@dataclass(frozen=True)
class DatabaseCounters:
    """pg_stat_database's cumulative counters, summed over the databases (sessions: PostgreSQL 14+)."""

    xact_commit: int = 0
    xact_rollback: int = 0
    deadlocks: int = 0
    temp_files: int = 0
    temp_bytes: int = 0
    sessions: int = 0
    sessions_abandoned: int = 0
    sessions_fatal: int = 0
    sessions_killed: int = 0

    def since(self, earlier: DatabaseCounters) -> DatabaseCounters:
        """The increase of each counter since ``earlier`` (never negative)."""
        return DatabaseCounters(*(max(0, a - b) for a, b in zip(self._values(), earlier._values(), strict=True)))

    def _values(self) -> tuple[int, ...]:
        return (self.xact_commit, self.xact_rollback, self.deadlocks, self.temp_files, self.temp_bytes, self.sessions,
                self.sessions_abandoned, self.sessions_fatal, self.sessions_killed)


@dataclass(frozen=True)
class Replication:
    """Replication as this server sees it: as a primary (its replicas) or as a replica (itself)."""

    role: str
    replicas: int
    lag_s: float
    #: Bytes of WAL the furthest replica is behind.
    bytes: float
    #: Per replica: (bytes behind, replay position), to see a replay that stopped moving.
    each: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementStats:
    """One statement's cumulative figures in pg_stat_statements."""

    calls: int
    total_ms: float
    max_ms: float
    rows: int
    temp_blocks: int


@dataclass(frozen=True)
class PostgresReading:
    """One sample: activity, counters and replication; statements on heavy samples only."""

    activity: Activity
    db: DatabaseCounters
    replication: Replication
    #: Statement key → figures; None when this sample did not read them.
    statements: Mapping[str, StatementStats] | None = None
    #: The text of each statement first seen in this sample (redacted).
    texts: Mapping[str, str] = field(default_factory=dict)


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
_MALFORMED = ("invalid", "sslmode", "ssl is not", "unrecognized", "missing")
_PREFIX = re.compile(r"^(?:connection (?:failed|is bad): )?(?:connection to server (?:at|on) .*? failed: )?"
                     r"(?:FATAL:\s+)?", re.I)


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
    return SourceUnreachable(f"cannot connect to PostgreSQL at {where}: {msg}",
                             hint="is the server running and reachable?")


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


class PostgresSampler(Sampler["psycopg.Connection[tuple[Any, ...]]", PostgresReading, PostgresInfo]):
    """Polls a PostgreSQL server on its own read-only connection; see :class:`~tracehound.sources.sampler.Sampler`."""

    source = "PostgreSQL"

    def __init__(self, dsn: str, interval_s: float = 0.5, heavy_every_s: float = 5.0) -> None:
        super().__init__(interval_s, heavy_every_s)
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError:  # pragma: no cover - psycopg is a dependency of the lab and test extras
            raise BadSource("the PostgreSQL inspector needs psycopg 3",
                            hint="pip install 'psycopg[binary]>=3.1'") from None
        self.dsn = self.address = normalize_dsn(dsn)
        try:
            conninfo_to_dict(self.dsn)
        except psycopg.Error as e:
            raise BadSource(f"not a PostgreSQL DSN: {one_line(e)}",
                            hint="give postgresql://user:password@host:port/db") from None
        self.driver_errors = (psycopg.Error, OSError)
        self._info = PostgresInfo(describe_dsn(self.dsn))
        self._read_once = False
        self._statements_missing: str | None = None
        self._known: set[str] = set()

    def info(self) -> PostgresInfo:
        return replace(self._info, statements_missing=self._statements_missing)

    def connect_error(self, error: BaseException) -> BadSource | SourceUnreachable:
        return connect_error(self.dsn, error)

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=3, application_name=APP_NAME)
        try:
            if not self._read_once:
                self._read_info(conn)
            # Our own session only: never a write, never wait long, never be timed out while idle.
            for stmt in ("SET default_transaction_read_only = on", f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}",
                         "SET lock_timeout = 1000", "SET idle_in_transaction_session_timeout = 0"):
                conn.execute(stmt.replace("SET ", f"SET {TAG} ", 1))
            if self._info.version >= 140000:
                conn.execute(f"SET {TAG} idle_session_timeout = 0")
        except BaseException:
            conn.close()
            raise
        return conn

    def _read_info(self, conn: psycopg.Connection[tuple[Any, ...]]) -> None:
        row = _one(conn,
                   f"SELECT {TAG} current_setting('server_version_num')::int, current_user, current_database(), "
                   "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
                   "pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER'), pg_is_in_recovery()")
        version = int(row[0])
        if version < 100000:
            import psycopg

            raise psycopg.NotSupportedError(
                f"server version {version} is too old: the inspector needs PostgreSQL 10 or newer")
        settings: dict[str, float | None] = {}
        for name, setting, unit in conn.execute(
                f"SELECT {TAG} name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
                (list(SETTINGS),)).fetchall():
            settings[name] = int(setting) if unit is None and setting.lstrip("-").isdigit() else _seconds(setting, unit)
        self._info = PostgresInfo(where=self._info.where, version=version, user=row[1], database=row[2],
                                  superuser=bool(row[3]), read_all_stats=bool(row[3]) or bool(row[4]),
                                  in_recovery=bool(row[5]), settings=settings)
        self._read_once = True

    def _read(self, conn: psycopg.Connection[tuple[Any, ...]], heavy: bool) -> PostgresReading:
        activity = _activity(conn.execute(
            f"SELECT {TAG} pid, datname, usename, application_name, state, wait_event_type, wait_event, "
            "EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8, "
            "EXTRACT(EPOCH FROM clock_timestamp() - state_change)::float8, "
            "CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END, left(query, 300) "
            "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            # Other roles' rows hide backend_type from a role without pg_read_all_stats; they keep datid.
            "AND (backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL))").fetchall())
        extra = (", sum(sessions), sum(sessions_abandoned), sum(sessions_fatal), sum(sessions_killed)"
                 if self._info.version >= 140000 else "")
        row = _one(conn, f"SELECT {TAG} sum(xact_commit), sum(xact_rollback), sum(deadlocks), sum(temp_files), "
                         f"sum(temp_bytes){extra} FROM pg_stat_database")
        db = DatabaseCounters(*(int(v or 0) for v in row))
        statements: dict[str, StatementStats] | None = None
        texts: dict[str, str] = {}
        if heavy and self._statements_missing is None:
            statements = self._read_statements(conn, texts)
        return PostgresReading(activity, db, self._replication(conn), statements, texts)

    def _read_statements(self, conn: psycopg.Connection[tuple[Any, ...]],
                         texts: dict[str, str]) -> dict[str, StatementStats] | None:
        import psycopg

        v = self._info.version
        total, mx = ("total_exec_time", "max_exec_time") if v >= 130000 else ("total_time", "max_time")
        top = "toplevel::text" if v >= 140000 else "'t'"
        try:
            rows = conn.execute(
                f"SELECT {TAG} userid::text || ':' || dbid::text || ':' || coalesce(queryid::text, '') || ':' "
                f"|| {top}, "
                f"calls, {total}, {mx}, rows, temp_blks_written, left(query, 300) FROM pg_stat_statements "
                f"WHERE query NOT LIKE '%{TAG}%' ORDER BY calls DESC LIMIT {STATEMENTS_LIMIT}").fetchall()
        except psycopg.errors.UndefinedTable:
            self._statements_missing = "the pg_stat_statements extension is not installed in this database"
            return None
        except psycopg.errors.ObjectNotInPrerequisiteState:
            self._statements_missing = "pg_stat_statements is not in shared_preload_libraries"
            return None
        except psycopg.errors.InsufficientPrivilege:
            self._statements_missing = "this role may not read pg_stat_statements"
            return None
        stats: dict[str, StatementStats] = {}
        for key, calls, tot, mxt, nrows, temp, query in rows:
            stats[key] = StatementStats(int(calls), float(tot), float(mxt), int(nrows), int(temp or 0))
            if key not in self._known:
                self._known.add(key)
                texts[key] = redact_sql(query)
        return stats

    def _replication(self, conn: psycopg.Connection[tuple[Any, ...]]) -> Replication:
        if _one(conn, f"SELECT {TAG} pg_is_in_recovery()")[0]:
            row = _one(conn,
                       f"SELECT {TAG} CASE WHEN pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn() "
                       "THEN EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 "
                       "ELSE 0 END, "
                       "coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8, "
                       "coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), 0)::float8")
            behind = float(row[1] or 0)
            return Replication("replica", 1, max(0.0, float(row[0] or 0)), behind,
                               {"this replica": (behind, float(row[2] or 0))})
        rows = conn.execute(
            f"SELECT {TAG} pid, application_name, coalesce(EXTRACT(EPOCH FROM replay_lag)::float8, 0), "
            "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::float8, "
            "coalesce(pg_wal_lsn_diff(replay_lsn, '0/0'), 0)::float8 FROM pg_stat_replication "
            "WHERE state IS DISTINCT FROM 'backup'").fetchall()  # a base backup in progress is no replica
        return Replication("primary", len(rows), max((float(r[2]) for r in rows), default=0.0),
                           max((float(r[3]) for r in rows), default=0.0),
                           {f"{r[1] or 'replica'} (pid {r[0]})": (float(r[3]), float(r[4])) for r in rows})


def _one(conn: psycopg.Connection[tuple[Any, ...]], query: str) -> tuple[Any, ...]:
    """The one row an aggregate or a scalar ``SELECT`` answers."""
    row = conn.execute(query).fetchone()
    if row is None:
        import psycopg

        raise psycopg.InterfaceError(f"no row for {query[:60]!r}")
    return row


def _activity(rows: Sequence[tuple[Any, ...]]) -> Activity:
    """One pg_stat_activity read, summarised: counts, and the few sessions worth naming."""
    by_state: Counter[str] = Counter()
    by_wait: Counter[str] = Counter()
    by_app: Counter[str] = Counter()
    ours = hidden = 0
    idle_tx: list[IdleInTransaction] = []
    blocked: list[BlockedSession] = []
    by_pid: dict[int, SessionState] = {}
    oldest: OpenTransaction | None = None
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
        by_pid[pid] = SessionState(state, xact_age, app or "", q)
        if state in ("idle in transaction", "idle in transaction (aborted)"):
            idle_tx.append(IdleInTransaction(pid, float(state_age or 0), float(xact_age or 0), app or "", q))
        if blockers:
            blocked.append(BlockedSession(pid, float(state_age or 0), f"{wtype}:{wevent}", tuple(blockers), app or "",
                                          q))
        if xact_age is not None and (oldest is None or xact_age > oldest.open_s):
            oldest = OpenTransaction(pid, float(xact_age), state, app or "", q)
    blocker_pids = {b for row in blocked for b in row.blockers}
    idle_tx.sort(key=lambda r: -r.idle_s)
    blocked.sort(key=lambda r: -r.waited_s)
    return Activity(sessions=sum(by_state.values()), ours=ours, hidden=hidden, by_state=dict(by_state),
                    by_wait=dict(by_wait), by_app=dict(by_app.most_common(8)), idle_in_tx=tuple(idle_tx[:20]),
                    oldest_xact=oldest, blocked=tuple(blocked[:20]),
                    blockers={p: by_pid[p] for p in blocker_pids if p in by_pid})


__all__ = ["FULL", "Activity", "BlockedSession", "DatabaseCounters", "IdleInTransaction", "OpenTransaction",
           "PostgresInfo", "PostgresReading", "PostgresSampler", "Replication", "SessionState", "StatementStats",
           "connect_error", "describe_dsn", "normalize_dsn", "redact_sql"]
