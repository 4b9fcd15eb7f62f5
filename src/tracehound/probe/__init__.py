"""The prober: controlled HTTP load that records every request, failures exactly like successes.

>>> from tracehound.probe import LoadShape, ProbeConfig, Target, probe
>>> run = probe(ProbeConfig(LoadShape(concurrency=8, requests=1000), Target("http://127.0.0.1:8000/")))
>>> run.table.num_rows
1000
"""

from tracehound.probe.config import ProbeConfig
from tracehound.probe.progress import Progress
from tracehound.probe.records import DEFAULT_HEADERS, ERROR_KINDS, RecordBuffer, is_cancelled, is_failure, schema
from tracehound.probe.run import Run
from tracehound.probe.runner import probe
from tracehound.probe.shapes import LoadShape, Stage, parse_duration, parse_stages
from tracehound.probe.summary import Summary, summarize
from tracehound.probe.target import Target

__all__ = [
    "DEFAULT_HEADERS",
    "ERROR_KINDS",
    "LoadShape",
    "ProbeConfig",
    "Progress",
    "RecordBuffer",
    "Run",
    "Stage",
    "Summary",
    "Target",
    "is_cancelled",
    "is_failure",
    "parse_duration",
    "parse_stages",
    "probe",
    "schema",
    "summarize",
]
