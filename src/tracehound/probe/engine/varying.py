"""One request whose values vary with data, compiled to bytes with slots and sent from the closed model's callbacks.

A flow with data, no setup, one step, no capture and no pause is one request whose path, headers
or body take values from its pools (and ``{vu}``, ``{iter}``, ``{seq}``, ``{uuid}``). Through the
flow driver each request would cost a coroutine, a template walk and a request check; here the
request is compiled once into literal byte parts and slots, and each request joins the parts with
its values (each distinct value encoded once), from the same callbacks as a fixed request. Its
records keep the path as written (``/customers/{customer_id}``): the values are in the data columns.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from tracehound.errors import BadTarget
from tracehound.expect import Expectation
from tracehound.flow import Flow, Template
from tracehound.params import Draws
from tracehound.params.draw import grow
from tracehound.params.pool import path_text, text
from tracehound.probe.engine.closed_model import ClosedVU
from tracehound.probe.engine.connection import Conn
from tracehound.probe.engine.core import Engine
from tracehound.probe.engine.flow import ORIGIN
from tracehound.probe.engine.spec import Spec
from tracehound.probe.target import Endpoint, build_request, split_url

#: A column of a pool up to this long is encoded whole when the plan is made; a longer one as its
#: values are drawn, keeping at most this many.
EAGER_LIMIT = 1 << 18
#: Whole requests kept by row when one pool is all that varies.
CACHE_LIMIT = 1 << 17
_BUILTIN = {"vu": 1, "iter": 2, "seq": 3, "uuid": 4}


def _path_bytes(v: Any) -> bytes:
    if type(v) is str and v.isascii() and v.isalnum():
        return v.encode()
    return path_text(v).encode("ascii")


#: The contexts a value is encoded for: a request target, a header, a raw body, inside a JSON string,
#: a whole JSON value.
_ENCODE: dict[str, Callable[[Any], bytes]] = {
    "path": _path_bytes,
    "header": lambda v: text(v).encode("latin-1"),
    "body": lambda v: text(v).encode(),
    "json_str": lambda v: json.dumps(text(v))[1:-1].encode(),
    "json": lambda v: json.dumps(v, separators=(",", ":")).encode(),
}


class _Fill:
    """One slot of the request: where it goes, and what fills it."""

    __slots__ = ("pos", "kind", "pool", "column", "encode", "cache", "values", "ctx")

    def __init__(self, pos: int, kind: int, ctx: str, pool: int = -1, column: Any = None) -> None:
        self.pos = pos
        #: 0 a pool's column, 1 vu, 2 iter, 3 seq, 4 uuid
        self.kind = kind
        self.ctx = ctx
        self.pool = pool
        self.column = column
        self.encode = _ENCODE[ctx]
        #: Every value of the column encoded (a short list), or those encoded so far (a long one); a
        #: range's integers are encoded as drawn.
        self.values: list[bytes] | None = None
        self.cache: dict[int, bytes] | None = None
        if kind == 0 and not isinstance(column, range):
            if len(column) <= EAGER_LIMIT:
                self.values = [self.encode(v) for v in column]
            else:
                self.cache = {}


class RequestPlan:
    """A one-step flow's request as byte parts and slots; :meth:`build` makes each request's bytes."""

    def __init__(self, step_name: str, method: str, ep: Endpoint, path: str, parts: list[bytes],
                 fills: list[_Fill], body_from: int, length_at: int, draws: Draws, pools: list[int],
                 expect: Expectation | None = None) -> None:
        self.step_name = step_name
        #: What a right answer looks like (the step's ``expect``): judged on every answer below 400.
        self.expect = expect
        self.method = method
        self.ep = ep
        #: The path as recorded: the template's, placeholders kept.
        self.path = path
        self.parts = parts
        self.fills = fills
        #: Parts from this index on are the body; ``length_at`` is the Content-Length slot (-1: fixed body).
        self.body_from = body_from
        self.length_at = length_at
        self.draws = draws
        #: The pools this request draws from.
        self.pools = pools
        self.rows = [-1] * len(draws)
        #: With one pool and nothing else varying, each row's whole request, made once.
        self.by_row: dict[int, bytes] = {}
        self.head = b"".join(parts[: fills[0].pos]) if fills else b""
        self.tail = b"".join(parts[fills[0].pos + 1:]) if fills else b""
        #: Request ``seq``'s bytes for virtual user ``vu`` at its ``iteration``: rows drawn (and recorded),
        #: slots filled.
        self.build: Callable[[int, int, int], bytes] = self._build
        # The one-pool builds read these without a lookup through the draws.
        self.draw0 = draws.drawers[0].draw
        self.codes0 = draws.codes[0]
        self.values0: list[bytes] = (fills[0].values or []) if fills else []
        if len(draws) == 1 and all(f.kind == 0 for f in fills):
            one = len(fills) == 1 and length_at < 0 and fills[0].values is not None
            self.build = self._build_one if one else self._build_by_row

    @classmethod
    def compile(cls, flow: Flow, base: Endpoint, base_path: str, keepalive: bool, draws: Draws) -> RequestPlan | None:
        """The plan of ``flow``'s one request; None when the flow is more than one plain request."""
        if flow.setup or len(flow.steps) != 1 or not len(draws):
            return None
        step = flow.steps[0]
        if step.captures or step.pause > 0 or step.pause_spread > 0:
            return None
        token = secrets.token_hex(4)
        slots: list[tuple[str, str]] = []

        def mark(name: str, ctx: str) -> str:
            slots.append((name, ctx))
            return f"TH{token}{'W' if ctx == 'json' else 'S'}{len(slots) - 1}Y"

        def fill(t: Template, ctx: str) -> str:
            return "".join(p if isinstance(p, str) else text(flow.vars[p[0]]) if p[0] in flow.vars
                           else mark(p[0], ctx) for p in t.parts)

        def walk(value: Any) -> Any:
            if isinstance(value, Template):
                if value.whole is not None:
                    return flow.vars[value.whole] if value.whole in flow.vars else mark(value.whole, "json")
                return fill(value, "json_str")
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            return value

        target = fill(step.target, "path")
        headers = [(k, fill(v, "header")) for k, v in step.headers]
        body: bytes | None = None
        if step.json is not None:
            body = json.dumps(walk(step.json), separators=(",", ":")).encode()
            if not any(k.lower() == "content-type" for k, _ in headers):
                headers.append(("Content-Type", "application/json"))
        elif step.data is not None:
            body = fill(step.data, "body").encode()
        try:
            if step.absolute:
                ep, path = split_url(target)
                if token in ep.host:
                    return None
            else:
                ep, path = base, base_path.rstrip("/") + target
            raw = build_request(step.method, ep, path, headers, body, keepalive)
        except BadTarget:
            return None  # the flow driver records why each request cannot be sent
        cut = raw.index(b"\r\n\r\n") + 4
        head, tail = raw[:cut], raw[cut:]
        length_at = -1
        pieces: list[bytes | int] = []
        body_varies = token.encode() in tail
        if body_varies:
            line = b"\r\nContent-Length: %d\r\n" % len(tail)
            at = head.find(line)
            if at < 0:
                return None  # a Content-Length of the user's own: the flow driver sends what it says
            pieces += [*_split(head[: at + 18], token), -1, *_split(head[at + len(line) - 2:], token)]
        else:
            pieces += _split(head, token)
        body_from = len(pieces)
        pieces += _split(tail, token)
        parts: list[bytes] = []
        fills: list[_Fill] = []
        columns = {c: (j, col) for j, cols in enumerate(draws.columns) for c, col in cols}
        used: set[int] = set()
        for piece in pieces:
            if isinstance(piece, bytes):
                parts.append(piece)
                continue
            if piece == -1:
                length_at = len(parts)
            else:
                name, ctx = slots[piece]
                if name in columns:
                    j, col = columns[name]
                    used.add(j)
                    fills.append(_Fill(len(parts), 0, ctx, j, col))
                else:
                    fills.append(_Fill(len(parts), _BUILTIN[name], ctx))
            parts.append(b"")
        recorded = (ORIGIN.sub("", step.target.text) or "/") if step.absolute else (
            base_path.rstrip("/") + step.target.text)
        return cls(step.name, step.method, ep, recorded, parts, fills, body_from, length_at, draws, sorted(used),
                   step.expect)

    def spec(self, engine: Engine) -> Spec:
        """A spec for one virtual user: its bytes change with every request it sends."""
        return Spec(engine.buf, b"", self.ep, self.method, self.path, self.step_name, expect=self.expect)

    def _build_one(self, vu: int, iteration: int, seq: int) -> bytes:
        row = self.draw0(vu)
        arr = self.codes0
        if seq >= len(arr):
            grow(arr, seq)
        arr[seq] = row
        return self.head + self.values0[row] + self.tail

    def _build_by_row(self, vu: int, iteration: int, seq: int) -> bytes:
        row = self.draw0(vu)
        arr = self.codes0
        if seq >= len(arr):
            grow(arr, seq)
        arr[seq] = row
        by_row = self.by_row
        data = by_row.get(row)
        if data is None:
            self.rows[0] = row
            data = self._fill(vu, iteration, seq)
            if len(by_row) < CACHE_LIMIT:
                by_row[row] = data
        return data

    def _build(self, vu: int, iteration: int, seq: int) -> bytes:
        draws = self.draws
        rows = self.rows
        drawers = draws.drawers
        for j in self.pools:
            rows[j] = drawers[j].draw(vu)
        draws.record(seq, rows)
        return self._fill(vu, iteration, seq)

    def _fill(self, vu: int, iteration: int, seq: int) -> bytes:
        """The request with the slots filled from :attr:`rows` and the built-ins."""
        rows = self.rows
        out = self.parts.copy()
        for f in self.fills:
            kind = f.kind
            if kind == 0:
                row = rows[f.pool]
                cache = f.cache
                if f.values is not None:
                    value = f.values[row]
                elif cache is None:
                    value = f.encode(f.column[row])
                else:
                    hit = cache.get(row)
                    if hit is None:
                        hit = f.encode(f.column[row])
                        if len(cache) < CACHE_LIMIT:
                            cache[row] = hit
                    value = hit
            elif kind == 4:
                value = f.encode(str(uuid.uuid4()))
            else:
                value = f.encode(vu if kind == 1 else iteration if kind == 2 else seq)
            out[f.pos] = value
        if self.length_at >= 0:
            out[self.length_at] = b"%d" % sum(map(len, out[self.body_from:]))
        return b"".join(out)


def _split(data: bytes, token: str) -> list[bytes | int]:
    """``data`` cut at its slot marks: literal bytes, and slot numbers."""
    out: list[bytes | int] = []
    pos = 0
    tok = token.encode()
    # A whole JSON value's mark stands in a JSON string: its quotes go with it.
    for m in re.finditer(rb'"TH' + tok + rb'W(\d+)Y"|TH' + tok + rb"S(\d+)Y", data):
        out.append(data[pos: m.start()])
        out.append(int(m.group(1) or m.group(2)))
        pos = m.end()
    out.append(data[pos:])
    return out


class VaryingVU(ClosedVU):
    """A closed-model virtual user sending a :class:`RequestPlan`'s requests, each built when it is sent."""

    def __init__(self, engine: Engine, vu: int, plan: RequestPlan) -> None:
        super().__init__(engine, vu, plan.spec(engine))
        self.build = plan.build
        self.iteration = 0

    def go(self) -> None:
        e = self.e
        seq = e.admit() if self.active else None
        if seq is None:
            self.running = False
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            e.driver_exited()
            return
        self.spec.data = self.build(self.id, self.iteration, seq)
        self.iteration += 1
        c = self.conn
        if c is not None and not c.closed:
            c.send(self.spec, seq, self.id, 0, 0, self)
        else:
            e.loop.create_task(self._connect_send(seq))

    def on_response(self, conn: Conn) -> None:
        e = self.e
        if not conn.closed and self.active and not e.closed_window and e.issued < e.limit:
            seq = e.issued  # the hot path, as ClosedVU's: admit() and go() inlined
            e.issued = seq + 1
            self.spec.data = self.build(self.id, self.iteration, seq)
            self.iteration += 1
            conn.resend(seq)
            return
        if conn.closed:
            self.conn = None
        self.go()


__all__ = ["CACHE_LIMIT", "RequestPlan", "VaryingVU"]
