"""Fields shared by the formats: URLs, clock times, response bodies and the run's target."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa

from tracehound.probe.importers._files import bad
from tracehound.probe.records import SAMPLE_BYTES, body_digest
from tracehound.redact import redact_path, redact_text, redact_url

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Distinct URLs listed in ``run.json``'s target.
TARGET_URLS = 20


def text(value: Any) -> str | None:
    """A field that should be a string: the string, or ``None`` when it is empty or not a string."""
    return value if isinstance(value, str) and value else None


#: The longest time a HAR entry or one of its phases may take: a day. Beyond, it is not a measurement.
HAR_MAX_MS = 86_400_000.0


def har_ms(value: Any, what: str) -> float | None:
    """A HAR time in milliseconds: None when absent or negative (HAR's -1, "does not apply").

    :class:`ValueError` naming ``what`` for anything else that is not a finite number from 0 to
    :data:`HAR_MAX_MS` (a string, ``1e308``, ``Infinity``): ``import`` and ``har`` read HAR alike.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} {value!r} is not a number")
    if value < 0:
        return None
    if not value <= HAR_MAX_MS:  # NaN, infinity, 1e308
        raise ValueError(f"{what} {value:g} is not a time from 0 to {HAR_MAX_MS:,.0f} ms")
    return float(value)


def url_parts(url: str) -> tuple[str | None, str | None]:
    """``(host, path)`` of a URL as the prober records them: ``host[:port]`` (the port only when
    it is not the scheme's default) and the path with its query, secrets masked."""
    try:
        p = urlsplit(url)
    except ValueError:
        return None, None
    try:
        port = p.port
    except ValueError:  # not a number: keep the host alone
        port = None
    host = p.hostname
    if host is not None:
        host = f"[{host}]" if ":" in host else host
        if port is not None and port != _DEFAULT_PORTS.get(p.scheme.lower()):
            host = f"{host}:{port}"
    if not p.scheme and not p.netloc:
        return None, redact_path(url) if url else None
    return host, redact_path((p.path or "/") + (f"?{p.query}" if p.query else ""))


def url_columns(urls: Sequence[str | None]) -> tuple[pa.Array, pa.Array]:
    """The ``host`` and ``path`` columns of URLs (see :func:`url_parts`), each distinct URL parsed once."""
    enc = pa.array(urls, pa.string()).dictionary_encode()
    parts = [url_parts(u) for u in enc.dictionary.to_pylist()]
    hosts = pa.array([h for h, _ in parts], pa.string())
    paths = pa.array([p for _, p in parts], pa.string())
    return hosts.take(enc.indices), paths.take(enc.indices)


def each_distinct(values: Sequence[str | None], fn: Callable[[str], str | None]) -> pa.Array:
    """``fn`` of every value as a string column, computed once per distinct value (null stays null)."""
    enc = pa.array(values, pa.string()).dictionary_encode()
    return pa.array([fn(v) for v in enc.dictionary.to_pylist()], pa.string()).take(enc.indices)


def epoch_ns(path: Path, texts: Sequence[str], where: Callable[[int], str]) -> np.ndarray:
    """ISO 8601 times with a zone offset (``Z``, ``+02:00``) as epoch nanoseconds, parsed in bulk.

    ``where(i)`` names the place of the i-th time in the file for the error message.
    """
    target = pa.timestamp("ns", tz="UTC")
    try:
        arr = pa.array(texts, pa.string()).cast(target)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        for i, t in enumerate(texts):
            try:
                pa.array([t], pa.string()).cast(target)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                raise bad(path, f"{where(i)}: {t!r} is not an ISO 8601 time with a zone offset") from None
        raise
    return np.asarray(arr.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


class Bodies:
    """Digest and redacted sample of response bodies, as the prober records them.

    ``body_hash`` is the hex of the 8-byte BLAKE2b digest of the whole body; ``body_sample`` its
    first :data:`~tracehound.probe.records.SAMPLE_BYTES` bytes, decoded and redacted. Small bodies
    repeat, so their results are cached.
    """

    CACHE_ENTRIES = 4096
    CACHE_BODY_BYTES = 2048

    def __init__(self) -> None:
        self.hashes: list[str | None] = []
        self.samples: list[str | None] = []
        self._cache: dict[bytes, tuple[str, str]] = {}

    def add(self, body: bytes | None) -> None:
        """Append one row: an empty or absent body is null (the file does not show it)."""
        if not body:
            self.hashes.append(None)
            self.samples.append(None)
            return
        hit = self._cache.get(body)
        if hit is None:
            hit = (body_digest([body]).hex(), redact_text(body[:SAMPLE_BYTES].decode("utf-8", "replace")))
            if len(body) <= self.CACHE_BODY_BYTES and len(self._cache) < self.CACHE_ENTRIES:
                self._cache[body] = hit
        self.hashes.append(hit[0])
        self.samples.append(hit[1])


def target_of(urls: Sequence[str | None], methods: Sequence[str | None]) -> dict[str, Any]:
    """``run.json``'s target: the distinct URLs (redacted), and the URL and method when there is one."""
    distinct = [u for u in dict.fromkeys(urls) if u]
    target: dict[str, Any] = {}
    if distinct:
        target["urls"] = [redact_url(u) for u in distinct[:TARGET_URLS]]
        target["distinct_urls"] = len(distinct)
    if len(distinct) == 1:
        target["url"] = redact_url(distinct[0])
    ms = [m for m in dict.fromkeys(methods) if m]
    if len(ms) == 1:
        target["method"] = ms[0]
    return target
