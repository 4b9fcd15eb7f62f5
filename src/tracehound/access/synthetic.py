"""nginx access logs with a known intermittent failure, written by DuckDB: for tests and benchmarks.

Realistic lines of the combined format with ``$request_time $upstream_response_time
$upstream_addr`` appended: clients from a few thousand addresses, ids and UUIDs in paths,
browsers and API clients, log-normal latencies, a background of 404s and rare 500s. The
injected failure: one upstream answers a share of its requests with 504 after a timeout
(``plateau_s``, jittered by a few per cent) between two moments of the log. Every value comes
from a hash of the line number, so the same arguments write the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tracehound.access.folder import connect

#: Bytes per line, on average, of what :func:`write_nginx_log` writes (for sizing a file).
LINE_BYTES = 194
#: The clients the lines name: three browsers and three API clients.
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "okhttp/4.12.0", "python-requests/2.31.0", "Go-http-client/2.0",
)


@dataclass
class Injected:
    """The failure a generated log holds: which upstream, when (UTC), how often, how long."""

    upstream: str
    start: datetime
    end: datetime
    share: float
    plateau_s: float


def write_nginx_log(path: str | Path, lines: int, start: datetime = datetime(2026, 12, 2, tzinfo=UTC),
                    span_s: float = 86_400.0, upstreams: int = 4, bad_upstream: int = 3,
                    window: tuple[float, float] = (14 / 24, 15 / 24), share: float = 0.5, plateau_s: float = 60.0,
                    bad_lines: int = 0, gzip: bool = False, threads: int = 2) -> Injected:
    """Write ``lines`` log lines over ``span_s`` seconds from ``start``; the injected failure is returned.

    ``window`` is the failing stretch as fractions of the span; ``bad_lines`` truncated lines are
    spread through the file.
    """
    start = start.astimezone(UTC)
    step_us = max(1, int(span_s * 1e6 / max(lines, 1)))
    w0, w1 = int(window[0] * lines), int(window[1] * lines)
    bad_every = lines // bad_lines if bad_lines else 0
    bad_up = f"10.0.1.{bad_upstream}:8080"
    con = connect(threads=threads)
    ts0 = start.replace(tzinfo=None).isoformat(sep=" ")
    sql = f"""
COPY (
WITH base AS (
  SELECT i, TIMESTAMP '{ts0}' + to_microseconds(i * {step_us}) AS ts,
         hash(i) AS h1, hash(i + 1000000007) AS h2, hash(i * 3 + 17) AS h3
  FROM range({int(lines)}) t(i)
), f AS (
  SELECT i, ts,
    CASE WHEN (h1 >> 50) % 10 < 3 THEN '10.' || ((h1 >> 8) % 4) || '.0.' || ((h1 >> 16) % 20)
         ELSE '10.' || ((h1 >> 8) % 40) || '.' || ((h1 >> 16) % 250) || '.' || ((h1 >> 24) % 250) END AS client,
    CAST((h2 >> 4) % 100 AS INTEGER) AS route,
    '10.0.1.' || (1 + (h2 >> 12) % {int(upstreams)}) || ':8080' AS upstream,
    CAST((h3 >> 20) % 1000000 AS DOUBLE) / 1000000 AS u1,
    CAST((h3 >> 40) % 1000000 AS DOUBLE) / 1000000 AS u2,
    CAST((h1 >> 32) % 100000 AS INTEGER) AS id,
    CAST((h2 >> 28) % 6 AS INTEGER) AS agent
  FROM base
), g AS (
  SELECT *,
    CASE WHEN route < 30 THEN '/api/products/' || id
         WHEN route < 45 THEN '/api/users/' || id || '/profile'
         WHEN route < 55 THEN '/api/orders/' || md5(CAST(id AS VARCHAR))[1:8] || '-' || md5(CAST(id AS VARCHAR))[9:12]
                              || '-4' || md5(CAST(id AS VARCHAR))[13:15] || '-a' || md5(CAST(id AS VARCHAR))[16:18]
                              || '-' || md5(CAST(id AS VARCHAR))[19:30]
         WHEN route < 65 THEN '/api/search?q=item' || (id % 500) || '&page=' || (id % 7)
         WHEN route < 72 THEN '/api/cart'
         WHEN route < 90 THEN '/static/app.' || (id % 3 + 4) || 'f3a1c9.js'
         ELSE '/healthz' END AS path,
    CASE WHEN route BETWEEN 65 AND 71 AND id % 3 = 0 THEN 'POST' ELSE 'GET' END AS method,
    i BETWEEN {w0} AND {w1} AND upstream = '{bad_up}' AND u2 < {float(share)} AS injected
  FROM f
), h AS (
  SELECT *,
    CASE WHEN injected THEN 504 WHEN u2 > 0.9995 THEN 500 WHEN u2 > 0.985 THEN 404
         WHEN route >= 72 AND route < 90 AND u2 > 0.7 THEN 304 ELSE 200 END AS status,
    CASE WHEN injected THEN {float(plateau_s)} * (0.995 + 0.01 * u1)
         ELSE exp(ln(0.045) + 0.8 * sqrt(-2 * ln(greatest(u1, 1e-9))) * cos(6.283185307 * u2)) END AS rt
  FROM g
)
SELECT CASE WHEN {bad_every} > 0 AND i % greatest({bad_every}, 1) = {bad_every} - 1
            THEN client || ' - - [' || strftime(ts, '%d/%b/%Y:%H:%M:%S') || ' +0000] "' || method || ' ' || path
            ELSE client || ' - - [' || strftime(ts, '%d/%b/%Y:%H:%M:%S') || ' +0000] "' || method || ' ' || path
              || ' HTTP/1.1" ' || status || ' ' || CASE WHEN status = 304 THEN 0 ELSE 200 + id % 9000 END
              || ' "' || CASE WHEN route >= 72 AND route < 90 THEN 'https://shop.example.com/' ELSE '-' END || '" "'
              || [{", ".join(f"'{a}'" for a in USER_AGENTS)}][agent + 1]
              || '" ' || printf('%.3f', rt) || ' ' || printf('%.3f', greatest(rt - 0.001, 0)) || ' ' || upstream
       END
FROM h
) TO '{str(path).replace("'", "''")}' (FORMAT csv, HEADER false, QUOTE '\x02', ESCAPE '\x02', DELIMITER '\x01'
      {", COMPRESSION gzip" if gzip else ""})"""
    try:
        con.execute(sql)
    finally:
        con.close()
    from datetime import timedelta

    return Injected(bad_up, start + timedelta(microseconds=w0 * step_us), start + timedelta(microseconds=w1 * step_us),
                    share, plateau_s)


__all__ = ["LINE_BYTES", "Injected", "write_nginx_log"]
