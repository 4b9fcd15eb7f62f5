"""The log analyst: reads service logs, mines templates, matches failure signatures, aligns with runs.

>>> from tracehound.logs import analyze_logs
>>> report = analyze_logs(["app.log", "nginx-error.log.gz"], runs=[run])    # doctest: +SKIP
>>> [(o.name, round(o.strength, 2)) for o in report.observations]           # doctest: +SKIP
[('log:pool_checkout_timeout', 1.0)]

Formats (detected per file): plain text, JSON lines, logfmt; uvicorn, gunicorn, nginx access and
error logs, PostgreSQL, Redis; gzip of any. The signature table is data: ``signatures.yaml``.
"""

from tracehound.logs.analyzer import analyze_logs, parse_bound
from tracehound.logs.report import (
    FileReport,
    LogReport,
    Observation,
    SignatureHit,
    TemplateReport,
)
from tracehound.logs.signatures import Signature, Table, default_table, load_table
from tracehound.logs.timestamps import parse_zone

__all__ = [
    "FileReport",
    "LogReport",
    "Observation",
    "Signature",
    "SignatureHit",
    "Table",
    "TemplateReport",
    "analyze_logs",
    "default_table",
    "load_table",
    "parse_bound",
    "parse_zone",
]
