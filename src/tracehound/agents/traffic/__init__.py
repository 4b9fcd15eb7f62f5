"""The traffic agent and the traffic analysis: how the recorded requests failed, as signals.

:func:`analyze` reads runs (a probe's, the experiments', a HAR's or an access log's import) and
runs one section per question (:mod:`.outcome`, :mod:`.latency`, :mod:`.server_timing`,
:mod:`.load`, :mod:`.time_structure`, :mod:`.connections`, :mod:`.contrast`, :mod:`.parameters`,
:mod:`.content`, :mod:`.delay`, :mod:`.knee`, :mod:`.variants`,
:mod:`.canary`) over a shared :class:`~.context.Context`; :func:`traffic_agent` is
the agent an investigation runs.
"""

from tracehound.agents.traffic.agent import traffic_agent
from tracehound.agents.traffic.analysis import TrafficAnalysis, analyze, analyze_runs
from tracehound.agents.traffic.signals import NAME, SERVER_TIMING_SIGNALS, SIGNALS, STATUS_SIGNALS

__all__ = ["NAME", "SERVER_TIMING_SIGNALS", "SIGNALS", "STATUS_SIGNALS", "TrafficAnalysis", "analyze", "analyze_runs",
           "traffic_agent"]
