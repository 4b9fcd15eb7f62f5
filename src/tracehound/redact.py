"""Redaction of secrets in everything tracehound writes: headers, URLs, body samples, messages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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
_JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[\w\-.~+/=]{8,}")
# The user part may be empty: ``redis://:password@host``.
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/@\s:]*(?::[^/@\s]*)?@")
# 'key': 'value' pairs as Python prints dicts (headers and payloads in error messages).
_QUOTED_PAIR = re.compile(rf"(?i)('[\w.-]*{_SECRET_WORD}[\w.-]*'\s*:\s*)'(?:[^'\\]|\\.)*'?")
# "Name: value" lines of credential headers quoted in free text (logs, error messages, dumps).
_HEADER_LINE = re.compile(r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie|x-[\w-]*(?:token|key|secret))"
                          r"(\s*:\s*)[^\r\n\"']+")


def is_secret_header(name: str) -> bool:
    """True for headers whose values are credentials."""
    n = name.strip().lower()
    return n in SECRET_HEADERS or bool(_SECRET_KEY.match(n))


def redact_text(text: str) -> str:
    """Mask credentials inside free text: JSON, dict and form pairs, credential header lines, JWTs,
    bearer tokens, URL userinfo."""
    if not text:
        return text
    text = _JSON_PAIR.sub(lambda m: m.group(1) + '"' + MASK + '"', text)
    text = _QUOTED_PAIR.sub(lambda m: m.group(1) + "'" + MASK + "'", text)
    text = _HEADER_LINE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _KV_PAIR.sub(lambda m: m.group(1) + MASK, text)
    text = _JWT.sub(MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + " " + MASK, text)
    text = _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return text


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header mapping with credential values masked."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (MASK if is_secret_header(k) else redact_text(v)) for k, v in items}


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
