"""Access-log formats: which one a file is, told from its first lines, and the SQL that parses it.

Every format becomes the same columns (:data:`COLUMNS`), in DuckDB SQL, so that a file of any
size streams from disk to Parquet without a Python object per line:

- ``nginx`` and ``apache``: the combined format (``$remote_addr - $remote_user [$time_local]
  "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"``), optionally followed
  by ``$request_time`` (seconds, nginx), ``$upstream_response_time`` and ``$upstream_addr``, or by
  Apache's ``%D`` (microseconds). Tails written as ``rt=… urt=… ua=…`` are read by key.
- ``alb``: AWS Application Load Balancer access logs (space-separated, quoted request).
- ``cloudfront``: CloudFront standard logs (W3C, tab-separated, named by the ``#Fields:`` line).
- ``jsonl``: one JSON object per line, its keys named by a mapping (``time=ts,status=code``),
  guessed from the first line when not given.

Combined lines are split by DuckDB's CSV reader on spaces with ``"`` as the quote, which keeps the
request, referer and user agent whole and cuts ``[02/Dec/2026:14:00:00 +0000]`` in two: the fast
path, several times quicker than a regular expression. Lines it cannot split (a truncated line,
several upstreams in ``$upstream_addr``) go through :func:`combined_lines`, which splits one line
at a time on its quotes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tracehound.errors import BadImport

FORMATS: tuple[str, ...] = ("nginx", "apache", "alb", "cloudfront", "jsonl")

#: The columns every format is parsed into, in order (``day`` is the Parquet partition).
COLUMNS: tuple[str, ...] = ("ts", "method", "host", "path", "template", "status", "bytes", "latency_ms",
                            "upstream_ms", "client", "upstream", "user_agent")

#: The path template: a segment that is a number, a UUID, long hex, or holds three digits or more
#: (a fingerprinted asset, a token) becomes ``:id``; ``v1`` and ``mp3`` stay.
TEMPLATE_RE = (r"/(?:[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
               r"|[0-9a-fA-F]{16,}|[^/]*[0-9][^/]*[0-9][^/]*[0-9][^/]*)(/|$)")

#: The keys ``--map`` takes, each with the JSON keys tried when it is not given.
JSON_KEYS: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "@timestamp", "ts", "time_local", "time_iso8601", "datetime", "date"),
    "status": ("status", "status_code", "code", "response_code", "http_status", "statusCode"),
    "method": ("method", "request_method", "http_method", "verb"),
    "path": ("path", "uri", "request_uri", "url", "request_path", "endpoint", "route"),
    "request": ("request",),
    "host": ("host", "http_host", "server_name", "hostname"),
    "client": ("client", "remote_addr", "client_ip", "ip", "remote_ip", "clientip", "x_forwarded_for"),
    "upstream": ("upstream", "upstream_addr", "backend", "server_addr", "target", "instance"),
    "user_agent": ("user_agent", "http_user_agent", "ua", "agent", "useragent", "userAgent"),
    "latency_s": ("request_time", "latency_s", "duration_s", "elapsed_s", "response_time_s"),
    "latency_ms": ("latency_ms", "duration_ms", "response_time_ms", "elapsed_ms", "time_ms", "duration", "latency"),
    "upstream_s": ("upstream_response_time", "upstream_time"),
    "bytes": ("bytes", "body_bytes_sent", "bytes_sent", "size", "response_size"),
}

_TIME_LOCAL = re.compile(r"\[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2}) ([+-]\d{4})\]")
_COMBINED = re.compile(r'^\S+ \S+ .*?\[[^\]]+\] "[^"]*" \d{3} (?:\d+|-)(?: "[^"]*" "[^"]*")?(?P<tail>.*)$')
_ALB_TYPES = ("http", "https", "h2", "grpcs", "ws", "wss")
_ALB = re.compile(rf"^(?:{'|'.join(_ALB_TYPES)}) "
                  r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z \S+ \S+ \S+ ")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_ADDRESS = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5},?$|^unix:\S+$")
#: Combined lines' tails: ``key=value`` pairs.
_TAIL_KEYS = {"latency": ("rt", "request_time"), "upstream_ms": ("urt", "upstream_response_time"),
              "upstream": ("ua", "upstream_addr", "upstream")}

#: ALB's fields, in order (newer versions append more; they are ignored).
ALB_FIELDS: tuple[str, ...] = (
    "type", "time", "elb", "client_port", "target_port", "request_processing_time", "target_processing_time",
    "response_processing_time", "elb_status_code", "target_status_code", "received_bytes", "sent_bytes",
    "request", "user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
    "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed", "redirect_url",
    "error_reason", "target_port_list", "target_status_code_list", "classification", "classification_reason",
    "conn_trace_id", "extra1", "extra2", "extra3", "extra4")


@dataclass
class Sniff:
    """A file's format and what its first lines say about the columns."""

    format: str
    #: Combined formats: what each token after the user agent is (latency_s, latency_us, upstream_ms,
    #: upstream, skip), or ``None`` when the tail is written as ``key=value`` pairs.
    tail: list[str] | None = field(default_factory=list)
    #: CloudFront: the names of the ``#Fields:`` line; JSON lines: target → key.
    fields: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    #: The UTC offset of the first timestamp, in minutes (local clock = UTC + offset).
    utc_offset_min: int = 0


def sniff(lines: list[str], fmt: str = "auto", mapping: dict[str, str] | None = None) -> Sniff | None:
    """The format of a file from its first lines; ``None`` when no line of it fits ``fmt`` (or any)."""
    lines = [ln.rstrip("\r\n") for ln in lines if ln.strip()]
    if not lines:
        return None
    first = lines[0]
    if fmt in ("auto", "cloudfront") and first.startswith(("#Version", "#Fields")):
        fields_line = next((ln for ln in lines[:5] if ln.startswith("#Fields:")), None)
        names = fields_line.split(":", 1)[1].split() if fields_line is not None else []
        if names:  # a "#Fields:" line that names none is no CloudFront log
            return Sniff("cloudfront", fields=names)
    if fmt in ("auto", "alb") and any(_ALB.match(ln) for ln in lines[:20]):
        return Sniff("alb")
    if fmt in ("auto", "jsonl") and first.lstrip().startswith("{"):
        return _sniff_json(lines, mapping or {})
    if fmt in ("auto", "nginx", "apache"):
        matches = [m for m in map(_COMBINED.match, lines[:200]) if m]
        if not matches:
            return None
        tail = _tail_roles([m.group("tail").split() for m in matches], fmt)
        name = fmt if fmt != "auto" else ("apache" if tail and "latency_us" in tail else "nginx")
        t = _TIME_LOCAL.search(lines[0]) or _TIME_LOCAL.search(matches[0].string)
        offset = 0
        if t:
            z = t.group(2)
            offset = (1 if z[0] == "+" else -1) * (int(z[1:3]) * 60 + int(z[3:5]))
        return Sniff(name, tail=tail, utc_offset_min=offset)
    return None


def _tail_roles(tails: list[list[str]], fmt: str) -> list[str] | None:
    """What each token after the user agent is, from the most common shape among the first lines."""
    if any("=" in tok for t in tails for tok in t):
        return None
    # The most common number of tokens: a line with several upstreams ("a, b") has more.
    widths = [len(t) for t in tails]
    width = max(set(widths), key=widths.count) if widths else 0
    tails = [t for t in tails if len(t) == width]
    roles: list[str] = []
    numbers = 0
    for i in range(width):
        toks = [t[i] for t in tails if len(t) > i and t[i] != "-"]
        if not toks:
            roles.append("skip")
            continue
        if all(_ADDRESS.match(tok) for tok in toks):
            roles.append("upstream")
        elif all(_NUMBER.match(tok) for tok in toks):
            if numbers == 0:
                integer = all("." not in tok for tok in toks)
                roles.append("latency_us" if integer and fmt != "nginx" else "latency_s")
            elif numbers == 1 and roles[-1] in ("latency_s", "latency_us"):
                roles.append("upstream_s")
            else:
                roles.append("skip")
            numbers += 1
        else:
            roles.append("skip")
    return roles


def _sniff_json(lines: list[str], mapping: dict[str, str]) -> Sniff | None:
    doc = None
    for ln in lines[:20]:
        try:
            doc = json.loads(ln)
        except (ValueError, RecursionError):
            continue
        if isinstance(doc, dict):
            break
    if not isinstance(doc, dict):
        return None
    unknown = sorted(set(mapping) - set(JSON_KEYS))
    if unknown:
        raise BadImport(f"--map names {', '.join(unknown)}, which is not a field",
                        hint="use " + ", ".join(JSON_KEYS))
    keys = set(doc)
    out = dict(mapping)
    for target, candidates in JSON_KEYS.items():
        if target not in out:
            hit = next((k for k in candidates if k in keys), None)
            if hit is not None and hit not in out.values():
                out[target] = hit
    if "latency_s" in out and "latency_ms" in out and "latency_ms" not in mapping:
        out.pop("latency_ms")
    if "time" not in out or "status" not in out:
        missing = [t for t in ("time", "status") if t not in out]
        raise BadImport(f"the JSON lines have no {' or '.join(missing)} field among {', '.join(sorted(keys))[:200]}",
                        hint="name it with --map " + ",".join(f"{t}=KEY" for t in missing))
    return Sniff("jsonl", mapping=out)


def parse_mapping(text: str | None) -> dict[str, str]:
    """``time=ts,status=code`` as a dict; :class:`BadImport` when a pair is malformed."""
    out: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        name, eq, key = pair.partition("=")
        if not eq or not name.strip() or not key.strip():
            raise BadImport(f"--map {pair.strip()!r} is not FIELD=KEY", hint="e.g. --map time=ts,status=code")
        out[name.strip()] = key.strip()
    return out


# -- SQL --------------------------------------------------------------------------------------


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _template(path: str) -> str:
    # Twice: one pass cannot replace two id segments in a row (their slash is shared).
    once = f"regexp_replace({path}, {_q(TEMPLATE_RE)}, '/:id\\1', 'g')"
    return f"regexp_replace({once}, {_q(TEMPLATE_RE)}, '/:id\\1', 'g')"


def _select(ts: str, method: str, host: str, path: str, status: str, nbytes: str, latency: str, upstream_ms: str,
            client: str, upstream: str, user_agent: str, raw: str) -> str:
    """The common projection; a line whose time or status cannot be read goes to the ``bad`` partition.

    ``raw`` rebuilds the line from the source's columns, and is computed only for bad lines.
    """
    return f"""
SELECT _ts AS ts, _method AS method, _host AS host, _path AS path, {_template("_path")} AS template,
       _status AS status, _bytes AS bytes, _latency_ms AS latency_ms, _upstream_ms AS upstream_ms,
       _client AS client, _upstream AS upstream, _user_agent AS user_agent,
       CASE WHEN _ts IS NULL OR _status IS NULL THEN {raw} END AS bad_line,
       CASE WHEN _ts IS NULL OR _status IS NULL THEN 'bad' ELSE strftime(_ts, '%Y-%m-%d') END AS day
FROM (SELECT {ts} AS _ts, {method} AS _method, {host} AS _host, {path} AS _path, {status} AS _status,
             {nbytes} AS _bytes, {latency} AS _latency_ms, {upstream_ms} AS _upstream_ms, {client} AS _client,
             {upstream} AS _upstream, {user_agent} AS _user_agent, * FROM __src)"""


#: The longest line the readers take; a longer one is counted as a bad line (the importer reads the rejects).
MAX_LINE_BYTES = 1 << 20
#: What every reader does with a line it cannot take: keep it in ``reject_errors`` to be counted, never drop it.
_REJECTS = f"store_rejects=true, rejects_limit=0, max_line_size={MAX_LINE_BYTES}"


def _lines(path: str, compression: str) -> str:
    """A file read as one VARCHAR column ``line`` (nothing is a delimiter or a quote)."""
    return (f"read_csv({_q(path)}, columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='', "
            f"header=false, auto_detect=false, strict_mode=false, compression={_q(compression)}, "
            f"ignore_errors=true, {_REJECTS})")


def _last_value(expr: str) -> str:
    """nginx writes several upstreams as ``a, b : c``: the last one answered."""
    return f"trim(regexp_extract({expr}, '([^,:\\s][^,]*?)\\s*$', 1))"


def combined_fast(path: str, s: Sniff, compression: str) -> tuple[str, list[str]]:
    """The fast path for combined lines: DuckDB's CSV reader on spaces; (SQL, column names)."""
    assert s.tail is not None
    names = ["client", "ident", "remote_user", "t1", "t2", "request", "status_", "bytes_", "referer", "ua",
             *[f"x{i}" for i in range(len(s.tail))]]
    cols = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    src = (f"read_csv({_q(path)}, columns={cols}, delim=' ', quote='\"', escape='\"', header=false, "
           f"auto_detect=false, strict_mode=true, parallel=true, ignore_errors=true, store_rejects=true, "
           f"rejects_limit=0, compression={_q(compression)}, max_line_size={MAX_LINE_BYTES})")
    tail = {role: f"x{i}" for i, role in reversed(list(enumerate(s.tail)))}
    latency = (f"TRY_CAST({tail['latency_s']} AS DOUBLE) * 1000" if "latency_s" in tail
               else f"TRY_CAST({tail['latency_us']} AS DOUBLE) / 1000" if "latency_us" in tail else "NULL::DOUBLE")
    up_ms = f"TRY_CAST({tail['upstream_s']} AS DOUBLE) * 1000" if "upstream_s" in tail else "NULL::DOUBLE"
    upstream = f"nullif(rtrim({tail['upstream']}, ','), '-')" if "upstream" in tail else "NULL"
    raw = "concat_ws(' ', " + ", ".join(names) + ")"
    sql = _select(
        ts="try_strptime(t1 || ' ' || t2, '[%d/%b/%Y:%H:%M:%S %z]')",
        method="nullif(split_part(request, ' ', 1), '')", host="NULL",
        path="split_part(split_part(request, ' ', 2), '?', 1)",
        status="TRY_CAST(status_ AS SMALLINT)", nbytes="TRY_CAST(nullif(bytes_, '-') AS BIGINT)", latency=latency,
        upstream_ms=up_ms, client="client", upstream=upstream, user_agent="nullif(ua, '-')", raw=raw)
    return f"WITH __src AS (SELECT * FROM {src}){sql}", names


def combined_lines(relation: str, s: Sniff) -> str:
    """Combined lines one at a time, split on their quotes: the path for what the fast path rejects.

    ``relation`` has a VARCHAR column ``line``. The tail after the user agent is read by key
    (``rt=``, ``urt=``, ``ua=``) when it has keys, else by position as the sniffed roles say.
    """
    tail = "trim(array_to_string(p[7:], '\"'))"
    toks = f"string_split(regexp_replace({tail}, '\\s*([,:])\\s+', '\\1', 'g'), ' ')"
    roles = s.tail or []

    def by_key(target: str) -> str:
        keys = "|".join(_TAIL_KEYS[target])
        return f"nullif(regexp_extract({tail}, '(?:^|\\s)(?:{keys})=\"?([^\"\\s]+(?:, [^\"\\s]+)*)', 1), '')"

    def by_role(role: str) -> str:
        return f"{toks}[{roles.index(role) + 1}]" if role in roles else "NULL"

    lat_us = f"TRY_CAST({_last_value(by_role('latency_us'))} AS DOUBLE) / 1000"
    latency = (f"coalesce(TRY_CAST({_last_value(by_key('latency'))} AS DOUBLE) * 1000, "
               f"TRY_CAST({_last_value(by_role('latency_s'))} AS DOUBLE) * 1000, {lat_us})")
    up_ms = (f"coalesce(TRY_CAST({_last_value(by_key('upstream_ms'))} AS DOUBLE), "
             f"TRY_CAST({_last_value(by_role('upstream_s'))} AS DOUBLE)) * 1000")
    upstream = f"nullif(coalesce({_last_value(by_key('upstream'))}, {_last_value(by_role('upstream'))}), '-')"
    sql = _select(
        ts="try_strptime(split_part(split_part(p[1], '[', 2), ']', 1), '%d/%b/%Y:%H:%M:%S %z')",
        method="nullif(split_part(p[2], ' ', 1), '')", host="NULL",
        path="split_part(split_part(p[2], ' ', 2), '?', 1)",
        status="CASE WHEN len(p) >= 3 THEN TRY_CAST(split_part(trim(p[3]), ' ', 1) AS SMALLINT) END",
        nbytes="TRY_CAST(split_part(trim(p[3]), ' ', 2) AS BIGINT)", latency=latency, upstream_ms=up_ms,
        client="split_part(p[1], ' ', 1)", upstream=upstream, user_agent="nullif(p[6], '-')", raw="line")
    return f"WITH __src AS (SELECT line, string_split(line, '\"') AS p FROM {relation}){sql}"


def alb(path: str, compression: str) -> str:
    cols = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in ALB_FIELDS) + "}"
    src = (f"read_csv({_q(path)}, columns={cols}, delim=' ', quote='\"', escape='\"', header=false, "
           f"auto_detect=false, strict_mode=false, null_padding=true, parallel=false, ignore_errors=true, "
           f"compression={_q(compression)}, {_REJECTS})")
    url = "split_part(request, ' ', 2)"
    # The three processing times are -1 when the balancer could not dispatch the request.
    times = ["request_processing_time", "target_processing_time", "response_processing_time"]
    parts = " + ".join(f"greatest(TRY_CAST({t} AS DOUBLE), 0)" for t in times)
    latency = f"CASE WHEN TRY_CAST(request_processing_time AS DOUBLE) >= 0 THEN ({parts}) * 1000 END"
    raw = "concat_ws(' ', " + ", ".join(ALB_FIELDS[:14]) + ")"
    sql = _select(
        ts="TRY_CAST(\"time\" AS TIMESTAMPTZ)", method="nullif(split_part(request, ' ', 1), '-')",
        host=f"nullif(split_part(split_part(split_part({url}, '://', 2), '/', 1), ':', 1), '')",
        path=f"split_part(coalesce(nullif(regexp_extract({url}, '^[a-zA-Z]+://[^/]*(/.*)?$', 1), ''), '/'), '?', 1)",
        status="TRY_CAST(elb_status_code AS SMALLINT)", nbytes="TRY_CAST(sent_bytes AS BIGINT)", latency=latency,
        upstream_ms="CASE WHEN TRY_CAST(target_processing_time AS DOUBLE) >= 0 "
                    "THEN TRY_CAST(target_processing_time AS DOUBLE) * 1000 END",
        client="split_part(client_port, ':', 1)", upstream="nullif(target_port, '-')",
        user_agent="nullif(user_agent, '-')", raw=raw)
    return f"WITH __src AS (SELECT * FROM {src}){sql}"


def cloudfront(path: str, s: Sniff, compression: str) -> str:
    names = [f.lower() for f in s.fields]
    idx = {n: f"c{i}" for i, n in enumerate(names)}
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    src = (f"read_csv({_q(path)}, columns={cols}, delim='\\t', quote='', escape='', header=false, "
           f"auto_detect=false, strict_mode=false, null_padding=true, parallel=false, ignore_errors=true, "
           f"comment='#', compression={_q(compression)}, {_REJECTS})")

    def col(name: str, default: str = "NULL") -> str:
        return f"nullif({idx[name]}, '-')" if name in idx else default

    ts = (f"TRY_CAST({col('date')} || ' ' || {col('time')} || '+00' AS TIMESTAMPTZ)"
          if "date" in idx and "time" in idx else "NULL::TIMESTAMPTZ")
    raw = "concat_ws('\t', " + ", ".join(f"c{i}" for i in range(len(names))) + ")"
    sql = _select(
        ts=ts, method=col("cs-method"), host=col("cs(host)", col("x-host-header")), path=col("cs-uri-stem"),
        status=f"TRY_CAST({col('sc-status')} AS SMALLINT)", nbytes=f"TRY_CAST({col('sc-bytes')} AS BIGINT)",
        latency=f"TRY_CAST({col('time-taken')} AS DOUBLE) * 1000",
        upstream_ms=f"TRY_CAST({col('time-to-first-byte')} AS DOUBLE) * 1000", client=col("c-ip"),
        upstream=col("x-edge-location"), user_agent=f"url_decode(url_decode({col('cs(user-agent)')}))", raw=raw)
    return f"WITH __src AS (SELECT * FROM {src}){sql}"


def jsonl(path: str, s: Sniff, compression: str) -> str:
    m = s.mapping

    def get(target: str) -> str:
        if target not in m:
            return "NULL"
        return f"nullif(json_extract_string(doc, {_q('$.' + json.dumps(m[target]))}), '')"

    def number(target: str) -> str:
        return f"TRY_CAST({get(target)} AS DOUBLE)"

    t = get("time")
    epoch = f"TRY_CAST({t} AS DOUBLE)"
    # Epoch seconds, or milliseconds past 1e11; a number beyond both is no time (to_timestamp would abort).
    ts = (f"coalesce(TRY_CAST({t} AS TIMESTAMPTZ), try_strptime({t}, '%d/%b/%Y:%H:%M:%S %z'), "
          f"CASE WHEN {epoch} > 1e11 AND {epoch} < 1e14 THEN to_timestamp({epoch} / 1000) "
          f"WHEN abs({epoch}) <= 1e11 THEN to_timestamp({epoch}) END)")
    request = get("request")
    target = get("path") if "path" in m else f"split_part({request}, ' ', 2)"
    # A full URL keeps its path only: scheme://host/path → /path.
    url_path = (f"CASE WHEN {target} LIKE '%://%' THEN regexp_extract({target}, '^[a-zA-Z]+://[^/]*(/.*)?$', 1) "
                f"ELSE {target} END")
    method = (get("method") if "method" in m
              else f"nullif(split_part({request}, ' ', 1), '')" if "request" in m else "NULL")
    latency = (f"{number('latency_s')} * 1000" if "latency_s" in m
               else number("latency_ms") if "latency_ms" in m else "NULL::DOUBLE")
    sql = _select(
        ts=ts, method=method, host=get("host"), path=f"split_part(coalesce(nullif({url_path}, ''), '/'), '?', 1)",
        status=f"TRY_CAST(TRY_CAST({get('status')} AS DOUBLE) AS SMALLINT)",
        nbytes=f"TRY_CAST({number('bytes')} AS BIGINT)", latency=latency,
        upstream_ms=f"{number('upstream_s')} * 1000", client=get("client"),
        upstream=get("upstream"), user_agent=get("user_agent"), raw="line")
    doc = "CASE WHEN json_valid(line) THEN line::JSON END AS doc"
    return f"WITH __src AS (SELECT line, {doc} FROM {_lines(path, compression)}){sql}"


__all__ = ["COLUMNS", "FORMATS", "JSON_KEYS", "Sniff", "alb", "cloudfront", "combined_fast", "combined_lines",
           "jsonl", "parse_mapping", "sniff"]
