"""Templates of log messages: variables masked first, then the distinct masked lines mined with Drain.

Masking replaces what varies from one occurrence to the next (numbers, ids, UUIDs, hex digests,
IP addresses, URLs, embedded times, durations, quoted values) by a typed placeholder, so that
``order 42 failed after 1.3s`` and ``order 7 failed after 0.9s`` become the same line. Most lines
of a log then repeat exactly, and only the distinct masked lines reach Drain (the ``drain3``
library), which groups lines that differ in a few more tokens into one template. That keeps
Drain's cost proportional to the variety of a log, not its size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drain3.drain import Drain

_DELIM = r"\s,;()\[\]{}=<>\"'#*|"
#: A token holding a digit, from one delimiter to the next: the only places a variable can hide
#: (besides quotes and URLs). Looking at tokens, not characters, keeps masking cheap.
_TOKEN = re.compile(rf"(?<![^{_DELIM}])[^{_DELIM}]*\d[^{_DELIM}]*")
_QUOTED = re.compile(r"(?<![\w\\])'[^'\n]{1,160}'(?!\w)|(?<![\w\\])\"[^\"\n]{1,160}\"")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://[^\s\"'<>)\]]+")
#: Whole-token shapes, most frequent first.
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("<IP>", re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?")),
    ("<NUM>", re.compile(r"[-+]?\d+(?:[.,]\d+)?:?")),
    ("<DUR>", re.compile(r"\d+(?:\.\d+)?(?:ms|us|µs|ns|s|sec|secs|min|h)")),
    ("<TS>", re.compile(r"\d{4}-\d\d-\d\d(?:T\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)?"
                        r"|\d\d:\d\d:\d\d(?:[.,]\d+)?")),
    ("<UUID>", re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")),
    ("<HEX>", re.compile(r"0x[0-9a-fA-F]+|(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}")),
)
#: Inside a token no shape fits (``pid:456``, ``/orders/42``, ``acc_8f3k2``): its alphanumeric pieces.
_PIECE = re.compile(r"[A-Za-z0-9_]*\d[A-Za-z0-9_]*")
_PIECE_NUM = re.compile(r"\d+")
_HEXISH = re.compile(r"[0-9a-fA-F]{8,}")
#: Lines longer than this are cut before masking: what varies beyond it is noise for a template.
MAX_MESSAGE = 1000


def _piece(m: re.Match[str]) -> str:
    p = m.group()
    if _PIECE_NUM.fullmatch(p):
        return "<NUM>"
    if _HEXISH.fullmatch(p):
        return "<HEX>"
    if len(p) >= 6 and sum(c.isdigit() for c in p) >= 2:
        return "<ID>"
    return p


def _token(m: re.Match[str]) -> str:
    t = m.group()
    if t.isdigit():
        return "<NUM>"
    for name, shape in _SHAPES:
        if shape.fullmatch(t):
            return name + ":" if name == "<NUM>" and t.endswith(":") else name
    return _PIECE.sub(_piece, t)


def mask(message: str) -> str:
    """``message`` with its variable parts replaced by ``<NUM>``, ``<UUID>``, ``<IP>``, ``<STR>`` … placeholders."""
    s = message[:MAX_MESSAGE]
    if "://" in s:
        s = _URL.sub("<URL>", s)
    if "'" in s or '"' in s:
        s = _QUOTED.sub("<STR>", s)
    return _TOKEN.sub(_token, s)


def mask_path(path: str) -> str:
    """A request path with its ids masked and its query string reduced to its keys."""
    p, _, q = path.partition("?")
    out = "/".join(_TOKEN.sub(_token, seg) if seg else seg for seg in p[:300].split("/"))
    if q:
        out += "?" + "&".join(sorted({kv.partition("=")[0] for kv in q.split("&")}))[:200]
    return out


@dataclass
class Template:
    """One template: Drain's cluster id and its current text (``<*>`` where tokens differ)."""

    id: int
    text: str


class Miner:
    """Drain over distinct masked lines: each masked line is fed once and remembered.

    ``cap`` bounds the memory: past that many distinct masked lines, new ones are matched to the
    templates already mined (or to a catch-all) without being stored.
    """

    OVERFLOW = 0

    def __init__(self, cap: int = 200_000, sim_th: float = 0.5, depth: int = 4) -> None:
        self.drain = Drain(depth=depth, sim_th=sim_th, max_children=100)
        self.cap = cap
        self.overflowed = 0
        self._exact: dict[str, int] = {}
        self._exact_text: dict[int, str] = {}

    def exact(self, key: str) -> int:
        """The template id of a line that is its own template (an access line's method, path and status).

        Drain would merge ``GET /x 200`` with ``GET /x 502``; for a structured line the status is
        the point, so its masked form is kept as it is, under an id of its own (negative).
        """
        tid = self._exact.get(key)
        if tid is None:
            if len(self._exact) >= self.cap:
                return self.add(key)
            tid = -(len(self._exact) + 1)
            self._exact[key] = tid
            self._exact_text[tid] = key
        return tid

    def add(self, masked: str) -> int:
        """The template id of a new distinct masked line (feeds Drain)."""
        if len(self.drain.id_to_cluster) < self.cap:
            cluster, _ = self.drain.add_log_message(masked)
            return int(cluster.cluster_id)
        self.overflowed += 1
        hit = self.drain.match(masked)
        return int(hit.cluster_id) if hit is not None else self.OVERFLOW

    def text(self, template_id: int) -> str:
        if template_id == self.OVERFLOW:
            return "(lines past the template cap)"
        if template_id < 0:
            return self._exact_text.get(template_id, "")
        c = self.drain.id_to_cluster.get(template_id)
        return c.get_template() if c is not None else "(evicted template)"

    def __len__(self) -> int:
        return len(self.drain.id_to_cluster) + len(self._exact)


__all__ = ["Miner", "Template", "mask", "mask_path"]
