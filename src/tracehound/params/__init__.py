"""Parameters from data: pools of values (a CSV or JSON-lines file, an inline list, a range) that fill a
flow's variables, drawn in order, at random (seeded) or each virtual user its own.

:mod:`.pool` reads pools, :mod:`.declare` reads what a flow or the command line declares and checks it
against the variables the flow uses, :mod:`.draw` draws rows while a run sends.
"""

from tracehound.params.declare import INLINE_PREFIX, bind, describe_columns, flow_pools, inline_pools, param_pool
from tracehound.params.draw import Drawer, Draws
from tracehound.params.pool import DRAWS, MAX_ROWS, Pool, file_pool, list_pool, range_pool, text

__all__ = [
    "DRAWS",
    "INLINE_PREFIX",
    "MAX_ROWS",
    "Drawer",
    "Draws",
    "Pool",
    "bind",
    "describe_columns",
    "file_pool",
    "flow_pools",
    "inline_pools",
    "list_pool",
    "param_pool",
    "range_pool",
    "text",
]
