"""Pure, vectorised analysis over request records: NumPy and Arrow columns in, small dataclasses out.

One module per analysis: :mod:`outcome` (what counts as a failure), :mod:`distribution`,
:mod:`plateau`, :mod:`temporal` (bursts, onset, trend), :mod:`periodicity`, :mod:`load`,
:mod:`connections`, :mod:`content`, :mod:`contrast`; :mod:`frame` turns a record table into the
columns they share, :mod:`stats` holds the tests, :mod:`synthetic` builds record tables with a
known structure for tests and benchmarks. No I/O, no global state, no per-record Python loop.
"""

from tracehound.analysis.connections import (
    ConnectionStructure,
    GapEffect,
    connection_structure,
    gap_effect,
)
from tracehound.analysis.content import BodyAnomaly, content_anomalies, shape_of
from tracehound.analysis.contrast import Attribute, ContrastItem, attributes, contrast
from tracehound.analysis.distribution import Distribution, Percentiles, distribution
from tracehound.analysis.frame import Frame, RunInfo, concat
from tracehound.analysis.load import (
    LoadDependence,
    Sequential,
    Throughput,
    load_dependence,
    sequential,
    throughput,
)
from tracehound.analysis.outcome import cancelled, failed, failed_mask
from tracehound.analysis.periodicity import Periodicity, periodicity
from tracehound.analysis.plateau import Plateau, plateaus
from tracehound.analysis.temporal import (
    Dispersion,
    Onset,
    Trend,
    dispersion,
    onset,
    trend,
)

__all__ = [
    "Attribute", "BodyAnomaly", "ConnectionStructure", "ContrastItem", "Dispersion", "Distribution", "Frame",
    "GapEffect", "LoadDependence", "Onset", "Percentiles", "Periodicity", "Plateau", "RunInfo", "Sequential",
    "Throughput", "Trend", "attributes", "cancelled", "concat", "connection_structure", "content_anomalies",
    "contrast", "dispersion", "distribution", "failed", "failed_mask", "gap_effect", "load_dependence", "onset",
    "periodicity", "plateaus", "sequential", "shape_of", "throughput", "trend",
]
