"""The PostgreSQL analysis: a recording and the requests' start times in, findings and ``pg:`` signals out.

Statement calls per probed request (N+1) from the statement deltas of the windows the requests
fell in, mean and max times (slow statements), connections used against ``max_connections``,
idle transactions, lock waits, server counters, settings, replication and availability. It keys
on no table, query or application name.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from tracehound.agents.postgres.statements import statements
from tracehound.agents.postgres.view import PostgresAnalysis, View, ms, secs, short, spread
from tracehound.agents.sampled import aligned, during, load_window
from tracehound.diagnosis.signals import Signal, signal
from tracehound.sources.postgres import (
    FULL,
    SETTINGS,
    BlockedSession,
    IdleInTransaction,
    PostgresInfo,
    PostgresReading,
)
from tracehound.sources.sampler import Recording, Sample, clock

#: An idle-in-transaction pause this long means the application did other work holding the transaction.
IDLE_IN_TX_S = 0.1
#: A transaction idle this long, outliving the load, has been forgotten.
FORGOTTEN_TX_S = 5.0


def analyze_postgres(rec: Recording[PostgresReading, PostgresInfo], times: np.ndarray) -> PostgresAnalysis:
    """Findings and ``pg:`` signals from a recording and the sorted start times (ns) of the probed requests."""
    ok = rec.ok_samples
    if not ok:
        out = PostgresAnalysis()
        out.detail = f"no sample could be read: {rec.first_error() or rec.crash or 'nothing sampled'}"
        return out
    window = load_window(times)
    v = View(rec, ok, during(ok, window) or ok, times, window)
    for section in (connections, transactions, locks, statements, counters, settings, replication, availability,
                    visibility):
        section(v)
    span = (ok[-1].t_ns - ok[0].t_ns) / 1e9
    v.out.detail = (f"{len(rec.samples)} samples of {rec.info.where} over {span:.1f} s "
                    f"({aligned(len(during(ok, window)), window)}); {len(v.out.signals)} signal(s)")
    return v.out


# -- sessions -----------------------------------------------------------------------------------


def connections(v: View) -> None:
    s = v.settings
    max_conn = int(s.get("max_connections") or 0)
    reserved = int(s.get("superuser_reserved_connections") or 0) + int(s.get("reserved_connections") or 0)
    usable = max(1, max_conn - reserved)
    peak = max(v.now, key=lambda x: x.data.activity.sessions + x.data.activity.ours)
    act = peak.data.activity
    used = act.sessions + act.ours
    share = used / usable
    states = ", ".join(f"{k} {n}" for k, n in sorted(act.by_state.items(), key=lambda kv: -kv[1]))
    apps = ", ".join(f"{k or '(none)'} {n}" for k, n in act.by_app.items())
    waits = Counter[str]()
    for x in v.now:
        waits.update(x.data.activity.by_wait)
    wait_txt = ", ".join(f"{k} {n}" for k, n in waits.most_common(5))
    detail = (f"peak {used} of {usable} usable connections ({share:.0%}; max_connections {max_conn}, {reserved} "
              f"reserved): {states or 'none'}; by application: {apps or 'none'}"
              + (f"; active sessions waited on (session-samples): {wait_txt}" if wait_txt else ""))
    sigs: list[Signal] = []
    full = [x for x in v.rec.samples if x.error and any(k in x.error.lower() for k in FULL)]
    if max_conn:
        v.tested("pg:connections_near_max")
        if share >= 0.8 or full:
            ex = [f"{used}/{usable} connections at {clock(peak.t_ns)}: {states}"]
            ex += [f"{clock(x.t_ns)}: the inspector's own connection was refused: {x.error}" for x in full[:2]]
            sigs.append(signal("pg:connections_near_max", 1.0 if full else (share - 0.7) / 0.25, detail, ex,
                               value=1.0 if full else share))
    v.finding("PostgreSQL connections", detail, sigs, [])


def _idle(x: Sample[PostgresReading]) -> list[IdleInTransaction]:
    return [r for r in x.data.activity.idle_in_tx if r.idle_s >= IDLE_IN_TX_S]


def transactions(v: View) -> None:
    if not v.blind:
        v.tested("pg:idle_in_transaction")
    seen = [x for x in v.now if _idle(x)]
    rows = [r for x in v.now for r in _idle(x)]
    sigs: list[Signal] = []
    parts: list[str] = []
    oldest = max((x.data.activity.oldest_xact for x in v.now if x.data.activity.oldest_xact),
                 key=lambda r: r.open_s if r else 0.0, default=None)
    if oldest:
        parts.append(f"oldest transaction {oldest.open_s:.1f} s ({oldest.state}, pid {oldest.pid}): "
                     f"{short(oldest.query)}")
    if rows:
        longest = max(r.idle_s for r in rows)
        peak = max(len(_idle(x)) for x in v.now)
        share = len(seen) / len(v.now)
        d = (f"sessions idle inside a transaction for ≥{IDLE_IN_TX_S:g} s in {len(seen)} of {len(v.now)} samples "
             f"(up to {peak} at once, longest {longest:.1f} s)")
        parts.insert(0, d)
        if len(seen) >= 2 or longest >= 1.0:
            ex = [f"pid {r.pid} ({r.app or 'no application_name'}) idle in transaction {r.idle_s:.2f} s, open "
                  f"{r.open_s:.1f} s; last: {short(r.query)}"
                  for r in spread(rows, lambda r: r.pid, lambda r: r.idle_s)]
            sigs.append(signal("pg:idle_in_transaction", max(0.3, share, min(1.0, longest / 5)), d, ex, value=longest))
    _forgotten(v, sigs, parts)
    if parts or sigs:
        v.finding("Transactions", "; ".join(parts), sigs)


def _forgotten(v: View, sigs: list[Signal], parts: list[str]) -> None:
    """Transactions left open: idle for seconds, more of them at the end than at the start."""
    ok = v.ok
    if (ok[-1].t_ns - ok[0].t_ns) / 1e9 < FORGOTTEN_TX_S or v.blind:
        return
    v.tested("pg:open_transactions_accumulate")

    def old(x: Sample[PostgresReading]) -> list[IdleInTransaction]:
        # Idle all that time: a session still in use runs a statement now and then, even on a busy service.
        return [r for r in x.data.activity.idle_in_tx if r.idle_s >= FORGOTTEN_TX_S]

    first, last = len(old(ok[0])), old(ok[-1])
    if len(last) >= 2 and len(last) > first:
        d = (f"{len(last)} sessions were idle in a transaction open for ≥{FORGOTTEN_TX_S:g} s at the last sample "
             f"({first} at the first); the oldest open {max(r.open_s for r in last):.1f} s")
        parts.append(d)
        ex = [f"pid {r.pid} ({r.app or 'no application_name'}) transaction open {r.open_s:.1f} s, idle "
              f"{r.idle_s:.1f} s; last: {short(r.query)}" for r in last[:5]]
        sigs.append(signal("pg:open_transactions_accumulate", 0.3 + 0.15 * len(last), d, ex, value=len(last)))


def locks(v: View) -> None:
    if not v.blind:
        v.tested("pg:blocked_sessions")
    seen = [x for x in v.now if x.data.activity.blocked]
    if not seen:
        return
    rows: list[tuple[Sample[PostgresReading], BlockedSession]] = [(x, r) for x in seen for r in x.data.activity.blocked]
    peak = max(len(x.data.activity.blocked) for x in seen)
    longest = max(r.waited_s for _, r in rows)
    share = len(seen) / len(v.now)
    d = (f"sessions waiting on another session's lock in {len(seen)} of {len(v.now)} samples "
         f"(up to {peak} at once, longest wait {longest:.2f} s)")
    ex: list[str] = []
    named: set[int] = set()
    for x, r in sorted(rows, key=lambda xr: -xr[1].waited_s):
        if r.pid in named or len(named) == 5:
            continue
        named.add(r.pid)
        by = []
        for b in r.blockers[:3]:
            info = x.data.activity.blockers.get(b)
            by.append(f"pid {b}" + (f" ({info.state}, transaction open {info.open_s or 0:.1f} s: "
                                    f"{short(info.query, 60)})" if info else ""))
        ex.append(f"pid {r.pid} waited {r.waited_s:.2f} s on {r.wait} behind {', '.join(by)}: {short(r.query)}")
    sigs: list[Signal] = []
    if len(seen) >= 2 or longest >= 0.5:
        sigs.append(signal("pg:blocked_sessions", max(0.3, share, min(1.0, peak / 4), min(1.0, longest / 2)), d, ex,
                           value=float(peak)))
    v.finding("Lock waits", d, sigs, ex)


# -- counters, settings, replication ------------------------------------------------------------


def counters(v: View) -> None:
    d = v.ok[-1].data.db.since(v.ok[0].data.db)
    if len(v.ok) < 2:
        return
    v.tested("pg:deadlocks", "pg:temp_files")
    sigs: list[Signal] = []
    text = (f"while sampling: {d.xact_commit} commits, {d.xact_rollback} rollbacks, {d.deadlocks} deadlocks, "
            f"{d.temp_files} temp files ({d.temp_bytes / 1e6:.1f} MB)")
    if d.deadlocks:
        what = f"{d.deadlocks} deadlock(s) detected while sampling"
        sigs.append(signal("pg:deadlocks", 0.5 + 0.1 * d.deadlocks, what, [what], value=d.deadlocks))
    if d.temp_files:
        what = f"{d.temp_files} temporary file(s), {d.temp_bytes / 1e6:.1f} MB, written by queries"
        sigs.append(signal("pg:temp_files", 0.3 + 0.1 * d.temp_files, what, [what], value=d.temp_files))
    if v.info.version >= 140000:
        v.tested("pg:sessions_terminated", "pg:sessions_abandoned")
        ended = d.sessions_fatal + d.sessions_killed
        text += (f"; sessions: {d.sessions} began, {d.sessions_fatal} ended by a fatal error, "
                 f"{d.sessions_killed} terminated by request, {d.sessions_abandoned} abandoned by their client")
        if ended:
            what = f"{ended} session(s) ended by the server (fatal error or termination) while sampling{_why_ended(v)}"
            sigs.append(signal("pg:sessions_terminated", 0.4 + 0.15 * ended, what, [what], value=ended))
        if d.sessions_abandoned:
            what = f"{d.sessions_abandoned} session(s) abandoned: the client went away without closing"
            sigs.append(signal("pg:sessions_abandoned", 0.4 + 0.1 * d.sessions_abandoned, what, [what],
                               value=d.sessions_abandoned))
    v.finding("Server counters (pg_stat_database)", text, sigs)


def _why_ended(v: View) -> str:
    s = v.settings
    reasons = [f"{n} = {secs(s[n])}" for n in ("idle_session_timeout", "idle_in_transaction_session_timeout")
               if s.get(n)]
    return f"; the server has {', '.join(reasons)}" if reasons else ""


_COUNTS = ("max_connections", "superuser_reserved_connections", "reserved_connections")
_TIMEOUTS = (("idle_session_timeout", "pg:idle_session_timeout_set", (60, 600)),
             ("idle_in_transaction_session_timeout", "pg:idle_in_transaction_timeout_set", (60, 600)),
             ("statement_timeout", "pg:statement_timeout_set", (5, 30)),
             ("lock_timeout", "pg:lock_timeout_set", (5, 30)))


def settings(v: View) -> None:
    s = v.settings
    if not s:
        return
    who = f"as role {v.info.user} sees them"
    shown = [f"{n} = {secs(s[n]) if 'timeout' in n or 'keepalives_i' in n else s[n]}"
             for n in SETTINGS if n in s and n not in _COUNTS]
    sigs: list[Signal] = []
    for setting, name, (short_s, medium_s) in _TIMEOUTS:
        if setting not in s:
            continue
        v.tested(name)
        value = s[setting]
        if value and value > 0:
            strength = 1.0 if value <= short_s else 0.7 if value <= medium_s else 0.4
            sigs.append(signal(name, strength, f"{setting} = {secs(value)} ({who})", [f"{setting} = {secs(value)}"],
                               value=value))
    v.finding("Settings that end sessions or statements", f"{'; '.join(shown)} ({who})", sigs)


def replication(v: View) -> None:
    reps = [x.data.replication for x in v.ok]
    if not reps or not any(r.replicas for r in reps):
        return
    v.tested("pg:replication_lag")
    worst = max(reps, key=lambda r: r.lag_s)
    # On a replica the age of the last replayed transaction is lag only while WAL stays unreplayed
    # over two samples: after an idle spell, the first new record would look like minutes of lag.
    lag = max((b.lag_s for a, b in zip(reps, reps[1:], strict=False)
               if b.role == "primary" or min(a.bytes, b.bytes) > 0),
              default=reps[0].lag_s if reps[0].role == "primary" else 0.0)
    stalled = _stalled_replay(v.ok)
    role = "this server is a replica" if worst.role == "replica" else f"{max(r.replicas for r in reps)} replica(s)"
    d = f"{role}; replay lag up to {ms(lag * 1000)}, up to {max(r.bytes for r in reps) / 1024:.0f} KiB behind"
    if stalled and stalled[1] > lag:
        lag = stalled[1]
        d += f"; {stalled[0]} replayed nothing for {stalled[1]:.1f} s while WAL waited for it"
    sigs = []
    if lag >= 0.02:
        strength = max(0.2, math.log10(lag * 1000 / 10) / 2)
        sigs.append(signal("pg:replication_lag", strength, d, [d], value=lag))
    v.finding("Replication", d, sigs)


def _stalled_replay(samples: list[Sample[PostgresReading]]) -> tuple[str, float] | None:
    """The longest time a replica's replay position stood still with WAL waiting for it (seen from the primary).

    ``replay_lag`` only updates when replay moves, so a replica that stopped replaying shows its
    old, small lag; its unchanged position with bytes still behind is what gives it away.
    """
    best: tuple[str, float] | None = None
    since: dict[str, tuple[int, float]] = {}
    for x in samples:
        for name, (behind, pos) in x.data.replication.each.items():
            start = since.get(name)
            if behind <= 0 or start is None or start[1] != pos:
                since[name] = (x.t_ns, pos)
                continue
            seconds = (x.t_ns - start[0]) / 1e9
            if best is None or seconds > best[1]:
                best = (name, seconds)
    return best


# -- the view itself --------------------------------------------------------------------------


def availability(v: View) -> None:
    samples = v.rec.samples
    first_ok = next(i for i, x in enumerate(samples) if x.ok)
    inside = during(samples[first_ok:], v.window)
    if len(inside) < 3:
        return
    v.tested("pg:unavailable_during_run")
    # A server out of connection slots is up: that shows as connections near max, not as an outage.
    failed = [x for x in inside if x.error and not any(k in x.error.lower() for k in FULL)]
    if not failed:
        return
    share = len(failed) / len(inside)
    d = (f"the inspector's connection failed in {len(failed)} of {len(inside)} samples while requests ran, "
         f"first at {clock(failed[0].t_ns)}: {failed[0].error}")
    ex = [f"{clock(x.t_ns)} ({x.phase}): {x.error}" for x in failed[:5]]
    v.finding("PostgreSQL unavailable", d, [signal("pg:unavailable_during_run", 0.5 + share, d, ex, value=share)])


def visibility(v: View) -> None:
    if v.info.read_all_stats:
        return
    hidden = max(x.data.activity.hidden for x in v.ok)
    v.finding("Limited view",
              f"role {v.info.user} is neither superuser nor a member of pg_read_all_stats: it sees the state, waits "
              f"and queries of its own sessions only ({hidden} other session(s) hidden at most); connection counts "
              "are still right. GRANT pg_read_all_stats TO that role for the full picture")


__all__ = ["FORGOTTEN_TX_S", "IDLE_IN_TX_S", "analyze_postgres"]
