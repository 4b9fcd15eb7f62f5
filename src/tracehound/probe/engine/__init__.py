"""The load engine: an asyncio protocol per connection (httptools parser, uvloop loop).

The hot path has no coroutine per request: a virtual user's next request is written from the
previous response's ``on_message_complete`` callback, and each completed request is appended to
the :class:`RecordBuffer` columns in place. Flows, which need captures, run as one coroutine per
virtual user on top of the same connections. Timeouts are enforced by one sweeper task rather
than a timer per request.

One module per noun: :mod:`.spec` (a request ready to send), :mod:`.head` (the fast response-head
parser), :mod:`.connection` (:class:`Conn`), :mod:`.core` (:class:`Engine`, one process's run) and
the drivers: :mod:`.closed_model`, :mod:`.open_model`, :mod:`.flow`, and :mod:`.varying` (one request
whose values vary with data, sent from the closed model's callbacks).
"""

from tracehound.probe.engine.closed_model import ClosedController, ClosedVU, VirtualUser
from tracehound.probe.engine.connection import (
    NO_OWNER,
    REUSE_RETRY_IDLE_NS,
    Conn,
    ConnectFailure,
    Owner,
    classify_connect_error,
    perf_ns,
)
from tracehound.probe.engine.core import Engine
from tracehound.probe.engine.flow import FlowPool, FlowVU
from tracehound.probe.engine.head import HEAD_CACHE_SIZE, RESPONSE_CACHE_SIZE, HeadInfo, parse_head
from tracehound.probe.engine.open_model import OpenDispatcher
from tracehound.probe.engine.spec import Spec
from tracehound.probe.engine.varying import RequestPlan, VaryingVU

__all__ = [
    "HEAD_CACHE_SIZE",
    "NO_OWNER",
    "RESPONSE_CACHE_SIZE",
    "REUSE_RETRY_IDLE_NS",
    "ClosedController",
    "ClosedVU",
    "Conn",
    "ConnectFailure",
    "Engine",
    "FlowPool",
    "FlowVU",
    "HeadInfo",
    "OpenDispatcher",
    "Owner",
    "RequestPlan",
    "Spec",
    "VaryingVU",
    "VirtualUser",
    "classify_connect_error",
    "parse_head",
    "perf_ns",
]
