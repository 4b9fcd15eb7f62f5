"""A request ready to send: its bytes, and the interned codes its records share."""

from __future__ import annotations

from typing import Any

from tracehound.expect import Expectation
from tracehound.flow import Capture
from tracehound.probe.records import RecordBuffer
from tracehound.probe.target import Endpoint
from tracehound.redact import redact_path


class Spec:
    """A request ready to send, with the interned codes of its constant fields.

    ``captures`` is None for a plain target; a flow step's spec carries its captures (maybe
    none) and the virtual user's variables, ``env``, that they fill. ``expect``, when given, judges
    every answer below 400 (:class:`~tracehound.expect.Expectation`); both need the whole body.
    """

    __slots__ = ("data", "ep", "method", "host", "path", "step", "spec_code", "path_code", "captures", "env", "head",
                 "expect", "keeps_body")

    def __init__(
        self,
        buf: RecordBuffer,
        data: bytes,
        ep: Endpoint,
        method: str,
        path: str,
        step: str | None = None,
        captures: list[Capture] | None = None,
        env: dict[str, Any] | None = None,
        expect: Expectation | None = None,
    ) -> None:
        self.data = data
        self.ep = ep
        self.method = method.encode()
        self.host = ep.host_header.encode()
        self.path = redact_path(path).encode()
        self.step = step.encode() if step is not None else None
        self.spec_code = buf.spec_code(self.step, self.method, self.host)
        self.path_code = buf.path_code(self.path)
        self.captures = captures
        self.env: dict[str, Any] = env if env is not None else {}
        self.head = method == "HEAD"
        self.expect = expect or None
        #: Whether an answer's whole body is needed (captures or expectations read it).
        self.keeps_body = captures is not None or self.expect is not None
