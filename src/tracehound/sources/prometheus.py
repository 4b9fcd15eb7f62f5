"""Reading a Prometheus server's stored series (``/api/v1/query_range``) over a window, for services already scraped.

The series are the ones :mod:`tracehound.sources.metric_roles` recognises; each step becomes one
:class:`~tracehound.sources.metrics.Scrape`, as if the endpoint had been scraped then.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.parse
from typing import Any

from tracehound.errors import BadSource, SourceUnreachable
from tracehound.redact import redact_url
from tracehound.sources.metric_roles import RoleValue, add_pair, add_value, fold_cpu, is_histogram, metric_role, unit
from tracehound.sources.metrics import MetricsInfo, Scrape, split_url
from tracehound.sources.sampler import FailedSample, Recording, Sample, one_line

#: Prometheus refuses more points than this per series.
MAX_POINTS = 11_000


def query_prometheus(url: str, since_ns: int, until_ns: int, step_s: float = 1.0,
                     timeout_s: float = 10.0) -> Recording[Scrape, MetricsInfo]:
    """The series the metrics analysis reads, from a Prometheus server over [since, until], as a recording.

    It lists the server's metric names (``/api/v1/label/__name__/values``), keeps those a role
    matches, and fetches each with ``/api/v1/query_range`` (histograms through their ``_sum`` and
    ``_count``). Each step becomes one sample, as if scraped then. Errors raise :class:`BadSource`
    or :class:`SourceUnreachable`.
    """
    if until_ns <= since_ns:
        raise BadSource("--until must be after --since")
    if (until_ns - since_ns) / 1e9 / step_s > MAX_POINTS:
        step_s = (until_ns - since_ns) / 1e9 / MAX_POINTS
    scheme, host, port, base = split_url(url)
    api = _PrometheusApi(scheme, host, port, base.rstrip("/"), timeout_s, url)
    names = api.get("/api/v1/label/__name__/values", {})
    if not isinstance(names, list):
        raise BadSource(f"{redact_url(url)} is not a Prometheus server: its label API gave no list of names")
    wanted: dict[str, tuple[str, str]] = {}  # query → (role, family name)
    for name in sorted(set(map(str, names))):
        for fam, kind, query in _candidates(name):
            role = metric_role(fam, kind)
            if role is not None:
                wanted[query] = (role, fam)
    steps: dict[int, dict[str, RoleValue]] = {}
    roles: dict[str, set[str]] = {}
    params = {"start": f"{since_ns / 1e9:.3f}", "end": f"{until_ns / 1e9:.3f}", "step": f"{step_s:g}"}
    for query, (role, fam) in wanted.items():
        result = api.get("/api/v1/query_range", {"query": query, **params})
        scale = unit(fam)
        for series in result.get("result", []) if isinstance(result, dict) else []:
            for ts, value in series.get("values", []):
                v = float(value)
                if not math.isfinite(v):
                    continue
                at = steps.setdefault(int(round(float(ts) * 1e9)), {})
                if not is_histogram(role):
                    add_value(at, role, v * scale)
                elif query.endswith("_count"):
                    add_pair(at, role, 0.0, v)
                else:
                    add_pair(at, role, v * scale, 0.0)
        roles.setdefault(role, set()).add(fam)
    samples: list[Sample[Scrape] | FailedSample] = []
    for t, values in sorted(steps.items()):
        fold_cpu(values)
        samples.append(Sample(t, "prometheus", Scrape(values)))
    info = MetricsInfo(redact_url(url), {r: tuple(sorted(n)) for r, n in roles.items()}, len(wanted), step_s)
    return Recording("Prometheus", samples, [], info)


def _candidates(name: str) -> list[tuple[str, str, str]]:
    """(family, type, query) for a metric name as Prometheus stores it (histograms as _sum/_count)."""
    if name.endswith(("_bucket", "_created")):
        return []
    if name.endswith(("_sum", "_count")):
        return [(name.rsplit("_", 1)[0], "histogram", name)]
    return [(name, "counter" if name.endswith("_total") else "gauge", name)]


class _PrometheusApi:
    def __init__(self, scheme: str, host: str, port: int, base: str, timeout_s: float, url: str) -> None:
        self.scheme, self.host, self.port, self.base = scheme, host, port, base
        self.timeout_s, self.url = timeout_s, url

    def get(self, path: str, params: dict[str, str]) -> Any:
        """The ``data`` of a successful API answer (JSON, so of any shape)."""
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout_s)
        where = redact_url(self.url)
        try:
            conn.request("GET", self.base + path + ("?" + urllib.parse.urlencode(params) if params else ""),
                         headers={"Accept": "application/json", "User-Agent": "tracehound-metrics"})
            resp = conn.getresponse()
            body = resp.read(64 * 2**20)
        except (OSError, http.client.HTTPException) as e:
            raise SourceUnreachable(f"cannot query Prometheus at {where}: {one_line(e)}",
                                    hint="is the server running and reachable?") from None
        finally:
            conn.close()
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            raise BadSource(f"{where} is not a Prometheus server: {path} answered HTTP {resp.status} "
                            "without JSON") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            err = doc.get("error") if isinstance(doc, dict) else None
            raise BadSource(f"Prometheus at {where} refused {path}: {err or f'HTTP {resp.status}'}")
        return doc.get("data")


__all__ = ["MAX_POINTS", "query_prometheus"]
