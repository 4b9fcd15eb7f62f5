"""Redaction of secrets in everything tracehound writes: headers, URLs, body samples, messages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

MASK = "[redacted]"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-xsrf-token",
    }
)

_SECRET_WORD = (r"(?:pass(?:word|wd)?|secret|token|api[_-]?key|apikey|auth|credential|session|cookie"
                r"|private[_-]?key|signature|sig|jwt)")
_SECRET_KEY = re.compile(rf"(?i)^[\w.-]*{_SECRET_WORD}[\w.-]*$")
# "key": "value" pairs in JSON whose key names a secret.
_JSON_PAIR = re.compile(rf'(?i)("[\w.-]*{_SECRET_WORD}[\w.-]*"\s*:\s*)"(?:[^"\\]|\\.)*"?')
# key=value pairs in form bodies, query strings and logfmt.
_KV_PAIR = re.compile(rf"(?i)(\b[\w.-]*{_SECRET_WORD}[\w.-]*=)[^&\s,;\"]+")
_JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{2,}\.[\w-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w\-.~+/=]{8,}")
# The user part may be empty: ``redis://:password@host``.
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s:]*(?::[^/@\s]*)?@")
# 'key': 'value' pairs as Python prints dicts (headers and payloads in error messages).
_QUOTED_PAIR = re.compile(rf"(?i)('[\w.-]*{_SECRET_WORD}[\w.-]*'\s*:\s*)'(?:[^'\\]|\\.)*'?")
# "Name: value" lines of credential headers quoted in free text (logs, error messages, dumps).
# password=… in a key=value PostgreSQL DSN, quoted or not.
_DSN_PASSWORD = re.compile(r"(?i)(?:^|\s)password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))")
_HEADER_LINE = re.compile(r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie|x-[\w-]*(?:token|key|secret))"
                          r"(\s*:\s*)[^\r\n\"']+")


#: Secrets given to this process (credential header values, URL, DSN and Redis passwords): masked
#: wherever they show up, whatever surrounds them (a server that echoes a token in ``X-Request-Id``,
#: a log line that quotes one). Shorter values are left to the patterns: masking them would mask words.
_given: set[str] = set()
MIN_GIVEN = 6


def remember(*secrets: str | None) -> None:
    """Mask each of ``secrets`` in everything redacted from now on, in this process."""
    for s in secrets:
        if s and len(s) >= MIN_GIVEN:
            _given.add(s)


def remember_header(name: str, value: str) -> None:
    """Remember a credential header's value, and the token or cookie values inside it, as given secrets."""
    if not is_secret_header(name):
        return
    remember(value)
    scheme, _, token = value.strip().partition(" ")
    if token and scheme.lower() in ("bearer", "basic", "token", "digest"):
        remember(token.strip())
    if name.strip().lower() in ("cookie", "set-cookie"):
        remember(*(part.partition("=")[2].strip() for part in value.split(";")))


def remember_url(url: str) -> None:
    """Remember the password a URL (or DSN) carries, and its secret-looking query values, as given secrets."""
    try:
        parts = urlsplit(url.strip())
        password = parts.password
    except ValueError:
        return
    remember(unquote(password) if password else None)
    remember(*(v for k, v in parse_qsl(parts.query, keep_blank_values=True) if _SECRET_KEY.match(k)))
    remember(*(m.group(1) or m.group(2) for m in _DSN_PASSWORD.finditer(url)))  # password=… of a key=value DSN


def is_secret_header(name: str) -> bool:
    """True for headers whose values are credentials."""
    n = name.strip().lower()
    return n in SECRET_HEADERS or bool(_SECRET_KEY.match(n))


def redact_text(text: str) -> str:
    """Mask credentials inside free text: JSON, dict and form pairs, credential header lines, JWTs,
    bearer tokens, URL userinfo."""
    if not text:
        return text
    for secret in sorted(_given, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _JSON_PAIR.sub(lambda m: m.group(1) + '"' + MASK + '"', text)
    text = _QUOTED_PAIR.sub(lambda m: m.group(1) + "'" + MASK + "'", text)
    text = _HEADER_LINE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _KV_PAIR.sub(lambda m: m.group(1) + MASK, text)
    text = _JWT.sub(MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + " " + MASK, text)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return text


def redact_json(value: Any) -> Any:
    """A JSON value (dicts, lists, strings, numbers) with every string redacted, keys included."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_text(k) if isinstance(k, str) else k: redact_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(v) for v in value]
    return value


def redact_header_value(name: str, value: str) -> str:
    """A header's value as tracehound writes it: masked for a credential header, else with secrets masked inside."""
    return MASK if is_secret_header(name) else redact_text(value)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header mapping with credential values masked."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: redact_header_value(k, v) for k, v in items}


def redact_url(url: str) -> str:
    """URL with userinfo and secret-looking query parameters masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if _SECRET_KEY.match(k) else v) for k, v in pairs], safe="[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_path(path: str) -> str:
    """A request path (with query) with secret-looking query parameters masked."""
    if "?" not in path:
        return path
    head, _, query = path.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    return head + "?" + urlencode([(k, MASK if _SECRET_KEY.match(k) else v) for k, v in pairs], safe="[]")


_HEADER_ARG = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*)$", re.S)


def redact_arg(arg: str) -> str:
    """A command-line argument with credentials masked (``-H 'X-Api-Key: …'``, URLs, bodies)."""
    m = _HEADER_ARG.match(arg)
    if m and not arg.lstrip().startswith(("http:", "https:")) and is_secret_header(m.group(1)):
        return f"{m.group(1)}: {MASK}"
    if re.match(r"^https?://", arg):
        return redact_url(arg)
    return redact_text(arg)
