"""One request on Locust's client: sent, its captures taken, and recorded by the worker."""

from __future__ import annotations

from typing import Any, Protocol

from tracehound.expect import ExpectationMissed
from tracehound.flow import CaptureFailed, Step
from tracehound.probe.locust.worker import W, split_cached
from tracehound.probe.target import USER_AGENT, build_request


class Sender(Protocol):
    """What sends a request: a Locust user's client, and the variables its captures fill."""

    env: dict[str, Any]

    @property
    def client(self) -> Any: ...


def base_headers(spec: dict[str, Any], headers: list[tuple[str, str]]) -> dict[str, str]:
    """The headers a request goes out with: tracehound's defaults, then the target's own."""
    out = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
    for k, v in headers:
        for old in [o for o in out if o.lower() == k.lower()]:
            del out[old]
        out[k] = v
    if not spec["keepalive"]:
        out.setdefault("Connection", "close")
    return out


def send(user: Sender, seq: int, vu: int, intended_ns: int, step: Step | None, method: str, url: str,
         headers: list[tuple[str, str]], body: bytes | None) -> tuple[int, bytes | None, Any]:
    """Send one request and record it; returns (status, body, headers) for captures."""
    spec = W.spec
    W.begin(seq, vu, intended_ns, step.name if step else None, method, url)
    ep, path = split_cached(url)
    key = (method, url, len(body or b""), tuple(headers))
    cached = W.request_bytes.get(key)
    if cached is None:
        sent = base_headers(spec, headers)
        try:
            out = len(build_request(method, ep, path, list(sent.items()), body))
        except Exception:  # noqa: BLE001 - only a byte count: a request it cannot build counts zero
            out = 0
        cached = (out, sent)
        if len(W.request_bytes) < 4096:
            W.request_bytes[key] = cached
    out, sent = cached
    ctx = {"th_seq": seq, "th_vu": vu, "th_intended": intended_ns, "th_step": step.name if step else None,
           "th_bytes_out": out}
    try:
        with user.client.request(method, url, name=step.name if step else path, data=body,
                                 headers=sent, allow_redirects=False, context=ctx,
                                 catch_response=True) as resp:
            status = int(resp.status_code or 0)
            try:
                content = resp.content if status else None
            except Exception:  # noqa: BLE001 - the body broke off: the request event still records it
                content = None
            if step is not None and step.captures and 0 < status < 400:
                try:
                    hdrs = {k.lower(): v for k, v in (resp.headers or {}).items()}
                    for cap in step.captures:
                        user.env[cap.var] = cap.extract(content or b"", hdrs)
                except CaptureFailed as e:
                    resp.failure(e)
                    return 0, None, None
            expect = step.expect if step is not None else W.expect
            if expect is not None and 0 < status < 400:
                missed = expect.check(status, content or b"")
                if missed is not None:
                    resp.failure(ExpectationMissed(missed))
                    return status, content, resp.headers
            resp.success()  # tracehound reads the status itself; Locust's own stats are not used
            return status, content, resp.headers
    finally:
        W.end(seq)
